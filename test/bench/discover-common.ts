/**
 * What bench:discover's parts share: a figure (one measured quantity with every run's value), how
 * ours and the peer take turns, how the figures are printed, and the cleanups still owed.
 */
import { median } from './load';

export interface Figure {
  /** What ratios name it by. */
  key: string;
  /** What was measured, as the table says it. */
  what: string;
  unit: 's' | 'ms';
  /** Every run's value, in `unit`. */
  runs: number[];
}

export interface Ratio {
  what: string;
  /** The keys of the figures whose medians are divided: [numerator, denominator]. */
  of: [string, string];
}

export const stats = (f: Figure) => ({ median: median(f.runs), min: Math.min(...f.runs), max: Math.max(...f.runs) });

/**
 * Runs `ours` and `peer` `runs` times each, alternating which goes first (the first of a pair can
 * pay for what the other left behind: a page cache to refill, a simulator still answering), after
 * one untimed round of each (binaries and files into the page cache, code compiled).
 */
export async function alternate(
  runs: number,
  ours: () => Promise<void>,
  peer: () => Promise<void>,
  after: (run: number) => void,
  warmUp?: () => Promise<void>,
): Promise<void> {
  await warmUp?.();
  for (let r = 1; r <= runs; r++) {
    for (const step of r % 2 ? [ours, peer] : [peer, ours]) await step();
    after(r);
  }
}

function table(header: string[], rows: string[][]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

const num = (x: number, unit: Figure['unit']) =>
  unit === 's' ? x.toFixed(3) : x < 1 ? x.toFixed(3) : x < 100 ? x.toFixed(1) : x.toFixed(0);

/** The median of `of[0]` over the median of `of[1]`. */
export function ratioOf(r: Ratio, figures: readonly Figure[]): number {
  const [a, b] = r.of.map((k) => {
    const f = figures.find((x) => x.key === k);
    if (!f) throw new Error(`no figure ${k}`);
    return stats(f).median;
  });
  return a! / b!;
}

export function figureTable(figures: readonly Figure[]): string {
  return table(
    ['figure', 'unit', 'median', 'min', 'max', 'runs'],
    figures.map((f) => {
      const s = stats(f);
      return [f.what, f.unit, num(s.median, f.unit), num(s.min, f.unit), num(s.max, f.unit), String(f.runs.length)];
    }),
  );
}

export function ratioTable(ratios: readonly Ratio[], figures: readonly Figure[]): string {
  return table(
    ['ratio (of medians)', 'value'],
    ratios.map((r) => {
      const x = ratioOf(r, figures);
      return [r.what, `${x >= 100 ? x.toFixed(0) : x >= 0.1 ? x.toFixed(2) : x.toPrecision(2)}x`];
    }),
  );
}

/** Cleanups still owed (a blade to stop, a temp dir to remove), so a signal or a failure runs them too. */
export class Owed {
  private readonly pending = new Set<() => Promise<void>>();

  /** Remembers `cleanup` until the returned function runs it. */
  add(cleanup: () => Promise<void>): () => Promise<void> {
    const once = async () => {
      if (!this.pending.delete(once)) return;
      await cleanup();
    };
    this.pending.add(once);
    return once;
  }

  /** Runs every cleanup still owed, all of them even when some fail. */
  async all(): Promise<void> {
    await Promise.allSettled([...this.pending].map((c) => c()));
  }
}
