/**
 * The console's session: the bearer token itself, in a cookie that is HttpOnly (no script reads it),
 * SameSite=Strict (no other site's page sends it), Path=/, and Secure where the request came over
 * TLS. The functions keep no session store, so the token is the session: every request authenticates
 * it as an API call does, and revoking the token ends the session at once. A POST is also refused
 * unless its Origin is the console's own (CSRF, beside SameSite).
 */
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { ForbiddenOriginError } from './errors';

export const SESSION_COOKIE = 'encompass_session';
/** A browser session's longest life; the token may end it sooner (revoked). */
const MAX_AGE_SECONDS = 12 * 3600;

/** Whether the browser reached us over TLS: directly, or through a proxy that says so (API Gateway, a load balancer). */
export function overTls(c: Context): boolean {
  return new URL(c.req.url).protocol === 'https:' || c.req.header('x-forwarded-proto') === 'https';
}

/** The origin the browser sees: the proxy's scheme and host where there is one. */
export function publicOrigin(c: Context): string {
  const url = new URL(c.req.url);
  const proto = c.req.header('x-forwarded-proto') ?? url.protocol.replace(/:$/, '');
  return `${proto}://${c.req.header('x-forwarded-host') ?? c.req.header('host') ?? url.host}`;
}

export const sessionToken = (c: Context) => getCookie(c, SESSION_COOKIE);

export function startSession(c: Context, token: string): void {
  setCookie(c, SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: 'Strict',
    secure: overTls(c),
    path: '/',
    maxAge: MAX_AGE_SECONDS,
  });
}

export function endSession(c: Context): void {
  deleteCookie(c, SESSION_COOKIE, { path: '/', secure: overTls(c) });
}

/** Refuses a state-changing request whose Origin (or, lacking one, Sec-Fetch-Site) is not this console. */
export function checkOrigin(c: Context): void {
  const origin = c.req.header('origin');
  if (origin) {
    if (origin !== publicOrigin(c)) throw new ForbiddenOriginError(origin);
    return;
  }
  if (c.req.header('sec-fetch-site') !== 'same-origin') throw new ForbiddenOriginError('(none)');
}
