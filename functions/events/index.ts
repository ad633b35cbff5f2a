/**
 * Every lifecycle event's entry, keyed by event: the compiler refuses a table row without one.
 * Adding an event is its row in statemachines/lifecycle.ts plus its entry here.
 */
import type { LifecycleEvent } from '../../statemachines/lifecycle';
import { assign, unassign } from './assign';
import { capture, reconfigure } from './capture';
import { customize, rollback } from './customize';
import { destroy } from './destroy';
import type { EventEntry } from './entry';
import { activate, attach, deactivate, detach } from './machine';
import { relocate } from './relocate';

type Entries = { [E in LifecycleEvent]: EventEntry<E, unknown, unknown> };

export const eventEntries: Entries = {
  assign,
  unassign,
  attach,
  detach,
  activate,
  deactivate,
  reconfigure,
  capture,
  customize,
  rollback,
  relocate,
  destroy,
};
