/** Headless Chromium (Debian's) driven by playwright-core, for the console's browser tests. */
import { existsSync } from 'node:fs';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Starts Chromium; without the background-networking flags it reaches for the internet at every start. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
  });
}

/**
 * Collects what a page reports as wrong: uncaught errors, console errors and warnings (a CSP
 * violation is a console error, and a `securitypolicyviolation` event, recorded here too).
 */
export function watchProblems(page: Page, problems: string[]): void {
  page.on('pageerror', (e) => problems.push(`pageerror on ${page.url()}: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning')
      problems.push(`console ${m.type()} on ${page.url()}: ${m.text()}`);
  });
  void page.addInitScript(() =>
    document.addEventListener('securitypolicyviolation', (e) =>
      console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`),
    ),
  );
}

export interface PixelStats {
  width: number;
  height: number;
  /** Distinct colours among the sampled pixels. */
  colours: number;
  /** Variance of the pixels' luminance (0 for a blank image). */
  variance: number;
}

/** Decodes a PNG in a blank page of `context` (no CSP there) and measures how much its pixels differ. */
export async function pixelStats(context: BrowserContext, png: Buffer): Promise<PixelStats> {
  const page = await context.newPage();
  try {
    return await page.evaluate(
      async (dataUrl) => {
        const img = new Image();
        img.src = dataUrl;
        await img.decode();
        const canvas = document.createElement('canvas');
        canvas.width = img.width;
        canvas.height = img.height;
        const g = canvas.getContext('2d')!;
        g.drawImage(img, 0, 0);
        const { data } = g.getImageData(0, 0, img.width, img.height);
        const colours = new Set<number>();
        let sum = 0;
        let sumSq = 0;
        let n = 0;
        for (let i = 0; i < data.length; i += 4 * 7) {
          colours.add((data[i]! << 16) | (data[i + 1]! << 8) | data[i + 2]!);
          const y = 0.299 * data[i]! + 0.587 * data[i + 1]! + 0.114 * data[i + 2]!;
          sum += y;
          sumSq += y * y;
          n++;
        }
        const mean = sum / n;
        return { width: img.width, height: img.height, colours: colours.size, variance: sumSq / n - mean * mean };
      },
      `data:image/png;base64,${png.toString('base64')}`,
    );
  } finally {
    await page.close();
  }
}
