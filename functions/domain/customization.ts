/**
 * What the functions check of customization items before an operation is accepted: every variable
 * they use is given, every variable given is one they use, and every pattern compiles. The item
 * schemas themselves are the contract with the agent (statemachines/customization.ts).
 *
 * No variable is built in: the agent fills `${name}` only from the clone's `variables`, so the names
 * a template expects are exactly the ones its items use. (A deployment renders `${index}`,
 * `${machine.name}`… into its variables' values before any clone gets them: scenarios/selection.ts.)
 */
import { type CustomizationItem, VARIABLE_NAME } from '../../statemachines/customization';

/** `${name}` not preceded by another `$` (`$${x}` is a literal `${x}`). */
const reference = new RegExp(`(?<!\\$)\\$\\{(${VARIABLE_NAME})\\}`, 'g');

function textsOf(item: CustomizationItem): string[] {
  if (item.type === 'registry')
    return [item.key, item.name, ...[item.data].flat().filter((d) => typeof d === 'string')];
  return item.type === 'file'
    ? [item.path, item.content ?? '', item.source ?? '']
    : [item.path, item.pattern, item.replacement];
}

/** The names `texts` reference, in first-use order. */
export function namesIn(texts: readonly string[]): string[] {
  const names = new Set<string>();
  for (const text of texts) for (const m of text.matchAll(reference)) names.add(m[1]!);
  return [...names];
}

/** The names the items use, in first-use order: the variables a template expects. */
export function usedVariables(items: readonly CustomizationItem[]): string[] {
  return namesIn(items.flatMap(textsOf));
}

/** Names used by the items that `variables` does not define, in first-use order. */
export function missingVariables(items: readonly CustomizationItem[], variables: Record<string, string>): string[] {
  return usedVariables(items).filter((name) => !Object.hasOwn(variables, name));
}

/** The names of `variables` that the items never use (a misspelling, or a variable of another master), and those they do. */
export function unknownVariables(
  items: readonly CustomizationItem[],
  variables: Record<string, string> = {},
): { unknown: string[]; expected: string[] } {
  const expected = usedVariables(items);
  return { unknown: Object.keys(variables).filter((name) => !expected.includes(name)), expected };
}

/** How an error names a master's template: `the template of master web@2`, and what else the items hold. */
export function templateOf(master: { name: string; version: number } | undefined, also = ''): string {
  const whose = master ? `the template of master ${master.name}@${master.version}` : "the clone's template";
  return also ? `${whose} and ${also}` : whose;
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
