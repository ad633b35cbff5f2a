/** @jsxImportSource hono/jsx */
/** The page shell (head, navigation, log out) and the small pieces every page uses. */
import type { Child } from 'hono/jsx';
import type { Role } from '../store/records';
import { HTMX_PATH, STYLESHEET_PATH } from './assets';

/**
 * htmx without eval (the CSP has no 'unsafe-eval'), without the <style> it would inject (no
 * 'unsafe-inline'), and without running scripts that come in a response.
 */
const HTMX_CONFIG = JSON.stringify({
  allowEval: false,
  includeIndicatorStyles: false,
  allowScriptTags: false,
  historyCacheSize: 0,
});

const NAV = [
  ['/', 'Overview'],
  ['/masters', 'Masters'],
  ['/clones', 'Clones'],
  ['/machines', 'Machines'],
  ['/deployments', 'Deployments'],
  ['/operations', 'Operations'],
  ['/audit', 'Audit'],
  ['/conflicts', 'Conflicts'],
  ['/docs', 'API reference'],
] as const;

export interface Viewer {
  role: Role;
  tokenId: string;
}

/** Whether the viewer may use actions at all (the API decides each one anyway). */
export const canAct = (v: Viewer | undefined) => v?.role === 'operator' || v?.role === 'admin';

export function Page(p: { title: string; viewer?: Viewer; here?: string; children?: Child }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="htmx-config" content={HTMX_CONFIG} />
        <title>{`${p.title} · ENCOMPASS`}</title>
        <link rel="stylesheet" href={STYLESHEET_PATH} />
        <script src={HTMX_PATH} defer />
      </head>
      <body>
        <header>
          <span class="brand">ENCOMPASS</span>
          {p.viewer &&
            NAV.map(([href, label]) => (
              <a href={href} class={p.here === href ? 'here' : undefined}>
                {label}
              </a>
            ))}
          {p.viewer && (
            <>
              <span class="who">
                {p.viewer.role} · {p.viewer.tokenId}
              </span>
              <form method="post" action="/logout">
                <button type="submit" class="secondary">
                  Log out
                </button>
              </form>
            </>
          )}
        </header>
        <main>
          <h1>{p.title}</h1>
          {p.children}
        </main>
      </body>
    </html>
  );
}

export function Badge(p: { value: string | undefined }) {
  return p.value ? <span class={`badge ${p.value}`}>{p.value}</span> : <span class="muted">—</span>;
}

export function ErrorBox(p: { message: string; code?: string }) {
  return (
    <div class="error" role="alert">
      {p.code && <strong>{p.code}: </strong>}
      {p.message}
    </div>
  );
}

export function Json(p: { value: unknown }) {
  return <pre>{JSON.stringify(p.value, null, 2)}</pre>;
}

export function Kv(p: { rows: [string, Child][] }) {
  return (
    <dl class="kv">
      {p.rows.map(([k, v]) => (
        <>
          <dt>{k}</dt>
          <dd>{v ?? <span class="muted">—</span>}</dd>
        </>
      ))}
    </dl>
  );
}

/** A link to a record page by id, showing its name. */
export function Ref(p: { kind: string; id?: string; name?: string }) {
  if (!p.id) return <span class="muted">—</span>;
  return <a href={`/${p.kind}/${encodeURIComponent(p.id)}`}>{p.name ?? p.id}</a>;
}

export const when = (iso: string | undefined) => (iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '—');
