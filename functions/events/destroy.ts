/** destroy releases an unassigned clone's storage, and its customization document; its name becomes free again. */
import type { EventEntry } from './entry';
import { noBody } from './entry';

export const destroy: EventEntry<'destroy'> = {
  body: noBody,
  accept: ({ image }) => ({ request: {}, input: { image } }),
  commit: ({ deps, clone }) => {
    // The record keeps the document's reference (key and sha256) as a trace of what was applied.
    const doc = clone.customization.document?.key;
    return {
      writes: [deps.clones.releaseNameWrite(clone.name, clone.id)],
      after: doc ? () => deps.customizations.delete(doc) : undefined,
    };
  },
};
