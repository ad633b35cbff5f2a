/** @jsxImportSource hono/jsx */
/**
 * Clones: the lifecycle diagram with the clone's state, the events allowed now (the API's own
 * `events` of the clone) as forms made from each event's body schema, and the customization pointer.
 */

import type { LifecycleEvent } from '../../../statemachines/lifecycle';
import type { cloneView } from '../../actions/views';
import { eventEntries } from '../../events';
import { ApiForm, CHANGED_EVENT } from '../actions';
import type { List, PageCtx } from '../context';
import { PAGE } from '../context';
import { Badge, canAct, ErrorBox, Json, Kv, Page, Ref, when } from '../layout';
import { LifecycleDiagrams } from '../lifecycle';
import { Table } from '../table';

type CloneView = ReturnType<typeof cloneView>;

export async function clonesPage(ctx: PageCtx) {
  const { items } = await ctx.api.read<List<CloneView>>(`/v1/clones?limit=${PAGE}`);
  return (
    <Page title="Clones" viewer={ctx.viewer} here="/clones">
      <Table
        columns={[
          { head: 'clone', cell: (c) => <Ref kind="clones" id={c.id} name={c.name} /> },
          { head: 'master', cell: (c) => <Ref kind="masters" id={c.master} /> },
          { head: 'status', cell: (c) => <Badge value={c.status} /> },
          { head: 'metastate', cell: (c) => c.metastate },
          { head: 'binding', cell: (c) => c.binding },
          { head: 'machine', cell: (c) => <Ref kind="machines" id={c.machine} /> },
          { head: 'method', cell: (c) => c.method },
        ]}
        rows={items}
        row={(c) => ({ 'data-clone': c.name })}
        empty="No clones yet."
      />
      {canAct(ctx.viewer) && (
        <ApiForm label="Clone a master" method="post" path="/v1/clones" schema={ctx.schema('post', '/v1/clones')} />
      )}
    </Page>
  );
}

/** The part of a clone's page that changes with its state; it reads itself again when an operation on the page ends. */
export function CloneState(p: { ctx: PageCtx; clone: CloneView; machineName?: string }) {
  const { clone: c } = p;
  return (
    <section
      id="clone-state"
      class="card"
      data-metastate={c.metastate}
      data-binding={c.binding}
      data-status={c.status}
      hx-get={`/clones/${c.id}/state`}
      hx-trigger={`${CHANGED_EVENT} from:body`}
      hx-swap="outerHTML"
    >
      <h2>
        State: {c.status === 'ready' ? `${c.metastate} and ${c.binding}` : c.status}
        {c.lock && (
          <span class="muted">
            {' '}
            (busy with <a href={`/operations/${c.lock}`}>{c.lock}</a>)
          </span>
        )}
      </h2>
      <Kv
        rows={[
          ['machine', <Ref kind="machines" id={c.machine} name={p.machineName} />],
          ['boots', String(c.bootCount)],
        ]}
      />
      <LifecycleDiagrams metastate={c.metastate} binding={c.binding} status={c.status} allowed={c.events} />
      {c.lastError && (
        <ErrorBox
          code={c.lastError.code}
          message={`last failed transition (${when(c.lastError.at)}): ${c.lastError.message}`}
        />
      )}
      {canAct(p.ctx.viewer) &&
        (c.events.length ? (
          <div class="actions events">
            {c.events.map((e: LifecycleEvent) => (
              <ApiForm
                label={e}
                method="post"
                path={`/v1/clones/${c.id}/${e}`}
                schema={eventEntries[e].body}
                target="#event-result"
              />
            ))}
          </div>
        ) : (
          <p class="muted">No event is allowed now.</p>
        ))}
      <h2>Customization</h2>
      <Kv
        rows={[
          ['applied', `${c.customization.applied} of ${c.customization.total} (${c.customization.pending} pending)`],
          ['variables', c.customization.variables && <Json value={c.customization.variables} />],
        ]}
      />
      <ol class="items">
        {c.template.map((item, i) => (
          <li class={i < c.customization.applied ? 'applied' : 'pending'}>
            <span class="muted">{i < c.customization.applied ? 'applied' : 'pending'}</span>
            <Json value={item} />
          </li>
        ))}
      </ol>
      {c.customization.total > c.template.length && (
        <p class="muted">
          and {c.customization.total - c.template.length} item(s) added for this clone (kept in its customization
          document)
        </p>
      )}
    </section>
  );
}

export const readClone = (ctx: PageCtx, id: string) => ctx.api.read<CloneView>(`/v1/clones/${encodeURIComponent(id)}`);

/** The clone's state section, with the name of the machine it is bound to. */
export async function cloneStateOf(ctx: PageCtx, id: string) {
  const clone = await readClone(ctx, id);
  const machine = clone.machine
    ? await ctx.api.call<{ name?: string }>('GET', `/v1/machines/${clone.machine}`)
    : undefined;
  return <CloneState ctx={ctx} clone={clone} machineName={machine?.body?.name} />;
}

export async function clonePage(ctx: PageCtx, id: string) {
  const [c, state] = await Promise.all([readClone(ctx, id), cloneStateOf(ctx, id)]);
  return (
    <Page title={`Clone ${c.name}`} viewer={ctx.viewer} here="/clones">
      <section class="card">
        <Kv
          rows={[
            ['id', c.id],
            ['master', <Ref kind="masters" id={c.master} />],
            ['lineage', c.lineage?.join(' → ')],
            ['repository', c.repository],
            ['path', <code>{c.path}</code>],
            ['method', c.method],
            ['captured as', <Ref kind="masters" id={c.capturedAs} />],
          ]}
        />
      </section>
      <div id="event-result" class="result" aria-live="polite" />
      {state}
    </Page>
  );
}
