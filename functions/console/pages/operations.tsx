/** @jsxImportSource hono/jsx */
/** Operations with their progress and steps, followed live while they run; the audit trail. */
import type { AuditEntry, Operation } from '../../store/records';
import { OperationProgress, PROGRESS_WAIT_SECONDS } from '../actions';
import type { List, PageCtx } from '../context';
import { Badge, Kv, Page, when } from '../layout';
import { resourceHref } from '../links';
import { Table } from '../table';

const LIST = 100;

export async function operationsPage(ctx: PageCtx) {
  const { items } = await ctx.api.read<List<Operation>>(`/v1/operations?limit=${LIST}`);
  return (
    <Page title="Operations" viewer={ctx.viewer} here="/operations">
      <Table
        columns={[
          { head: 'operation', cell: (op) => <a href={`/operations/${op.id}`}>{op.id}</a> },
          { head: 'kind', cell: (op) => op.kind },
          {
            head: 'resource',
            cell: (op) => (
              <>
                {op.resource.kind} {op.resource.name}
              </>
            ),
          },
          { head: 'status', cell: (op) => <Badge value={op.status} /> },
          {
            head: 'progress',
            cell: (op) => <progress max="1" value={String(op.status === 'succeeded' ? 1 : op.progress)} />,
          },
          { head: 'started', cell: (op) => when(op.createdAt) },
          { head: 'by', cell: (op) => op.actor },
        ]}
        rows={items}
        row={(op) => ({ 'data-operation': op.id, 'data-status': op.status })}
        empty="No operations yet."
      />
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
      <Table
        columns={[
          { head: 'when', cell: (a) => when(a.at) },
          { head: 'who', cell: (a) => a.actor },
          { head: 'action', cell: (a) => a.action },
          {
            head: 'resource',
            cell: (a) => (
              <>
                {a.resource.kind} {a.resource.name ?? a.resource.id}
              </>
            ),
          },
          {
            head: 'outcome',
            cell: (a) => (
              <>
                <Badge value={a.outcome} />
                {a.operation && (
                  <>
                    {' '}
                    <a href={`/operations/${a.operation}`}>operation</a>
                  </>
                )}
              </>
            ),
          },
          { head: 'detail', cell: (a) => a.detail },
        ]}
        rows={items}
        row={(a) => ({ 'data-action': a.action })}
        empty="Nothing audited yet."
      />
    </Page>
  );
}
