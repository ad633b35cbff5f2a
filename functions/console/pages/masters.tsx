/** @jsxImportSource hono/jsx */
/** Masters: every version as a lineage tree (parent, source clone), and one master's profile, requirements and template. */
import type { masterView } from '../../actions/views';
import type { Master } from '../../store/records';
import { ApiForm } from '../actions';
import type { List, PageCtx } from '../context';
import { PAGE } from '../context';
import { Badge, canAct, Json, Kv, Page, Ref } from '../layout';
import { Table } from '../table';

type MasterView = Awaited<ReturnType<typeof masterView>>;

function Tree(p: { all: Master[]; parent?: string }) {
  const level = p.all.filter((m) =>
    p.parent ? m.parent === p.parent : !m.parent || !p.all.some((x) => x.id === m.parent),
  );
  if (!level.length) return null;
  return (
    <ul class="tree">
      {level.map((m) => (
        <li data-master={m.name} data-version={m.version}>
          <Ref kind="masters" id={m.id} name={`${m.name}@${m.version}`} /> <Badge value={m.status} />
          {m.sourceClone && (
            <span class="muted">
              {' '}
              captured from clone <Ref kind="clones" id={m.sourceClone} />
            </span>
          )}
          {m.importedFrom && <span class="muted"> imported from site {m.importedFrom.site}</span>}
          <Tree all={p.all} parent={m.id} />
        </li>
      ))}
    </ul>
  );
}

export async function mastersPage(ctx: PageCtx) {
  const { items } = await ctx.api.read<List<Master>>(`/v1/masters?limit=${PAGE}`);
  const sorted = [...items].sort((a, b) => a.name.localeCompare(b.name) || a.version - b.version);
  return (
    <Page title="Masters" viewer={ctx.viewer} here="/masters">
      <section class="card">
        <h2>Lineage</h2>
        {sorted.length ? <Tree all={sorted} /> : <p class="muted">No masters yet.</p>}
      </section>
      {canAct(ctx.viewer) && (
        <ApiForm label="Import a master" method="post" path="/v1/masters" schema={ctx.schema('post', '/v1/masters')} />
      )}
    </Page>
  );
}

export async function masterPage(ctx: PageCtx, id: string) {
  const m = await ctx.api.read<MasterView>(`/v1/masters/${encodeURIComponent(id)}`);
  return (
    <Page title={`Master ${m.name}@${m.version}`} viewer={ctx.viewer} here="/masters">
      <section class="card">
        <Kv
          rows={[
            ['id', m.id],
            ['status', <Badge value={m.status} />],
            ['repository', m.repository],
            ['path', <code>{m.path}</code>],
            ['format', m.format],
            [
              'size',
              m.sizeBytes !== undefined ? `${m.sizeBytes} bytes (${m.allocatedBytes ?? '?'} allocated)` : undefined,
            ],
            ['sha256', m.sha256 && <code>{m.sha256}</code>],
            ['parent', <Ref kind="masters" id={m.parent} />],
            ['source clone', <Ref kind="clones" id={m.sourceClone} />],
            [
              'next versions',
              m.children.length
                ? m.children.map((c) => <Ref kind="masters" id={c.id} name={`${c.name}@${c.version} `} />)
                : undefined,
            ],
          ]}
        />
      </section>
      <section class="card">
        <h2>Profile</h2>
        <Json value={m.profile} />
        <h2>Requirements</h2>
        <Json value={m.requirements} />
        <h2>Customization template</h2>
        <ol class="items">
          {m.customization.map((item) => (
            <li>
              <Json value={item} />
            </li>
          ))}
        </ol>
      </section>
      <section class="card">
        <h2>Clones</h2>
        <Table
          columns={[
            { head: 'clone', cell: (c) => <Ref kind="clones" id={c.id} name={c.name} /> },
            { head: 'status', cell: (c) => <Badge value={c.status} /> },
            { head: 'metastate', cell: (c) => c.metastate },
            { head: 'binding', cell: (c) => c.binding },
          ]}
          rows={m.clones}
          empty="No clones of this version."
        />
      </section>
      {canAct(ctx.viewer) && (
        <div class="actions">
          <ApiForm
            label="Clone it"
            method="post"
            path="/v1/clones"
            schema={ctx.schema('post', '/v1/clones')}
            values={{ master: m.id }}
          />
          <ApiForm
            label="Change profile, requirements, template"
            method="patch"
            path={`/v1/masters/${m.id}`}
            schema={ctx.schema('patch', '/v1/masters/{id}')}
            values={m as unknown as Record<string, unknown>}
            hide={['name', 'repository', 'path', 'status', 'version', 'parent', 'sourceClone']}
          />
        </div>
      )}
    </Page>
  );
}
