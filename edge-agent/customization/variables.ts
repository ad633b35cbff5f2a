/**
 * `${name}` substitution. `$${` stands for a literal `${`. How a value is inserted depends on where:
 * - text (paths, file content): as is;
 * - pattern: as literal text (regex metacharacters escaped), so a value such as `10.0.0.1` matches
 *   only itself and can never make the pattern invalid or slow;
 * - replacement: with `$` doubled, so a value is never read as `$1`/`$&`; the template's own `$1`,
 *   `$&` and `$$` keep their regex meaning.
 */
import { VARIABLE_NAME } from '../../statemachines/customization';
import { InvalidVariableError } from './errors';

export type Context = 'text' | 'pattern' | 'replacement';

export interface Substituted {
  value: string;
  /** Names referenced but not defined. */
  missing: string[];
  /** A `${` that opens no valid `${name}` reference. */
  malformed: boolean;
  /** `${secret:NAME}` names met: filled in from `secrets` when given, else left as they are. */
  secrets: string[];
}

// The names the functions check a template's variables against (statemachines/customization.ts);
// `${secret:NAME}` (SECRET_REFERENCE there) is matched on its own, before `${name}`.
const TOKEN = new RegExp(`\\$\\$\\{|\\$\\{secret:([^}]*)\\}|\\$\\{(${VARIABLE_NAME})\\}|\\$\\{`, 'g');

export function checkVariables(variables: Record<string, unknown>): asserts variables is Record<string, string> {
  for (const [name, value] of Object.entries(variables)) {
    if (typeof value !== 'string') throw new InvalidVariableError(name);
  }
}

export function substitute(
  template: string,
  variables: Record<string, string>,
  context: Context,
  secrets?: ReadonlyMap<string, string>,
): Substituted {
  const missing: string[] = [];
  const named: string[] = [];
  let malformed = false;
  const value = template.replace(TOKEN, (token: string, secret: string | undefined, name: string | undefined) => {
    if (token === '$${') return context === 'replacement' ? '$${' : '${';
    if (secret !== undefined) {
      named.push(secret);
      const raw = secrets?.get(secret);
      if (raw === undefined) return token;
      return context === 'replacement' ? raw.replaceAll('$', '$$$$') : raw;
    }
    if (name === undefined) {
      malformed = true;
      return token;
    }
    if (!Object.hasOwn(variables, name)) {
      missing.push(name);
      return '';
    }
    const raw = variables[name]!;
    if (context === 'pattern') return escapeRegExp(raw);
    if (context === 'replacement') return raw.replaceAll('$', '$$$$');
    return raw;
  });
  return { value, missing, malformed, secrets: named };
}

export function escapeRegExp(text: string): string {
  // Only syntax characters: other escapes are errors under the u flag.
  return text.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
}
