/**
 * The web console in a real browser (headless Chromium): the README's walkthrough done through its
 * forms (register a machine, import, clone, assign with a hostname, attach, activate, capture), a
 * deployment followed live, the API's own error messages, every page free of console errors and CSP
 * violations, a viewer who sees no action, the session cookie and the CSRF check, and screenshots
 * that show what they should.
 */
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Api } from '../support/api';
import { launchChromium, pixelStats, watchProblems } from '../support/browser';
import { makeMachine, makeRepository, unique } from '../support/fixtures';
import { baseFiles, debugfsCat, hostnameItems, makeExt4 } from '../support/images';

const api = Api.admin();
const { url } = inject('stack');

describe('the web console', () => {
  let browser: Browser;
  let admin: BrowserContext;
  let page: Page;
  const problems: string[] = [];
  let repo: { dir: string; repo: { name: string } };
  const master = unique('web');
  const clone = unique('web');
  const machine = unique('blade');
  const hostname = unique('host');

  /** Opens a console page, checks its answer carries the strict CSP, and notes it was visited. */
  async function open(p: Page, path: string) {
    const res = await p.goto(`${url}${path}`);
    expect(res?.status(), `${path}: ${await res?.text()}`).toBe(200);
    const csp = res!.headers()['content-security-policy'] ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).not.toContain('unsafe');
  }

  async function logIn(context: BrowserContext, token: string) {
    const p = await context.newPage();
    watchProblems(p, problems);
    await p.goto(`${url}/masters`);
    expect(new URL(p.url()).pathname).toBe('/login');
    await p.fill('input[name=token]', token);
    await Promise.all([p.waitForURL(`${url}/`), p.click('button[type=submit]')]);
    return p;
  }

  /** Unfolds the action `label` (when it has fields), fills `fields` (form names), submits, and returns the answer's element. */
  async function act(p: Page, label: string, fields: Record<string, string> = {}, result = '.result') {
    const box = p.locator('.action-box', { has: p.locator(`form[data-action="${label}"]`) });
    const summary = box.locator('summary');
    if (await summary.count()) await summary.click();
    for (const [name, value] of Object.entries(fields)) {
      const input = box.locator(`[name="${name}"]`);
      if ((await input.evaluate((e) => e.tagName)) === 'SELECT') await input.selectOption(value);
      else await input.fill(value);
    }
    const answer = result === '.result' ? box.locator('.result') : p.locator(result);
    // The answer of an earlier action there goes first, so only this one's is waited for.
    await answer.evaluate((e) => e.replaceChildren());
    await box.locator('button[type=submit]').click();
    await answer.locator('.operation[data-status]:not([data-status=running]), .error, .notice').first().waitFor();
    return answer;
  }

  /** Runs a lifecycle event from the clone's page and waits for the state section to read `state` (attribute selectors). */
  async function event(name: string, state: string, fields: Record<string, string> = {}) {
    const answer = await act(page, name, fields, '#event-result');
    await expect(answer.locator('.operation').getAttribute('data-status')).resolves.toBe('succeeded');
    await page.locator(`#clone-state${state}`).waitFor();
  }

  beforeAll(async () => {
    browser = await launchChromium();
    admin = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    repo = await makeRepository(api);
    await makeExt4(join(repo.dir, 'masters/web.img'), baseFiles, 64);
    page = await logIn(admin, inject('stack').adminToken);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  it('keeps the token in an HttpOnly, SameSite=Strict cookie that scripts cannot read', async () => {
    const [cookie] = await admin.cookies(url);
    expect(cookie).toMatchObject({ name: 'encompass_session', httpOnly: true, sameSite: 'Strict', secure: false });
    expect(await page.evaluate(() => document.cookie)).toBe('');
  });

  it('walks the README walkthrough through its forms', async () => {
    await open(page, '/machines');
    let answer = await act(page, 'Register a machine', {
      'name:text': machine,
      'site:text': 'local',
      'kind:text': 'sim',
      'cpus:number': '4',
      'memoryMiB:number': '8192',
    });
    await expect(answer.textContent()).resolves.toContain('Done (201)');

    await open(page, '/masters');
    answer = await act(page, 'Import a master', {
      'name:text': master,
      'repository:text': repo.repo.name,
      'path:text': 'masters/web.img',
      'profile.service:text': 'web server',
      'requirements.minCpus:number': '2',
      'customization:json': JSON.stringify(hostnameItems),
    });
    await expect(answer.locator('.operation').getAttribute('data-status')).resolves.toBe('succeeded');
    await answer.locator('a.resource').click();
    await page.waitForURL(/\/masters\/ms-/);

    answer = await act(page, 'Clone it', { 'name:text': clone });
    await expect(answer.locator('.operation').getAttribute('data-status')).resolves.toBe('succeeded');
    await answer.locator('a.resource').click();
    await page.waitForURL(/\/clones\/cl-/);
    const state = page.locator('#clone-state');
    await expect(state.getAttribute('data-binding')).resolves.toBe('unassigned');

    await event('assign', '[data-binding=assigned]', {
      'machine:text': machine,
      'customization.variables:map': `hostname=${hostname}`,
    });
    await expect(page.locator('#clone-state').textContent()).resolves.toContain(machine);
    const record = (await api.get(`/v1/clones/${clone}`)).body;
    expect(await debugfsCat(join(repo.dir, record.path), '/etc/hosts')).toContain(`127.0.1.1 ${hostname}`);

    await event('attach', '[data-binding=attached]');
    await event('activate', '[data-binding=active][data-metastate=operational]');
    // Only the events the API allows now are offered, and the diagram marks the state.
    await expect(
      state.locator('form[data-action]').evaluateAll((fs) => fs.map((f) => f.getAttribute('data-action'))),
    ).resolves.toEqual(['deactivate', 'reconfigure']);
    await expect(
      state.locator('svg g.node.current').evaluateAll((gs) => gs.map((g) => g.getAttribute('data-state'))),
    ).resolves.toEqual(['active', 'operational']);

    const shot = await page.screenshot({ fullPage: true });
    await expect(state.textContent()).resolves.toContain('operational and active');
    const stats = await pixelStats(admin, shot);
    expect(stats.width).toBe(1280);
    expect(stats.colours).toBeGreaterThan(20);
    expect(stats.variance).toBeGreaterThan(100);

    await event('deactivate', '[data-binding=attached]');
    await event('detach', '[data-binding=assigned]');
    await event('unassign', '[data-binding=unassigned]');
    await event('reconfigure', '[data-metastate=maintenance]');
    await event('capture', '[data-status=captured]');

    await open(page, '/masters');
    const v2 = page.locator(
      `li[data-master="${master}"][data-version="1"] li[data-master="${master}"][data-version="2"]`,
    );
    await expect(v2.textContent()).resolves.toContain(`captured from clone`);
  });

  it('shows the API’s own error message for a value the API refuses', async () => {
    const other = unique('web');
    expect((await api.run('/v1/clones', { master: `${master}@1`, name: other })).status).toBe('succeeded');
    await open(page, `/clones/${other}`);
    const answer = await act(page, 'rollback', { 'to:number': 'two' }, '#event-result');
    const direct = await api.post(`/v1/clones/${other}/rollback`, { to: 'two' });
    expect(direct.status).toBe(400);
    await expect(answer.locator('.error').textContent()).resolves.toContain(direct.body.error.message);
  });

  it('follows a deployment live, without reloading the page', async () => {
    const machines = [await makeMachine(api), await makeMachine(api)];
    await open(page, '/deployments');
    const progress: string[] = [];
    page.on('request', (r) => {
      if (/\/operations\/[^/]+\/progress$/.test(new URL(r.url()).pathname)) progress.push(r.url());
    });
    await page.evaluate(() => {
      (window as unknown as { stayed: boolean }).stayed = true;
    });
    const answer = await act(page, 'New deployment', {
      'master:text': `${master}@1`,
      'machines:list': machines.map((m) => m.name).join('\n'),
      'variables:map': 'hostname=dep-${index}',
    });
    await expect(answer.locator('.operation').getAttribute('data-status')).resolves.toBe('succeeded');
    expect(progress.length).toBeGreaterThan(0);
    expect(await page.evaluate(() => (window as unknown as { stayed?: boolean }).stayed)).toBe(true);
    await answer.locator('a.resource').click();
    await page.waitForURL(/\/deployments\//);
    await expect(
      page.locator('#members tr[data-member]').evaluateAll((rs) => rs.map((r) => r.getAttribute('data-outcome'))),
    ).resolves.toEqual(['succeeded', 'succeeded']);
  });

  it('opens every page without a console error or a CSP violation', async () => {
    const op = (await api.get('/v1/operations?limit=1')).body.items[0];
    for (const path of [
      '/',
      '/masters',
      '/clones',
      '/machines',
      `/machines/${machine}`,
      '/deployments',
      '/operations',
      `/operations/${op.id}`,
      '/audit',
      '/conflicts',
      '/docs',
      `/clones/${clone}`,
    ]) {
      await open(page, path);
    }
    expect(await page.locator('main h1').count()).toBe(1);
    // A table with no rows says so: the captured version has no clone yet.
    await open(page, `/masters/${master}@2`);
    await expect(page.locator('main table tr.empty').textContent()).resolves.toBe('No clones of this version.');
    expect(problems).toEqual([]);
  });

  it('shows a viewer no action, and the API refuses one sent anyway', async () => {
    const token = (await api.post('/v1/tokens', { role: 'viewer', label: 'console test' })).body.token;
    const viewer = await browser.newContext();
    try {
      const p = await logIn(viewer, token);
      for (const path of ['/masters', '/clones', `/clones/${clone}`, '/machines', '/deployments', '/conflicts']) {
        await p.goto(`${url}${path}`);
        await expect(p.locator('main button, main form').count()).resolves.toBe(0);
        await expect(p.locator('header button').allTextContents()).resolves.toEqual(['Log out']);
      }
      const shot = await p.screenshot();
      expect((await pixelStats(viewer, shot)).variance).toBeGreaterThan(100);
      await expect(p.locator('header .who').textContent()).resolves.toContain('viewer');
      const answer = await p.evaluate(async () => {
        const body = new URLSearchParams({
          _method: 'post',
          _path: '/v1/clones',
          'master:text': 'x',
          'name:text': 'y',
        });
        return (await fetch('/act', { method: 'POST', body })).text();
      });
      expect(answer).toContain('a viewer token cannot do this');
      expect(problems).toEqual([]);
    } finally {
      await viewer.close();
    }
  });

  it('refuses a form posted from another origin, and logs out', async () => {
    const [cookie] = await admin.cookies(url);
    const res = await fetch(`${url}/act`, {
      method: 'POST',
      headers: {
        cookie: `encompass_session=${cookie!.value}`,
        origin: 'http://evil.example',
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: `_method=post&_path=/v1/clones/${clone}/destroy`,
    });
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('forbidden_origin');
    await open(page, '/');
    await Promise.all([page.waitForURL(`${url}/login`), page.click('header button')]);
    expect(await admin.cookies(url)).toEqual([]);
    await page.goto(`${url}/clones`);
    expect(new URL(page.url()).pathname).toBe('/login');
  });
});
