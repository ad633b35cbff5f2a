/**
 * The clone lifecycle: one declarative table that the API, the state machines, the tests and the
 * README diagram all read. A clone has a `metastate` and a `binding`, or a terminal `status`.
 * Pure data and pure functions: what an event does at accept, at commit and on failure is in
 * functions/events/, one entry per event; which agent task it runs is its `task` here.
 */
import type { TaskName } from './tasks';

/** Metastates: what has happened to the clone's contents. */
export const metastates = {
  clean: 'never booted; can be customized offline',
  operational: 'has booted; holds state of its own and can never be clean again',
  maintenance: 'being changed on purpose, to be captured as a new master version',
} as const;

/** Bindings: how the clone is tied to a machine. */
export const bindings = {
  unassigned: 'bound to no machine',
  assigned: 'bound to one machine; customized for it',
  attached: 'the machine can reach the storage',
  active: 'the machine is powered on from it',
} as const;

/** Terminal statuses: the clone is gone as a clone. */
export const terminals = {
  captured: 'became a master version (lineage kept)',
  destroyed: 'storage released',
} as const;

export type Metastate = keyof typeof metastates;
export type Binding = keyof typeof bindings;
export type Terminal = keyof typeof terminals;

export interface CloneState {
  metastate: Metastate;
  binding: Binding;
  status: 'ready' | Terminal;
}

export interface Transition {
  readonly event: string;
  readonly doc: string;
  readonly from: { readonly metastate?: readonly Metastate[]; readonly binding: readonly Binding[] };
  readonly to: { readonly binding?: Binding; readonly metastate?: Metastate; readonly status?: Terminal };
  /** The agent task the event runs (its contract is in tasks.ts); null: metadata only. */
  readonly task: TaskName | null;
  /** A boot reported by the agent turns a clean clone operational. */
  readonly firstBoot?: boolean;
}

const anyBinding = ['unassigned', 'assigned', 'attached', 'active'] as const;

export const transitions = [
  // Bind to a machine, applying the customization for it; a clone that is not clean is bound as it is.
  {
    event: 'assign',
    doc: 'bind to a machine; a clean clone is customized for it, another is bound without customizing',
    from: { binding: ['unassigned'] },
    to: { binding: 'assigned' },
    task: 'customize',
  },
  // Release the machine; the customization stays applied.
  {
    event: 'unassign',
    doc: 'release the machine',
    from: { binding: ['assigned'] },
    to: { binding: 'unassigned' },
    task: null,
  },
  // Let the machine reach the storage.
  {
    event: 'attach',
    doc: 'make the storage reachable by the machine',
    from: { binding: ['assigned'] },
    to: { binding: 'attached' },
    task: 'attach',
  },
  {
    event: 'detach',
    doc: 'revoke the machine\u2019s access to the storage',
    from: { binding: ['attached'] },
    to: { binding: 'assigned' },
    task: 'detach',
  },
  // Power on; the first boot makes a clean clone operational.
  {
    event: 'activate',
    doc: 'power on',
    from: { binding: ['attached'] },
    to: { binding: 'active' },
    task: 'power_on',
    firstBoot: true,
  },
  {
    event: 'deactivate',
    doc: 'power off',
    from: { binding: ['active'] },
    to: { binding: 'attached' },
    task: 'power_off',
  },
  // Start preparing a new master version from an operational clone.
  {
    event: 'reconfigure',
    doc: 'enter maintenance',
    from: { metastate: ['operational'], binding: anyBinding },
    to: { metastate: 'maintenance' },
    task: null,
  },
  // The only way out of maintenance.
  {
    event: 'capture',
    doc: 'become a new master version',
    from: { metastate: ['maintenance'], binding: ['unassigned'] },
    to: { status: 'captured' },
    task: 'capture',
  },
  // Staged apply of customization items while the clone is still clean and offline.
  {
    event: 'customize',
    doc: 'append and/or apply customization items',
    from: { metastate: ['clean'], binding: ['unassigned', 'assigned'] },
    to: {},
    task: 'customize',
  },
  {
    event: 'rollback',
    doc: 'undo applied customization items',
    from: { metastate: ['clean'], binding: ['unassigned', 'assigned'] },
    to: {},
    task: 'rollback',
  },
  // Move the image to another repository of the site while no machine reaches it; lineage, state
  // and customization stay. The old image goes once the record names the new one (tasks.ts releaseTasks).
  {
    event: 'relocate',
    doc: 'move the image to another repository of the site',
    from: { binding: ['unassigned', 'assigned'] },
    to: {},
    task: 'relocate',
  },
  {
    event: 'destroy',
    doc: 'release the storage',
    from: { binding: ['unassigned'] },
    to: { status: 'destroyed' },
    task: 'destroy',
  },
] as const satisfies readonly Transition[];

export type LifecycleEvent = (typeof transitions)[number]['event'];
export const events = transitions.map((t) => t.event) as LifecycleEvent[];

export function isEvent(name: string): name is LifecycleEvent {
  return (events as string[]).includes(name);
}

export function describeState(s: CloneState): string {
  return s.status === 'ready' ? `${s.metastate} and ${s.binding}` : s.status;
}

function allows(t: Transition, s: CloneState): boolean {
  if (s.status !== 'ready') return false;
  if (t.from.metastate && !t.from.metastate.includes(s.metastate)) return false;
  return t.from.binding.includes(s.binding);
}

/** Events allowed in a state, in table order. */
export function allowedEvents(s: CloneState): LifecycleEvent[] {
  return transitions.filter((t) => allows(t, s)).map((t) => t.event);
}

/** The row for `event` when the table allows it in state `s`; undefined when it does not. */
export function transitionFor(s: CloneState, event: string): Transition | undefined {
  const t = transitions.find((x) => x.event === event);
  return t && allows(t, s) ? t : undefined;
}

/** What an operation keeps of its planned transition, so its commit applies exactly that. */
export type PlannedTransition = { event: LifecycleEvent } & Pick<Transition, 'to' | 'task' | 'firstBoot'>;

/** The state after `t` succeeds; `booted` is the agent's report for transitions with firstBoot. */
export function apply(s: CloneState, t: Pick<Transition, 'to' | 'firstBoot'>, booted = false): CloneState {
  const next: CloneState = { ...s };
  if (t.to.binding) next.binding = t.to.binding;
  if (t.to.metastate) next.metastate = t.to.metastate;
  if (t.to.status) next.status = t.to.status;
  if (t.firstBoot && booted && next.metastate === 'clean') next.metastate = 'operational';
  return next;
}

/** Every live state, for exhaustive tests and the diagram. */
export function allStates(): CloneState[] {
  const out: CloneState[] = [];
  for (const metastate of Object.keys(metastates) as Metastate[])
    for (const binding of Object.keys(bindings) as Binding[]) out.push({ metastate, binding, status: 'ready' });
  return out;
}

/**
 * Mermaid diagrams generated from the table: how events move the binding, and how they move the
 * metastate (or end the clone). The README embeds exactly this text; a test keeps them equal.
 */
export function lifecycleDiagram(): string {
  const binding = ['stateDiagram-v2', '  direction LR', '  [*] --> unassigned: clone'];
  const meta = ['stateDiagram-v2', '  direction LR', '  [*] --> clean: clone'];
  for (const t of transitions as readonly Transition[]) {
    if (t.to.binding) for (const f of t.from.binding) binding.push(`  ${f} --> ${t.to.binding}: ${t.event}`);
    if (t.to.status) for (const f of t.from.binding) binding.push(`  ${f} --> ${t.to.status}: ${t.event}`);
    const froms = t.from.metastate ?? (Object.keys(metastates) as Metastate[]);
    const to = t.to.status ?? t.to.metastate;
    if (to) for (const f of froms) meta.push(`  ${f} --> ${to}: ${t.event}`);
    else if (t.firstBoot) meta.push(`  clean --> operational: ${t.event} (first boot)`);
    else if (!t.to.binding) for (const f of froms) meta.push(`  ${f} --> ${f}: ${t.event}`);
  }
  return ['```mermaid', ...binding, '```', '', '```mermaid', ...meta, '```'].join('\n');
}
