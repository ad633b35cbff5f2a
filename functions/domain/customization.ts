/**
 * What the functions check of customization items before an operation is accepted: every variable
 * they use is given, and every pattern compiles. The item schemas themselves are the contract with
 * the agent (statemachines/customization.ts).
 */
import type { CustomizationItem } from '../../statemachines/customization';

/** `${name}` not preceded by another `$` (`$${x}` is a literal `${x}`). */
const reference = /(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_.-]*)\}/g;

function textsOf(item: CustomizationItem): string[] {
  if (item.type === 'registry')
    return [item.key, item.name, ...[item.data].flat().filter((d) => typeof d === 'string')];
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

/**
 * `text` with every `${name}` replaced by its value: at least as long as what the agent makes of it
 * (it also turns `$${` into `${`), so sizes computed from it are upper bounds.
 */
export function withVariables(text: string, variables: Record<string, string>): string {
  return text.replace(reference, (_, name: string) => variables[name] ?? '');
}

/**
 * `template` with every `${name}` taken from `values`; `$${` stays a literal `${`. A name that
 * `values` lacks is the caller's mistake: `unknown(name)` says so (nothing is rendered as empty).
 */
export function renderTemplate(
  template: string,
  values: Record<string, string>,
  unknown: (name: string) => Error,
): string {
  return template
    .replace(reference, (_, name: string) => {
      if (!Object.hasOwn(values, name)) throw unknown(name);
      return values[name]!;
    })
    .replaceAll('$${', '${');
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
