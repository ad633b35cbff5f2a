/**
 * The API reference at /docs: public like the OpenAPI document it is rendered from, under the
 * console's strict CSP, showing every operation of that document with its anchor, and linked from
 * the console's navigation and from the API's 404 message.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Api } from '../support/api';
import { launchChromium, pixelStats, watchProblems } from '../support/browser';

const api = Api.admin();
const { url, adminToken } = inject('stack');

/** Every operationId of the stack's own OpenAPI document. */
async function operationIds(): Promise<string[]> {
  const doc = (await api.as(undefined).get('/v1/openapi.json')).body;
  return Object.values(doc.paths as Record<string, Record<string, { operationId: string }>>).flatMap((item) =>
    Object.values(item).map((op) => op.operationId),
  );
}

describe('the API reference page', () => {
  it('answers 200 text/html with the strict CSP, without a token', async () => {
    const res = await fetch(`${url}/docs`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).not.toContain('unsafe');
    const text = await res.text();
    expect(text).toContain('id="createClone"');
    expect(text).not.toMatch(/<script(?![^>]*\bsrc=)/);
    expect(text).not.toMatch(/\sstyle=/);
  });

  it('is where the API’s 404 message points, and that page answers', async () => {
    const missing = await api.get('/v1/no-such-thing');
    expect(missing.status).toBe(404);
    expect(missing.body.error.message).toContain('/docs');
    expect(missing.body.error.docs).toBe('/docs');
    expect((await fetch(`${url}${missing.body.error.docs}`)).status).toBe(200);
  });

  describe('in a browser', () => {
    let browser: Browser;
    let context: BrowserContext;
    let page: Page;
    const problems: string[] = [];

    beforeAll(async () => {
      browser = await launchChromium();
      context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      page = await context.newPage();
      watchProblems(page, problems);
    }, 60_000);

    afterAll(async () => {
      await browser?.close();
    });

    it('shows every operation of the OpenAPI document, each with its anchor, and no problem', async () => {
      await page.goto(`${url}/docs`);
      const expected = await operationIds();
      expect(expected.length).toBeGreaterThan(50);
      const shown = await page
        .locator('article.op[data-operation-id]')
        .evaluateAll((as) => as.map((a) => [a.id, a.getAttribute('data-operation-id'), a.textContent ?? '']));
      expect(shown.map(([id]) => id).sort()).toEqual([...expected].sort());
      for (const [id, , content] of shown) expect(content, id!).toContain(id);
      // The table of contents links every operation.
      const toc = await page.locator('nav.toc a[href^="#"]').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
      for (const id of expected) expect(toc).toContain(`#${id}`);
      expect(problems).toEqual([]);
    });

    it('shows an operation’s parameters, body fields and answers, following $ref to the components', async () => {
      const assign = page.locator('article#assignClone');
      await expect(assign.locator('tr[data-param="id"]').textContent()).resolves.toContain('an id or a name');
      await expect(assign.locator('code.field', { hasText: /^machine$/ }).count()).resolves.toBe(1);
      await expect(assign.locator('li.answer[data-status="202"] a[href="#schema-Accepted"]').count()).resolves.toBe(1);
      await expect(assign.locator('li.answer[data-status="409"]').textContent()).resolves.toContain(
        'invalid_transition',
      );
      // A list answer expands its component, whose items link to the item's component.
      const list = page.locator('article#listClones li.answer[data-status="200"]');
      await expect(list.locator('a[href="#schema-Clone"]').count()).resolves.toBeGreaterThan(0);
      await expect(page.locator('article#listClones tr[data-param="binding"]').textContent()).resolves.toContain(
        '"assigned"',
      );
      await expect(page.locator('article#schema-Clone code.field', { hasText: /^metastate$/ }).count()).resolves.toBe(
        1,
      );
    });

    it('follows an anchor link from the contents to its operation', async () => {
      await page.locator('nav.toc a[href="#getClone"]').click();
      expect(new URL(page.url()).hash).toBe('#getClone');
      const target = page.locator('article#getClone');
      await expect(target.evaluate((e) => e.matches(':target'))).resolves.toBe(true);
      await expect(target.isVisible()).resolves.toBe(true);
      const top = await target.evaluate((e) => e.getBoundingClientRect().top);
      expect(top).toBeGreaterThanOrEqual(0);
      expect(top).toBeLessThan(100);
      const shot = await page.screenshot();
      const stats = await pixelStats(context, shot);
      expect(stats.width).toBe(1280);
      expect(stats.colours).toBeGreaterThan(20);
      expect(stats.variance).toBeGreaterThan(100);
      expect(problems).toEqual([]);
    });

    it('is linked from the navigation of a logged-in console session, which it keeps', async () => {
      const p = await context.newPage();
      watchProblems(p, problems);
      await p.goto(`${url}/login`);
      await p.fill('input[name=token]', adminToken);
      await Promise.all([p.waitForURL(`${url}/`), p.click('button[type=submit]')]);
      await Promise.all([p.waitForURL(`${url}/docs`), p.click('header a[href="/docs"]')]);
      await expect(p.locator('header a.here').textContent()).resolves.toBe('API reference');
      await expect(p.locator('header .who').textContent()).resolves.toContain('admin');
      await expect(p.locator('main h1').textContent()).resolves.toBe('API reference');
      expect(problems).toEqual([]);
    });
  });
});
