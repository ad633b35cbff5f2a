/**
 * The console's static files, bundled into the functions (htmx as text at build time, the
 * stylesheet as a string), so nothing is fetched from elsewhere and the CSP can say 'self'.
 */
import { Hono } from 'hono';
// `?raw` is how Vite (the tests) imports a file's text, `with { type: 'text' }` how esbuild (workerd, Lambda) does.
import htmx from 'htmx.org/dist/htmx.min.js?raw' with { type: 'text' };
import { stylesheet } from './style';

/** Where the pages load them from; the `v` is the htmx version, so a new bundle is never served from a stale cache. */
export const HTMX_PATH = '/assets/htmx-2.min.js';
export const STYLESHEET_PATH = '/assets/console.css';

export const assetRoutes = new Hono()
  .get(HTMX_PATH, (c) =>
    c.body(htmx, 200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'public, max-age=3600' }),
  )
  // Browsers ask for it on every site; an empty answer keeps a 404 out of their console.
  .get('/favicon.ico', (c) => c.body(null, 204, { 'cache-control': 'public, max-age=86400' }))
  .get(STYLESHEET_PATH, (c) =>
    c.body(stylesheet, 200, { 'content-type': 'text/css; charset=utf-8', 'cache-control': 'public, max-age=300' }),
  );
