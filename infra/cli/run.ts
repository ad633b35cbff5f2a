/** What every command shares: the client, where output goes, whether to wait, and the ways answers are shown. */
import type { Client, Json } from './client';
import { OperationFailedError } from './errors';
import { type Column, fields, type Out, table } from './output';
import { type Display, follow } from './progress';

export interface Ctx {
  client: Client;
  out: Out;
  /** Wait for an operation a command starts (the default), or answer once it is accepted. */
  wait: boolean;
  display: Display;
}

/** Prints an answer: as JSON with `--json`, else as `render` shows it. */
export function show(ctx: Ctx, answer: Json, render: (a: Json) => string = fields): void {
  ctx.out.print(ctx.out.json ? JSON.stringify(answer, null, 2) : render(answer));
}

/** A list answer (`{items, cursor?}`) as a table; a next page is pointed to on stderr. */
export function showList(ctx: Ctx, answer: Json, columns: Column[]): void {
  if (ctx.out.json) {
    show(ctx, answer);
    return;
  }
  const items = (answer.items ?? []) as Json[];
  ctx.out.print(items.length ? table(items, columns) : '(none)');
  if (answer.cursor) ctx.out.note(`more: add --cursor ${answer.cursor} (or --all)`);
}

const resourceOf = (op: Json) =>
  op.resource ? `${op.resource.kind ?? ''} ${op.resource.name ?? ''} (${op.resource.id ?? '-'})`.trim() : undefined;

/** The ended operation, a field a line. */
export function operationSummary(op: Json): string {
  const timing = op.timing ?? {};
  const from = Date.parse(timing.acceptedAt ?? op.createdAt);
  const to = Date.parse(op.updatedAt);
  return fields({
    operation: op.id,
    kind: op.kind,
    status: op.status,
    resource: resourceOf(op),
    ...(Number.isFinite(from) && Number.isFinite(to) && op.status !== 'running'
      ? { took: `${((to - from) / 1000).toFixed(1)} s` }
      : {}),
    ...(op.result !== undefined ? { result: op.result } : {}),
    ...(op.error ? { error: `${op.error.code}: ${op.error.message}` } : {}),
  });
}

/**
 * An answer that started an operation (`{operation, …}`): followed to its end unless `--no-wait`.
 * Waiting, it prints the final operation and fails with OperationFailedError unless it succeeded;
 * not waiting, it prints the answer and how to follow it.
 */
export async function accepted(ctx: Ctx, answer: Json): Promise<Json> {
  if (!ctx.wait || typeof answer.operation !== 'string') {
    show(ctx, answer);
    if (!ctx.out.json && answer.operation) ctx.out.note(`follow it with: encompass ops wait ${answer.operation}`);
    return answer;
  }
  return waitFor(ctx, answer.operation);
}

/** Follows operation `id` to its end and prints it. */
export async function waitFor(ctx: Ctx, id: string): Promise<Json> {
  const op = await follow(ctx.client, id, ctx.display);
  show(ctx, op, operationSummary);
  if (op.status !== 'succeeded') throw new OperationFailedError(op as never);
  return op;
}

/** Prints an answer of a change: an operation to follow, or the record it answered. */
export async function answered(ctx: Ctx, answer: { status: number; body: Json }): Promise<void> {
  if (answer.status === 202) await accepted(ctx, answer.body);
  else show(ctx, answer.body);
}
