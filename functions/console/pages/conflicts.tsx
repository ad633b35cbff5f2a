/** @jsxImportSource hono/jsx */
/** Discovery's conflict queue: what reconciliation could not decide, its candidates, and the resolve actions. */
import type { conflictView } from '../../discovery/resolve';
import { ApiForm } from '../actions';
import type { List, PageCtx } from '../context';
import { Badge, canAct, Json, Page, when } from '../layout';

type ConflictView = ReturnType<typeof conflictView>;

export async function conflictsPage(ctx: PageCtx, status: string) {
  const q = ['open', 'resolved', 'all'].includes(status) ? status : 'open';
  const { items } = await ctx.api.read<List<ConflictView>>(`/v1/conflicts?status=${q}`);
  return (
    <Page title="Discovery conflicts" viewer={ctx.viewer} here="/conflicts">
      <p>
        Show: <a href="/conflicts?status=open">open</a> · <a href="/conflicts?status=resolved">resolved</a> ·{' '}
        <a href="/conflicts?status=all">all</a>
      </p>
      {!items.length && <p class="muted">No {q === 'all' ? '' : q} conflicts.</p>}
      {items.map((c) => (
        <section class="card" data-conflict={c.id}>
          <h2>
            {c.id} <Badge value={c.status} /> {c.reason}
          </h2>
          <p>{c.detail}</p>
          <p class="muted">
            site {c.site}, seen {c.runs} time(s), last {when(c.lastSeen)}
          </p>
          {c.observation && (
            <details>
              <summary>Observation</summary>
              <Json value={c.observation} />
            </details>
          )}
          <h3>Candidates</h3>
          <Json value={c.candidates} />
          {c.resolution && (
            <p>
              Resolved: {c.resolution.action} {c.resolution.candidate ?? ''} by {c.resolution.by}{' '}
              {when(c.resolution.at)}
              {c.resolution.note && ` (${c.resolution.note})`}
            </p>
          )}
          {canAct(ctx.viewer) && c.status === 'open' && (
            <ApiForm
              label="Resolve"
              method="post"
              path={`/v1/conflicts/${c.id}/resolve`}
              schema={ctx.schema('post', '/v1/conflicts/{id}/resolve')}
              open
            />
          )}
        </section>
      ))}
    </Page>
  );
}
