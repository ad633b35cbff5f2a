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
      <table>
        <thead>
          <tr>
            <th>#</th>
            <th>machine</th>
            <th>clone</th>
            <th>step</th>
            <th>attempts</th>
            <th>outcome</th>
            <th>error</th>
          </tr>
        </thead>
        <tbody>
          {members.map((m) => (
            <tr data-member={m.index} data-step={m.step} data-outcome={m.outcome ?? ''}>
              <td>{d.staging && m === d.staging ? 'staging' : String(m.index)}</td>
              <td>
                <Ref kind="machines" id={m.machine} name={m.machineName} />
              </td>
              <td>{m.cloneId ? <Ref kind="clones" id={m.cloneId} name={m.clone} /> : m.clone}</td>
              <td>
                {m.step}
                {m.operation && (
                  <>
                    {' '}
                    <a href={`/operations/${m.operation}`} class="muted">
                      operation
                    </a>
                  </>
                )}
              </td>
              <td>{String(m.attempts)}</td>
              <td>
                <Badge value={m.outcome} />
              </td>
              <td>{m.error && `${m.error.code}: ${m.error.message}`}</td>
            </tr>
          ))}
        </tbody>
      </table>
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
      <table>
        <thead>
          <tr>
            <th>deployment</th>
            <th>master</th>
            <th>status</th>
            <th>members</th>
          </tr>
        </thead>
        <tbody>
          {deployments.items.map((d) => (
            <tr>
              <td>
                <a href={`/deployments/${d.id}`}>{d.id}</a>
              </td>
              <td>{d.masterName}</td>
              <td>
                <Badge value={d.status} />
              </td>
              <td>{String(d.members.length)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Migrations, reassignments and service updates</h2>
      <table>
        <thead>
          <tr>
            <th>record</th>
            <th>latest operation</th>
            <th>status</th>
          </tr>
        </thead>
        <tbody>
          {[...others].map(([id, { path, op }]) => (
            <tr>
              <td>
                <a href={`/${path}/${id}`}>
                  {path} {id}
                </a>
              </td>
              <td>
                <a href={`/operations/${op.id}`}>{op.kind}</a>
              </td>
              <td>
                <Badge value={op.status} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
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
