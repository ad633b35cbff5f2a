/** @jsxImportSource hono/jsx */
/** Machines: power (from the clone they carry), binding, tags, quarantine, the clones kept on standby. */
import type { cloneView, machineView } from '../../actions/views';
import { ApiForm } from '../actions';
import type { List, PageCtx } from '../context';
import { PAGE } from '../context';
import { Badge, canAct, ErrorBox, Json, Kv, Page, Ref, when } from '../layout';
import { Table } from '../table';

type MachineView = ReturnType<typeof machineView>;
type CloneView = ReturnType<typeof cloneView>;

/** A machine is on while the clone it carries is active: the lifecycle is what powers it. */
const power = (clone: CloneView | undefined) => (clone?.binding === 'active' ? 'on' : 'off');

export async function machinesPage(ctx: PageCtx) {
  const [machines, clones] = await Promise.all([
    ctx.api.read<List<MachineView>>(`/v1/machines?limit=${PAGE}`),
    ctx.api.read<List<CloneView>>(`/v1/clones?limit=${PAGE}`),
  ]);
  const byId = new Map(clones.items.map((c) => [c.id, c]));
  const cloneOf = (m: MachineView) => (m.clone ? byId.get(m.clone) : undefined);
  return (
    <Page title="Machines" viewer={ctx.viewer} here="/machines">
      <Table
        columns={[
          { head: 'machine', cell: (m) => <Ref kind="machines" id={m.id} name={m.name} /> },
          { head: 'kind', cell: (m) => m.kind },
          { head: 'state', cell: (m) => <Badge value={m.state} /> },
          { head: 'power', cell: (m) => power(cloneOf(m)) },
          {
            head: 'clone (binding)',
            cell: (m) => {
              const clone = cloneOf(m);
              return m.clone ? (
                <>
                  <Ref kind="clones" id={m.clone} name={clone?.name} /> {clone && `(${clone.binding})`}
                </>
              ) : (
                <span class="muted">—</span>
              );
            },
          },
          {
            head: 'standby',
            cell: (m) => <Ref kind="clones" id={m.standby} name={m.standby && byId.get(m.standby)?.name} />,
          },
          { head: 'tags', cell: (m) => m.tags?.join(', ') },
          {
            head: 'quarantine',
            cell: (m) => m.quarantine && `${m.quarantine.error.code} (deployment ${m.quarantine.deployment})`,
          },
        ]}
        rows={machines.items}
        row={(m) => ({ 'data-machine': m.name })}
        empty="No machines yet."
      />
      {canAct(ctx.viewer) && (
        <ApiForm
          label="Register a machine"
          method="post"
          path="/v1/machines"
          schema={ctx.schema('post', '/v1/machines')}
        />
      )}
    </Page>
  );
}

export async function machinePage(ctx: PageCtx, id: string) {
  const m = await ctx.api.read<MachineView>(`/v1/machines/${encodeURIComponent(id)}`);
  const clone = m.clone ? await ctx.api.read<CloneView>(`/v1/clones/${m.clone}`) : undefined;
  return (
    <Page title={`Machine ${m.name}`} viewer={ctx.viewer} here="/machines">
      <section class="card">
        <Kv
          rows={[
            ['id', m.id],
            ['site', m.site],
            ['kind', m.kind],
            ['state', <Badge value={m.state} />],
            ['power', power(clone)],
            [
              'clone',
              m.clone && (
                <Ref kind="clones" id={m.clone} name={clone ? `${clone.name} (${clone.binding})` : undefined} />
              ),
            ],
            ['standby', <Ref kind="clones" id={m.standby} />],
            ['cpus, memory', `${m.cpus} CPUs, ${m.memoryMiB} MiB, ${m.arch}`],
            ['tags', m.tags?.join(', ')],
            ['identity', <Json value={m.identity} />],
            ['reservation', m.reservation && <Ref kind="deployments" id={m.reservation} />],
          ]}
        />
        {m.quarantine && (
          <ErrorBox
            code={`quarantined by deployment ${m.quarantine.deployment}, member ${m.quarantine.member}`}
            message={`${m.quarantine.error.message} (${when(m.quarantine.at)})`}
          />
        )}
      </section>
      {m.history?.length ? (
        <section class="card">
          <h2>Clones it carried</h2>
          <ul>
            {m.history.map((h) => (
              <li>
                <Ref kind="clones" id={h.clone} name={h.cloneName} /> {when(h.from)} – {when(h.to)}
              </li>
            ))}
          </ul>
        </section>
      ) : null}
      {canAct(ctx.viewer) && (
        <div class="actions">
          {m.state === 'quarantined' && <ApiForm label="Release" method="post" path={`/v1/machines/${m.id}/release`} />}
          <ApiForm
            label="Change tags"
            method="patch"
            path={`/v1/machines/${m.id}`}
            schema={ctx.schema('patch', '/v1/machines/{id}')}
            values={m as unknown as Record<string, unknown>}
            hide={[
              'name',
              'site',
              'kind',
              'arch',
              'cpus',
              'memoryMiB',
              'identity',
              'settings',
              'credentials',
              'host',
              'fabrics',
            ]}
          />
        </div>
      )}
    </Page>
  );
}
