/** The lifecycle table, checked for every (state, event) pair against the rules of the design. */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { InvalidTransitionError } from '../../../functions/errors';
import { plan } from '../../../functions/events/plan';
import { renderReadme } from '../../../infra/docs/readme';
import {
  allowedEvents,
  allStates,
  apply,
  type CloneState,
  events,
  lifecycleDiagram,
  transitions,
} from '../../../statemachines/lifecycle';

/** The design's rules, written out independently of the table. */
function expected(s: CloneState, event: string): Partial<CloneState> | null {
  const { metastate: m, binding: b } = s;
  const clean = m === 'clean';
  switch (event) {
    case 'assign':
      return b === 'unassigned' ? { binding: 'assigned' } : null;
    case 'unassign':
      return b === 'assigned' ? { binding: 'unassigned' } : null;
    case 'attach':
      return b === 'assigned' ? { binding: 'attached' } : null;
    case 'detach':
      return b === 'attached' ? { binding: 'assigned' } : null;
    case 'activate':
      return b === 'attached' ? { binding: 'active' } : null;
    case 'deactivate':
      return b === 'active' ? { binding: 'attached' } : null;
    case 'reconfigure':
      return m === 'operational' ? { metastate: 'maintenance' } : null;
    case 'capture':
      return m === 'maintenance' && b === 'unassigned' ? { status: 'captured' } : null;
    case 'customize':
    case 'rollback':
      return clean && (b === 'unassigned' || b === 'assigned') ? {} : null;
    case 'destroy':
      return b === 'unassigned' ? { status: 'destroyed' } : null;
    // The image moves only while no machine reaches it; the state stays.
    case 'relocate':
      return b === 'unassigned' || b === 'assigned' ? {} : null;
    default:
      return null;
  }
}

describe('the clone lifecycle table', () => {
  const pairs = allStates().flatMap((s) => [...events, 'explode'].map((e) => [s, e] as const));

  it.each(pairs)('in %o, %s does what the design says or is refused', (state, event) => {
    const want = expected(state, event);
    if (want === null) {
      expect(() => plan(state, event)).toThrow(InvalidTransitionError);
      return;
    }
    const next = apply(state, plan(state, event));
    expect(next).toEqual({ ...state, ...want });
  });

  it('refuses every event on captured and destroyed clones', () => {
    for (const status of ['captured', 'destroyed'] as const)
      for (const e of events)
        expect(() => plan({ metastate: 'maintenance', binding: 'unassigned', status }, e)).toThrow(
          InvalidTransitionError,
        );
  });

  it('turns a clean clone operational on its first reported boot, and only then', () => {
    const attached: CloneState = { metastate: 'clean', binding: 'attached', status: 'ready' };
    const t = plan(attached, 'activate');
    expect(apply(attached, t, true).metastate).toBe('operational');
    expect(apply(attached, t, false).metastate).toBe('clean');
    expect(apply({ ...attached, metastate: 'maintenance' }, t, true).metastate).toBe('maintenance');
  });

  it('explains a refused event with the events allowed now, as a 409', () => {
    const s: CloneState = { metastate: 'clean', binding: 'active', status: 'ready' };
    try {
      plan(s, 'destroy');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidTransitionError);
      expect((e as InvalidTransitionError).status).toBe(409);
      expect((e as Error).message).toBe(
        'cannot destroy a clone that is clean and active; events allowed now: deactivate',
      );
      expect(allowedEvents(s)).toEqual(['deactivate']);
    }
  });

  it('has one row per event, each with a doc line', () => {
    expect(new Set(events).size).toBe(transitions.length);
    for (const t of transitions) expect(t.doc.length).toBeGreaterThan(5);
  });

  it('is shown in the README exactly as generated from the table (npm run gen:docs)', async () => {
    const readme = await readFile(new URL('../../../README.md', import.meta.url), 'utf8');
    expect(readme).toContain(lifecycleDiagram());
    expect(renderReadme(readme)).toBe(readme);
  });
});
