/** The API suite in workerd (Miniflare), from the same bundle `npm start` serves. */
import { Miniflare } from 'miniflare';
import { inject } from 'vitest';
import { bundleFunctions } from '../../../infra/local/functions';
import { describeApiConformance } from './api.case';

describeApiConformance('workerd (Miniflare)', async () => {
  const mf = new Miniflare({
    modules: true,
    script: await bundleFunctions(),
    compatibilityDate: '2025-01-01',
    compatibilityFlags: ['nodejs_compat'],
    bindings: inject('stack').env,
  });
  return {
    fetch: async (path, init) => (await mf.dispatchFetch(`http://localhost${path}`, init as never)) as unknown as Response,
    stop: () => mf.dispose(),
  };
});
