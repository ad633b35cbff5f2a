/** destroy releases an unassigned clone's storage; its name becomes free again. */
import type { EventEntry } from './entry';
import { noBody } from './entry';

export const destroy: EventEntry<'destroy'> = {
  body: noBody,
  accept: ({ image }) => ({ request: {}, input: { image } }),
  commit: ({ deps, clone }) => ({ writes: [deps.clones.releaseNameWrite(clone.name, clone.id)] }),
};
