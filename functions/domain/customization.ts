/**
 * What the functions check of customization items before an operation is accepted: every variable
 * they use is given, and every pattern compiles. The item schemas themselves are the contract with
 * the agent (statemachines/customization.ts).
 */
import type { CustomizationItem } from '../../statemachines/customization';

/** `${name}` not preceded by another `$` (`$${x}` is a literal `${x}`). */
const reference = /(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_.-]*)\}/g;

function textsOf(item: CustomizationItem): string[] {
  return item.type === 'file'
    ? [item.path, item.content ?? '', item.source ?? '']
    : [item.path, item.pattern, item.replacement];
}

/** Names used by the items that `variables` does not define, in first-use order. */
export function missingVariables(items: readonly CustomizationItem[], variables: Record<string, string>): string[] {
  const missing = new Set<string>();
  for (const item of items)
    for (const text of textsOf(item))
      for (const m of text.matchAll(reference)) if (!(m[1]! in variables)) missing.add(m[1]!);
  return [...missing];
}

/** The items a clone applies: its master's template first, then its own. */
export function effectiveItems(template: readonly CustomizationItem[], extra: readonly CustomizationItem[]) {
  return [...template, ...extra];
}

/** Why a `replace` item's pattern does not compile under JavaScript's RegExp rules, if it does not. */
export function patternProblem(item: CustomizationItem): string | undefined {
  if (item.type !== 'replace') return undefined;
  try {
    new RegExp(item.pattern.replace(reference, 'x'), item.flags ?? '');
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/** Readable errors for the patterns that do not compile, by item. */
export function invalidPatterns(items: readonly CustomizationItem[]): string[] {
  return items.flatMap((item, index) => {
    const problem = patternProblem(item);
    return problem ? [`item ${index}: ${problem}`] : [];
  });
}
