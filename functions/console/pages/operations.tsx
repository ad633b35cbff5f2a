/** @jsxImportSource hono/jsx */
/** Operations with their progress and steps, followed live while they run; the audit trail. */
import type { AuditEntry, Operation } from '../../store/records';
import { OperationProgress, PROGRESS_WAIT_SECONDS } from '../actions';
import type { List, PageCtx } from '../context';
import { Badge, Kv, Page, when } from '../layout';
import { resourceHref } from '../links';

const LIST = 100;

export async function operationsPage(ctx: PageCtx) {
  const { items } = await ctx.api.read<List<Operation>>(`/v1/operations?limit=${LIST}`);
  return (
    <Page title="Operations" viewer={ctx.viewer} here="/operations">
      <table>
        <thead>
          <tr>
            <th>operation</th>
            <th>kind</th>
            <th>resource</th>
            <th>status</th>
            <th>progress</th>
            <th>started</th>
            <th>by</th>
          </tr>
        </thead>
        <tbody>
          {items.map((op) => (
            <tr data-operation={op.id} data-status={op.status}>
              <td>
                <a href={`/operations/${op.id}`}>{op.id}</a>
              </td>
              <td>{op.kind}</td>
              <td>
                {op.resource.kind} {op.resource.name}
              </td>
              <td>
                <Badge value={op.status} />
              </td>
              <td>
                <progress max="1" value={String(op.status === 'succeeded' ? 1 : op.progress)} />
              </td>
              <td>{when(op.createdAt)}</td>
              <td>{op.actor}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Page>
  );
}

export const readOperation = (ctx: PageCtx, id: string, wait?: number) =>
  ctx.api.read<Operation>(`/v1/operations/${encodeURIComponent(id)}${wait ? `?wait=${wait}` : ''}`);

/** The progress of a running operation, answered when it ends or after a few seconds, whichever comes first. */
export const progressFragment = (ctx: PageCtx, id: string) => readOperation(ctx, id, PROGRESS_WAIT_SECONDS);

export async function operationPage(ctx: PageCtx, id: string) {
  const op = await readOperation(ctx, id);
  const href = resourceHref(op);
  return (
    <Page title={`Operation ${op.id}`} viewer={ctx.viewer} here="/operations">
      <section class="card">
        <Kv
          rows={[
            ['kind', op.kind],
            [
              'resource',
              href ? (
                <a href={href}>
                  {op.resource.kind} {op.resource.name}
                </a>
              ) : (
                `${op.resource.kind} ${op.resource.name}`
              ),
            ],
            ['site', op.site],
            ['parent', op.parent && <a href={`/operations/${op.parent}`}>{op.parent}</a>],
            ['by', op.actor],
            ['started', when(op.createdAt)],
            ['updated', when(op.updatedAt)],
          ]}
        />
      </section>
      <OperationProgress op={op} />
    </Page>
  );
}

export async function auditPage(ctx: PageCtx) {
  const { items } = await ctx.api.read<List<AuditEntry>>(`/v1/audit?limit=${LIST}`);
  return (
    <Page title="Audit trail" viewer={ctx.viewer} here="/audit">
      <table>
        <thead>
          <tr>
            <th>when</th>
            <th>who</th>
            <th>action</th>
            <th>resource</th>
            <th>outcome</th>
            <th>detail</th>
          </tr>
        </thead>
        <tbody>
          {items.map((a) => (
            <tr data-action={a.action}>
              <td>{when(a.at)}</td>
              <td>{a.actor}</td>
              <td>{a.action}</td>
              <td>
                {a.resource.kind} {a.resource.name ?? a.resource.id}
              </td>
              <td>
                <Badge value={a.outcome} />
                {a.operation && (
                  <>
                    {' '}
                    <a href={`/operations/${a.operation}`}>operation</a>
                  </>
                )}
              </td>
              <td>{a.detail}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Page>
  );
}
