/** customize applies customization items to a clean clone offline (staged apply); rollback undoes them. */
import { z } from 'zod';
import { items, variables } from '../domain/schemas';
import { InvalidInputError } from '../errors';
import { type CustomizationPlan, customizationAfter, discardDocument, planCustomization } from './customization';
import type { EventEntry } from './entry';

const customizeBody = z
  .object({ items: items.optional(), variables: variables.optional(), to: z.number().int().min(0).optional() })
  .strict();

export const customize: EventEntry<'customize', CustomizationPlan, z.infer<typeof customizeBody>> = {
  body: customizeBody,
  accept: (a, body) => planCustomization(a, { ...body, variablesAt: 'body.variables' }),
  commit(e, outcome) {
    const { customization, after } = customizationAfter(e, outcome);
    return { changes: { customization }, after };
  },
  async undo(e) {
    await discardDocument(e);
    return [];
  },
};

const rollbackBody = z.object({ to: z.number().int().min(0) }).strict();

export const rollback: EventEntry<'rollback', { from: number; to: number }, z.infer<typeof rollbackBody>> = {
  body: rollbackBody,
  accept({ clone, image }, body) {
    const from = clone.customization.applied;
    if (body.to > from)
      throw new InvalidInputError(`"to" (${body.to}) is past the ${from} applied items; use customize to move forward`);
    return { request: { from, to: body.to }, input: { image, from, to: body.to } };
  },
  commit: ({ clone }, outcome) => ({
    changes: {
      customization: {
        ...clone.customization,
        applied: outcome.applied,
        changes: clone.customization.changes.filter((c) => c.index < outcome.applied),
      },
    },
  }),
};
