/** The console's session and its guards, through the app in-process (as the Lambda and workerd entries serve it). */
import { describe, expect, inject, it } from 'vitest';
import { createApp } from '../../../functions/app';
import { CONTENT_SECURITY_POLICY } from '../../../functions/console';
import { HTMX_PATH, STYLESHEET_PATH } from '../../../functions/console/assets';
import { Api } from '../../support/api';

const app = createApp(() => inject('stack').env);
const admin = inject('stack').adminToken;

const logIn = (base: string, token: string, headers: Record<string, string> = { origin: base }) =>
  app.request(`${base}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams({ token }).toString(),
  });

describe('the console session', () => {
  it('is the token in an HttpOnly, SameSite=Strict cookie, Secure when the request came over TLS', async () => {
    const tls = await logIn('https://console.example', admin);
    expect(tls.status).toBe(303);
    expect(tls.headers.get('location')).toBe('/');
    const cookie = tls.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^encompass_session=enc_/);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    expect(cookie).toContain('Secure');

    const proxied = await logIn('http://10.0.0.1', admin, {
      origin: 'https://console.example',
      host: 'console.example',
      'x-forwarded-proto': 'https',
    });
    expect(proxied.status).toBe(303);
    expect(proxied.headers.get('set-cookie')).toContain('Secure');

    const plain = await logIn('http://127.0.0.1:8787', admin);
    expect(plain.status).toBe(303);
    expect(plain.headers.get('set-cookie')).not.toContain('Secure');
  });

  it('refuses an unknown token and an agent token with the API’s own message', async () => {
    const unknown = await logIn('http://127.0.0.1:8787', 'enc_nosuchtoken');
    expect(unknown.status).toBe(401);
    expect(await unknown.text()).toContain('unknown or revoked token');
    const agent = (await Api.admin().post('/v1/tokens', { role: 'agent', site: 'local' })).body.token;
    const refused = await logIn('http://127.0.0.1:8787', agent);
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('it needs the viewer role');
    expect(refused.headers.get('set-cookie')).toBeNull();
  });

  it('refuses a POST from another origin, or from a client that names none', async () => {
    const foreign = await logIn('http://127.0.0.1:8787', admin, { origin: 'http://evil.example' });
    expect(foreign.status).toBe(403);
    expect(await foreign.text()).toContain('forbidden_origin');
    const none = await logIn('http://127.0.0.1:8787', admin, {});
    expect(none.status).toBe(403);
    const sameSite = await logIn('http://127.0.0.1:8787', admin, { 'sec-fetch-site': 'same-origin' });
    expect(sameSite.status).toBe(303);
  });

  it('sends a browser without a session to the log-in page (htmx requests by HX-Redirect)', async () => {
    const page = await app.request('http://127.0.0.1:8787/clones');
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('/login');
    const fragment = await app.request('http://127.0.0.1:8787/operations/op-x/progress', {
      headers: { 'hx-request': 'true' },
    });
    expect(fragment.headers.get('hx-redirect')).toBe('/login');
    const revoked = await app.request('http://127.0.0.1:8787/clones', {
      headers: { cookie: 'encompass_session=enc_gone' },
    });
    expect(revoked.headers.get('location')).toBe('/login');
    expect(revoked.headers.get('set-cookie')).toMatch(/encompass_session=;/);
  });

  it('serves its pages with the strict CSP, and htmx and the stylesheet from the bundle', async () => {
    const login = await app.request('http://127.0.0.1:8787/login');
    expect(login.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe|\*|https?:/);
    const html = await login.text();
    expect(html).toContain(`<script src="${HTMX_PATH}"`);
    expect(html).toContain('allowEval&quot;:false');
    expect(html).not.toMatch(/ style=|<style|<script>/);
    const htmx = await app.request(`http://127.0.0.1:8787${HTMX_PATH}`);
    expect(htmx.headers.get('content-type')).toContain('javascript');
    expect(await htmx.text()).toContain('version:"2.');
    const css = await app.request(`http://127.0.0.1:8787${STYLESHEET_PATH}`);
    expect(css.headers.get('content-type')).toContain('text/css');
  });

  it('answers a page of a record that does not exist with the API’s status and message', async () => {
    for (const path of ['/clones/nope', '/migrations/nope', '/service-updates/nope', '/masters/nope']) {
      const res = await app.request(`http://127.0.0.1:8787${path}`, {
        headers: { cookie: `encompass_session=${admin}` },
      });
      expect(res.status, path).toBe(404);
      expect(res.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
      expect(await res.text()).toContain('not_found');
    }
  });

  it('leaves the API as it was: /v1 answers JSON, unknown paths a JSON 404', async () => {
    const health = await app.request('http://127.0.0.1:8787/v1/health');
    expect(health.headers.get('content-type')).toContain('application/json');
    const missing = await app.request('http://127.0.0.1:8787/v1/nothing');
    expect(missing.status).toBe(404);
    expect((await missing.json()).error.code).toBe('not_found');
  });
});
