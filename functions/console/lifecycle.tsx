/** @jsxImportSource hono/jsx */
/**
 * The clone lifecycle as two SVG diagrams (binding; metastate and the end), drawn from the very
 * edges the README's diagrams are generated from (statemachines/lifecycle.ts `lifecycleDiagram`),
 * with the clone's current state filled and the events allowed now drawn bold.
 */
import { lifecycleDiagram } from '../../statemachines/lifecycle';

interface Edge {
  from: string;
  to: string;
  label: string;
  event: string;
}
interface Graph {
  nodes: string[];
  edges: Edge[];
}

/** The two graphs of the generated Mermaid text, nodes in the order they first appear. */
function graphs(): Graph[] {
  return lifecycleDiagram()
    .split('```mermaid')
    .slice(1)
    .map((block) => {
      const nodes: string[] = [];
      const edges: Edge[] = [];
      for (const line of block.split('\n')) {
        const m = line.match(/^\s+(\S+) --> (\S+): (.+)$/);
        if (!m) continue;
        const [, from, to, label] = m as unknown as [string, string, string, string];
        for (const n of [from, to]) if (n !== '[*]' && !nodes.includes(n)) nodes.push(n);
        if (from !== '[*]') edges.push({ from, to, label, event: label.split(' ')[0]! });
      }
      return { nodes, edges };
    });
}

const GAP = 150;
const BOX = { w: 104, h: 30 };
const MID = 120;

function Diagram(p: { graph: Graph; current: string; allowed: string[]; title: string }) {
  const x = (n: string) => 20 + BOX.w / 2 + p.graph.nodes.indexOf(n) * GAP;
  const width = 40 + BOX.w + (p.graph.nodes.length - 1) * GAP;
  // Self-loops of one state share one loop, labelled with all their events.
  const loops = new Map<string, Edge[]>();
  const arcs: Edge[] = [];
  for (const e of p.graph.edges) {
    if (e.from === e.to) loops.set(e.from, [...(loops.get(e.from) ?? []), e]);
    else arcs.push(e);
  }
  return (
    <svg class="lifecycle" viewBox={`0 0 ${width} ${MID * 2}`} role="img" aria-label={p.title}>
      <title>{p.title}</title>
      <defs>
        <marker
          id={`arrow-${p.title}`}
          viewBox="0 0 10 10"
          refX="9"
          refY="5"
          markerWidth="7"
          markerHeight="7"
          orient="auto"
        >
          <path d="M0,0 L10,5 L0,10 z" />
        </marker>
      </defs>
      {arcs.map((e) => {
        const x1 = x(e.from);
        const x2 = x(e.to);
        const forward = x2 > x1;
        const span = Math.abs(x2 - x1) / GAP;
        const lift = (forward ? -1 : 1) * (18 + span * 12);
        const y = MID + (forward ? -BOX.h / 2 : BOX.h / 2);
        const allowed = p.allowed.includes(e.event) && e.from === p.current;
        return (
          <g class={`edge${allowed ? ' allowed' : ''}`} data-event={e.event}>
            <path
              d={`M${x1},${y} C${x1},${y + lift * 1.3} ${x2},${y + lift * 1.3} ${x2},${y}`}
              marker-end={`url(#arrow-${p.title})`}
            />
            <text x={(x1 + x2) / 2} y={y + lift + (forward ? -4 : 6)}>
              {e.label}
            </text>
          </g>
        );
      })}
      {[...loops].map(([node, es]) => {
        const cx = x(node);
        // Below the node: no arc of the metastate graph runs there (its events all move forward).
        const y = MID + BOX.h / 2;
        const allowed = es.some((e) => p.allowed.includes(e.event)) && node === p.current;
        return (
          <g class={`edge${allowed ? ' allowed' : ''}`} data-event={es.map((e) => e.event).join(' ')}>
            <path
              d={`M${cx - 20},${y} C${cx - 30},${y + 40} ${cx + 30},${y + 40} ${cx + 20},${y}`}
              marker-end={`url(#arrow-${p.title})`}
            />
            <text x={cx} y={y + 42}>
              {es.map((e) => e.event).join(', ')}
            </text>
          </g>
        );
      })}
      {p.graph.nodes.map((n) => (
        <g class={n === p.current ? 'node current' : 'node'} data-state={n}>
          <rect x={x(n) - BOX.w / 2} y={MID - BOX.h / 2} width={BOX.w} height={BOX.h} rx="6" />
          <text x={x(n)} y={MID}>
            {n}
          </text>
        </g>
      ))}
    </svg>
  );
}

/** Both diagrams for a clone: `status` is `ready` or where it ended (captured, destroyed). */
export function LifecycleDiagrams(p: { metastate: string; binding: string; status: string; allowed: string[] }) {
  const [binding, meta] = graphs();
  const ended = p.status === 'captured' || p.status === 'destroyed';
  return (
    <div class="diagrams">
      <Diagram graph={binding!} current={ended ? p.status : p.binding} allowed={p.allowed} title="binding" />
      <Diagram graph={meta!} current={ended ? p.status : p.metastate} allowed={p.allowed} title="metastate" />
    </div>
  );
}
