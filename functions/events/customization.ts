/**
 * Customization as assign and customize plan it: the clone's own items and variables after the
 * request, checked once at accept, and the clone's customization record after the agent applied
 * them. The items are merged here, once; the commit stores what accept planned.
 */
import type { CustomizationItem } from '../../statemachines/customization';
import type { ImageRef, TaskInput, TaskOutcome } from '../../statemachines/tasks';
import { effectiveItems, invalidPatterns, missingVariables } from '../domain/customization';
import { InvalidInputError } from '../errors';
import type { Clone } from '../store/records';

/** What the operation keeps: the clone's items and variables once it succeeds, and the range applied. */
export interface CustomizationPlan {
  items: CustomizationItem[];
  variables: Record<string, string>;
  from: number;
  to: number;
}

function check(items: CustomizationItem[], variables: Record<string, string>) {
  const missing = missingVariables(items, variables);
  if (missing.length)
    throw new InvalidInputError(
      `customization uses variables that are not given: ${missing.join(', ')}; add them to "variables"`,
      { missing },
    );
  const bad = invalidPatterns(items);
  if (bad.length)
    throw new InvalidInputError(`invalid regular expression: ${bad.join('; ')}; fix the pattern`, { problems: bad });
}

/**
 * Adds `extra` items and `variables` to the clone's and applies the effective list up to `to`
 * (default: all). Items already applied stay; moving back is rollback's job.
 */
export function planCustomization(
  clone: Clone,
  image: ImageRef,
  extra: CustomizationItem[] = [],
  variables: Record<string, string> = {},
  to?: number,
): { request: CustomizationPlan; input: TaskInput<'customize'> } {
  const own = [...clone.customization.items, ...extra];
  const all = effectiveItems(clone.template, own);
  const merged = { ...clone.customization.variables, ...variables };
  const from = clone.customization.applied;
  const upTo = to ?? all.length;
  if (upTo < from)
    throw new InvalidInputError(
      `"to" (${upTo}) is below the ${from} applied items; use the rollback event to move back`,
    );
  if (upTo > all.length) throw new InvalidInputError(`"to" (${upTo}) is past the last item (${all.length} items)`);
  check(all.slice(from, upTo), merged);
  return {
    request: { items: own, variables: merged, from, to: upTo },
    input: { image, items: all, variables: merged, from, to: upTo },
  };
}

/** The clone's customization once the agent applied the planned range. */
export function customizationAfter(
  clone: Clone,
  plan: CustomizationPlan,
  outcome: TaskOutcome<'customize'>,
): Clone['customization'] {
  return {
    items: plan.items,
    variables: plan.variables,
    applied: outcome.applied,
    changes: [...clone.customization.changes.filter((c) => c.index < plan.from), ...outcome.changes],
  };
}
