/** @jsxImportSource hono/jsx */
/**
 * The API reference at /docs, rendered on the server from the OpenAPI document the app serves at
 * /v1/openapi.json: a table of contents, then each tag's operations (method, path, operationId,
 * parameters, request body, answers), then every component schema once. Each operation's anchor is
 * its operationId. No script: a renderer such as Redoc needs inline styles and eval, which the
 * console's CSP refuses.
 */
import type { Child } from 'hono/jsx';
import type { OpenApiDocument } from '../../http/openapi';
import { Json, Kv } from '../layout';
import { obj, Prose, refName, SchemaView, schemaAnchor } from '../schema';
import { Table } from '../table';

type Operation = OpenApiDocument['paths'][string][string];
type Parameter = Operation['parameters'][number];

interface Entry {
  method: string;
  path: string;
  op: Operation;
}

const tagAnchor = (tag: string) => `tag-${tag}`;

/** The operations by tag, in the order of the document's tags (any other tag after them). */
function byTag(doc: OpenApiDocument): [string, Entry[]][] {
  const groups = new Map<string, Entry[]>(doc.tags.map((t) => [t.name, []]));
  for (const [path, item] of Object.entries(doc.paths))
    for (const [method, op] of Object.entries(item)) {
      const tag = op.tags[0] ?? 'other';
      if (!groups.has(tag)) groups.set(tag, []);
      groups.get(tag)!.push({ method, path, op });
    }
  return [...groups].filter(([, entries]) => entries.length);
}

function Method(p: { method: string }) {
  return <span class={`method ${p.method}`}>{p.method.toUpperCase()}</span>;
}

function Parameters(p: { params: Parameter[] }) {
  if (!p.params.length) return null;
  return (
    <>
      <h4>Parameters</h4>
      <Table
        columns={[
          { head: 'name', cell: (q) => <code>{q.name}</code> },
          { head: 'in', cell: (q) => q.in },
          { head: 'schema', cell: (q) => <SchemaView schema={{ ...q.schema, description: undefined }} /> },
          {
            head: 'description',
            cell: (q) => <Prose text={typeof q.description === 'string' ? q.description : undefined} />,
          },
        ]}
        rows={p.params}
        row={(q) => ({ 'data-param': q.name })}
        empty="None."
      />
    </>
  );
}

/** One answer: a success with its schema expanded, or a shared error answer with its example. */
function Answer(p: { doc: OpenApiDocument; status: string; answer: unknown }) {
  const ref = obj(p.answer)?.$ref;
  const name = typeof ref === 'string' ? ref.split('/').pop() : undefined;
  const answer = obj(name ? p.doc.components.responses[name] : p.answer);
  const media = obj(obj(answer?.content)?.['application/json']);
  const schemaName = refName(String(obj(media?.schema)?.$ref ?? ''));
  const resolve = (n: string) => p.doc.components.schemas[n];
  const error = p.status.startsWith('4');
  return (
    <li class={error ? 'answer error-answer' : 'answer'} data-status={p.status}>
      <strong>{p.status}</strong> <Prose text={String(answer?.description ?? '')} />
      {error ? (
        <>
          {' '}
          (<a href={`#${schemaAnchor(schemaName)}`}>{schemaName}</a>)
          {media?.example !== undefined && (
            <details class="example">
              <summary>example</summary>
              <Json value={media.example} />
            </details>
          )}
        </>
      ) : (
        media && <SchemaView schema={media.schema} resolve={resolve} />
      )}
    </li>
  );
}

function OperationView(p: { doc: OpenApiDocument; entry: Entry }) {
  const { op, method, path } = p.entry;
  const body = op.requestBody;
  const answers = Object.entries(op.responses);
  return (
    <article class="op card" id={op.operationId} data-operation-id={op.operationId}>
      <h3>
        <Method method={method} /> <code>{path}</code>{' '}
        <a class="anchor" href={`#${op.operationId}`} title="link to this operation">
          #
        </a>
      </h3>
      <p>
        <Prose text={op.description} />
      </p>
      <Kv
        rows={[
          ['operationId', <code>{op.operationId}</code>],
          ['access', op['x-encompass-access']],
        ]}
      />
      <Parameters params={op.parameters} />
      {body && (
        <>
          <h4>Request body{body.required ? '' : ' (optional)'}</h4>
          <p class="muted">{Object.keys(body.content).join(', ')}</p>
          <SchemaView schema={Object.values(body.content)[0]?.schema} />
        </>
      )}
      <h4>Answers</h4>
      <ul class="answers">
        {answers.map(([status, answer]) => (
          <Answer doc={p.doc} status={status} answer={answer} />
        ))}
      </ul>
    </article>
  );
}

function Contents(p: { groups: [string, Entry[]][]; describe: (tag: string) => string | undefined }) {
  return (
    <nav class="toc card" aria-label="Contents">
      <h2>Contents</h2>
      <ul>
        {p.groups.map(([tag, entries]) => (
          <li>
            <a href={`#${tagAnchor(tag)}`}>{tag}</a>{' '}
            <span class="muted">
              <Prose text={p.describe(tag)} />
            </span>
            <ul>
              {entries.map(({ method, path, op }) => (
                <li>
                  <a href={`#${op.operationId}`}>
                    <Method method={method} /> <code>{path}</code>
                  </a>{' '}
                  <span class="muted">{op.summary}</span>
                </li>
              ))}
            </ul>
          </li>
        ))}
        <li>
          <a href="#schemas">Schemas</a>
        </li>
      </ul>
    </nav>
  );
}

/** The reference's content (the page shell around it is the console's). */
export function ApiReference(p: { doc: OpenApiDocument }): Child {
  const { doc } = p;
  const groups = byTag(doc);
  const describe = (tag: string) => doc.tags.find((t) => t.name === tag)?.description;
  return (
    <div class="docs">
      <p>
        <Prose text={doc.info.description} />
      </p>
      <p>
        Version {doc.info.version}. The same in machine-readable form: <a href="/v1/openapi.json">/v1/openapi.json</a>{' '}
        (OpenAPI {doc.openapi}). The web console: <a href="/">/</a>.
      </p>
      <Contents groups={groups} describe={describe} />
      {groups.map(([tag, entries]) => (
        <section class="tag" id={tagAnchor(tag)}>
          <h2>{tag}</h2>
          <p>
            <Prose text={describe(tag)} />
          </p>
          {entries.map((entry) => (
            <OperationView doc={doc} entry={entry} />
          ))}
        </section>
      ))}
      <section id="schemas">
        <h2>Schemas</h2>
        {Object.entries(doc.components.schemas).map(([name, schema]) => (
          <article class="card component" id={schemaAnchor(name)}>
            <h3>{name}</h3>
            <SchemaView schema={schema} />
          </article>
        ))}
      </section>
    </div>
  );
}
