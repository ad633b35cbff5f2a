/** @jsxImportSource hono/jsx */
/**
 * Actions: a form made from an API route's body schema, posted to `/act`, which passes it on to that
 * route with the session's token and shows what the API answered: its error message, the record it
 * made, or the operation it started, followed live (a long poll with `?wait=`).
 */
import type { z } from 'zod';
import type { Operation } from '../store/records';
import { type Field, fieldsOf, inputName, textOf } from './form';
import { Badge, ErrorBox, Json, when } from './layout';
import { resourceHref } from './links';

/** Where an operation's progress is polled; the answer waits up to this long for the end. */
export const PROGRESS_WAIT_SECONDS = 3;
/** Sent with the answer that shows an operation ended: parts of the page that listen read themselves again. */
export const CHANGED_EVENT = 'encompass-changed';

function Input(p: { field: Field; value: unknown }) {
  const { field } = p;
  const name = inputName(field);
  const text = textOf(field.kind, p.value);
  const label = `${field.path}${field.optional ? ' (optional)' : ''}${field.kind === 'map' ? ' — one name=value a line' : field.kind === 'list' ? ' — one a line' : field.kind === 'json' ? ' — JSON' : ''}`;
  if (field.options)
    return (
      <label>
        {label}
        <select name={name}>
          <option value="">{field.optional ? '(leave out)' : '(choose)'}</option>
          {field.options.map((o) => (
            <option value={o} selected={o === text}>
              {o}
            </option>
          ))}
        </select>
      </label>
    );
  if (field.kind === 'json' || field.kind === 'map' || field.kind === 'list')
    return (
      <label>
        {label}
        <textarea name={name} rows={field.kind === 'json' && text.length > 80 ? 8 : 3}>
          {text}
        </textarea>
      </label>
    );
  return (
    <label>
      {label}
      <input type="text" name={name} value={text} />
    </label>
  );
}

/**
 * A form for `method path`, its fields those of `schema` (the route's own body schema), less
 * `hide`, prefilled from `values`. `open` shows it unfolded.
 */
export function ApiForm(p: {
  label: string;
  method: 'post' | 'patch' | 'delete';
  path: string;
  schema?: z.ZodType;
  values?: Record<string, unknown>;
  hide?: string[];
  open?: boolean;
  /** Where the answer goes (a selector); by default the box under the form. */
  target?: string;
}) {
  const fields = fieldsOf(p.schema).filter((f) => !p.hide?.some((h) => f.path === h || f.path.startsWith(`${h}.`)));
  const valueAt = (path: string) =>
    path
      .split('.')
      .reduce<unknown>(
        (v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined),
        p.values,
      );
  const form = (
    <form
      class={fields.length ? 'api' : 'api bare'}
      hx-post="/act"
      hx-target={p.target ?? 'next .result'}
      hx-swap="innerHTML"
      data-action={p.label}
    >
      <input type="hidden" name="_method" value={p.method} />
      <input type="hidden" name="_path" value={p.path} />
      {fields.map((f) => (
        <Input field={f} value={valueAt(f.path)} />
      ))}
      <button type="submit">{p.label}</button>
    </form>
  );
  return (
    <div class="action-box">
      {fields.length ? (
        <details class="action" open={p.open}>
          <summary>{p.label}</summary>
          {form}
        </details>
      ) : (
        form
      )}
      {!p.target && <div class="result" aria-live="polite" />}
    </div>
  );
}

/** An operation's status, progress bar and steps; while it runs, it reads itself again (long poll). */
export function OperationProgress(p: { op: Operation }) {
  const { op } = p;
  const running = op.status === 'running';
  return (
    <div
      class="operation card"
      data-operation={op.id}
      data-status={op.status}
      {...(running ? { 'hx-get': `/operations/${op.id}/progress`, 'hx-trigger': 'load', 'hx-swap': 'outerHTML' } : {})}
    >
      <div>
        <a href={`/operations/${op.id}`}>{op.kind}</a> <Badge value={op.status} />{' '}
        {resourceHref(op) ? (
          <a href={resourceHref(op)} class="resource">
            {op.resource.kind} {op.resource.name}
          </a>
        ) : (
          <span>
            {op.resource.kind} {op.resource.name}
          </span>
        )}{' '}
        <progress max="1" value={String(op.status === 'succeeded' ? 1 : op.progress)} />{' '}
        <span class="muted">{Math.round((op.status === 'succeeded' ? 1 : op.progress) * 100)}%</span>
      </div>
      <ul class="steps">
        {op.steps.map((s) => (
          <li>
            {s.name} <Badge value={s.status} /> <span class="muted">{when(s.startedAt)}</span>
            {s.message && <span> — {s.message}</span>}
          </li>
        ))}
      </ul>
      {op.error && <ErrorBox code={op.error.code} message={op.error.message} />}
      {op.result && <Json value={op.result} />}
    </div>
  );
}
