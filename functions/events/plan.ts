/** The functions' side of the lifecycle table: a clone record's state, and a refused event as a 409. */
import {
  allowedEvents,
  type CloneState,
  describeState,
  type Transition,
  transitionFor,
} from '../../statemachines/lifecycle';
import { InvalidTransitionError } from '../errors';
import type { Clone } from '../store/records';

export const cloneState = (c: Clone): CloneState => ({
  metastate: c.metastate,
  binding: c.binding,
  status: c.status === 'creating' ? 'ready' : c.status,
});

/** The transition for `event` in state `s`; InvalidTransitionError (409) when the table has none. */
export function plan(s: CloneState, event: string): Transition {
  const t = transitionFor(s, event);
  if (!t) throw new InvalidTransitionError(event, describeState(s), allowedEvents(s));
  return t;
}
