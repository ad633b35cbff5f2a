/** @jsxImportSource hono/jsx */
/** The overview (the health of the parts and agents) and the log-in page. */
import type { health } from '../../actions/health';
import type { PageCtx } from '../context';
import { Badge, ErrorBox, Json, Page } from '../layout';

type Health = Awaited<ReturnType<typeof health>>;

export async function homePage(ctx: PageCtx) {
  const h = (await ctx.api.call<Health>('GET', '/v1/health')).body;
  return (
    <Page title="Overview" viewer={ctx.viewer} here="/">
      <section class="card">
        <h2>
          Health <Badge value={h.status} />
        </h2>
        <Json value={h.components} />
      </section>
      <p>
        Masters and their lineage, clones and their lifecycle, machines, scenarios, operations, the audit trail and
        discovery's conflicts: pick one above.
      </p>
    </Page>
  );
}

export function loginPage(p: { error?: string }) {
  return (
    <Page title="Log in">
      <section class="card login">
        <form method="post" action="/login" class="api">
          <label>
            API token
            <input type="password" name="token" autocomplete="current-password" />
          </label>
          <button type="submit">Log in</button>
        </form>
        {p.error && <ErrorBox message={p.error} />}
        <p class="muted">
          The admin token of a local stack is in <code>$ENCOMPASS_HOME/admin-token</code>; an admin makes others with{' '}
          <code>POST /v1/tokens</code>. The API reference needs no token: <a href="/docs">/docs</a>.
        </p>
      </section>
    </Page>
  );
}
