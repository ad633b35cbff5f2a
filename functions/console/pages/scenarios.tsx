/** @jsxImportSource hono/jsx */
/**
 * Deployments, migrations, reassignments and service updates: one row per member (machine, clone,
 * step, attempts, outcome, error) that moves live. While the scenario runs, its members' table reads
 * itself again; each read first waits on the scenario's operation with `?wait=`, so it answers at once
 * when the phase ends and otherwise every few seconds with the members' new steps.
 */

import type { Deployment, Operation } from '../../store/records';
import { ApiForm, PROGRESS_WAIT_SECONDS } from '../actions';
import type { List, PageCtx } from '../context';
import { PAGE } from '../context';
import { Badge, canAct, Kv, Page, Ref } from '../layout';
import { SCENARIO_PATHS, type ScenarioPath, scenarioPathOfKind } from '../links';
import { Table } from '../table';

const LIVE = new Set<Deployment['status']>(['running', 'deleting']);

function Members(p: { path: ScenarioPath; d: Deployment }) {
  const { d } = p;
  const members = d.staging ? [d.staging, ...d.members] : d.members;
  const live = LIVE.has(d.status);
  return (
    <section
      id="members"
      class="card"
      data-status={d.status}
      {...(live ? { 'hx-get': `/${p.path}/${d.id}/members`, 'hx-trigger': 'load', 'hx-swap': 'outerHTML' } : {})}
    >
      <h2>
        Members <Badge value={d.status} />
      </h2>
      <Table
        columns={[
          { head: '#', cell: (m) => (d.staging && m === d.staging ? 'staging' : String(m.index)) },
          { head: 'machine', cell: (m) => <Ref kind="machines" id={m.machine} name={m.machineName} /> },
          { head: 'clone', cell: (m) => (m.cloneId ? <Ref kind="clones" id={m.cloneId} name={m.clone} /> : m.clone) },
          {
            head: 'step',
            cell: (m) => (
              <>
                {m.step}
                {m.operation && (
                  <>
                    {' '}
                    <a href={`/operations/${m.operation}`} class="muted">
                      operation
                    </a>
                  </>
                )}
              </>
            ),
          },
          { head: 'attempts', cell: (m) => String(m.attempts) },
          { head: 'outcome', cell: (m) => <Badge value={m.outcome} /> },
          { head: 'error', cell: (m) => m.error && `${m.error.code}: ${m.error.message}` },
        ]}
        rows={members}
        row={(m) => ({ 'data-member': m.index, 'data-step': m.step, 'data-outcome': m.outcome ?? '' })}
        empty="No members."
      />
    </section>
  );
}

const readScenario = (ctx: PageCtx, path: ScenarioPath, id: string) =>
  ctx.api.read<Deployment>(`/v1/${path}/${encodeURIComponent(id)}`);

/** The members' table, after waiting (bounded) for the scenario's operation to end. */
export async function membersFragment(ctx: PageCtx, path: ScenarioPath, id: string) {
  const before = await readScenario(ctx, path, id);
  if (LIVE.has(before.status))
    await ctx.api.call('GET', `/v1/operations/${before.operation}?wait=${PROGRESS_WAIT_SECONDS}`);
  const d = await readScenario(ctx, path, id);
  return { html: <Members path={path} d={d} />, ended: LIVE.has(before.status) && !LIVE.has(d.status) };
}

export async function scenarioPage(ctx: PageCtx, path: ScenarioPath, id: string) {
  const d = await readScenario(ctx, path, id);
  const su = path === 'service-updates';
  return (
    <Page title={`${d.scenario ?? 'deployment'} ${d.id}`} viewer={ctx.viewer} here="/deployments">
      <section class="card">
        <Kv
          rows={[
            ['master', <Ref kind="masters" id={d.master} name={d.masterName} />],
            ['site', d.site],
            ['repository, method', `${d.repository}, ${d.method}`],
            ['activate', String(d.activate)],
            ['failure policy', `${d.failurePolicy.onFailure} after ${d.failurePolicy.maxFailures} failure(s)`],
            ['operation', <a href={`/operations/${d.operation}`}>{d.operation}</a>],
            ['by', d.actor],
          ]}
        />
      </section>
      <Members path={path} d={d} />
      {canAct(ctx.viewer) && (
        <div class="actions">
          {path === 'deployments' && <ApiForm label="Tear down" method="delete" path={`/v1/deployments/${d.id}`} />}
          {su && <ApiForm label="Approve" method="post" path={`/v1/service-updates/${d.id}/approve`} />}
          {su && <ApiForm label="Roll back" method="post" path={`/v1/service-updates/${d.id}/rollback`} />}
          {su && <ApiForm label="Finalize" method="post" path={`/v1/service-updates/${d.id}/finalize`} />}
        </div>
      )}
    </Page>
  );
}

export async function deploymentsPage(ctx: PageCtx) {
  const [deployments, ops] = await Promise.all([
    ctx.api.read<List<Deployment>>(`/v1/deployments?limit=${PAGE}`),
    ctx.api.read<List<Operation>>(`/v1/operations?limit=${PAGE}`),
  ]);
  // Migrations, reassignments and service updates have no list of their own: their operations name them.
  const others = new Map<string, { path: ScenarioPath; op: Operation }>();
  for (const op of ops.items)
    if (
      op.resource.kind === 'deployment' &&
      scenarioPathOfKind(op.kind) !== 'deployments' &&
      !others.has(op.resource.id)
    )
      others.set(op.resource.id, { path: scenarioPathOfKind(op.kind), op });
  return (
    <Page title="Deployments, migrations and service updates" viewer={ctx.viewer} here="/deployments">
      <h2>Deployments</h2>
      <Table
        columns={[
          { head: 'deployment', cell: (d) => <a href={`/deployments/${d.id}`}>{d.id}</a> },
          { head: 'master', cell: (d) => d.masterName },
          { head: 'status', cell: (d) => <Badge value={d.status} /> },
          { head: 'members', cell: (d) => String(d.members.length) },
        ]}
        rows={deployments.items}
        empty="No deployments yet."
      />
      <h2>Migrations, reassignments and service updates</h2>
      <Table
        columns={[
          {
            head: 'record',
            cell: ([id, { path }]) => (
              <a href={`/${path}/${id}`}>
                {path} {id}
              </a>
            ),
          },
          { head: 'latest operation', cell: ([, { op }]) => <a href={`/operations/${op.id}`}>{op.kind}</a> },
          { head: 'status', cell: ([, { op }]) => <Badge value={op.status} /> },
        ]}
        rows={[...others]}
        empty="None yet."
      />
      {canAct(ctx.viewer) && (
        <div class="actions">
          {SCENARIO_PATHS.map((p) => (
            <ApiForm
              label={`New ${p.replace(/s$/, '')}`}
              method="post"
              path={`/v1/${p}`}
              schema={ctx.schema('post', `/v1/${p}`)}
            />
          ))}
        </div>
      )}
    </Page>
  );
}
