/** The stack's own stores, for tests that check what was written (credentials the API never shows). */
import { inject } from 'vitest';
import { configFromEnv } from '../../functions/config';
import { buildDeps, type Deps } from '../../functions/deps';

let deps: Deps | undefined;

export function stackDeps(): Deps {
  deps ??= buildDeps(configFromEnv(inject('stack').env));
  return deps;
}
