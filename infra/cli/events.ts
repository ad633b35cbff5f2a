/** `encompass clones <event> CLONE`: a command per lifecycle event of the clone, from the one transition table. */
import type { Command } from 'commander';
import { type LifecycleEvent, transitions } from '../../statemachines/lifecycle';
import { at } from './client';
import { type Action, addAction, type CtxOf, type Flag } from './commands';

const variables = (field: string): Flag => ({
  flags: '--var <key=value>',
  doc: 'a customization variable, e.g. hostname=web1; repeatable',
  kind: 'vars',
  field,
});
const items = (field: string): Flag => ({
  flags: '--item <json>',
  doc: 'a customization item to append, e.g. \'{"type":"file","path":"/etc/motd","content":"hi"}\'; repeatable',
  kind: 'items',
  field,
});

/** The flags of each event's body (functions/events/); every event also takes --body and --set. */
const eventFlags: Partial<Record<LifecycleEvent, Flag[]>> = {
  assign: [
    { flags: '--machine <machine>', doc: 'the machine to bind to (id or name)', required: true },
    variables('customization.variables'),
    items('customization.items'),
  ],
  customize: [
    variables('variables'),
    items('items'),
    { flags: '--to <n>', doc: 'apply items up to this many (staged apply)', kind: 'int' },
  ],
  rollback: [{ flags: '--to <n>', doc: 'undo applied items back to this many', kind: 'int', required: true }],
  relocate: [{ flags: '--repository <repository>', doc: 'the repository of the site it moves to', required: true }],
  capture: [
    { flags: '--name <name>', doc: 'a new master of this name (default: the next version of the clone\u2019s master)' },
  ],
};

const describe = (t: (typeof transitions)[number]) => {
  const from = [t.from.binding.join('|'), 'metastate' in t.from ? t.from.metastate.join('|') : ''].filter(Boolean);
  return `${t.doc} (from ${from.join(', ')})`;
};

export function addCloneEvents(clones: Command, ctxOf: CtxOf): void {
  for (const t of transitions) {
    const action: Action = {
      name: t.event,
      summary: describe(t),
      args: ['<clone>'],
      method: 'POST',
      path: ([c]) => at('/v1/clones', c!, t.event),
      flags: eventFlags[t.event],
    };
    addAction(clones, action, ctxOf);
  }
}
