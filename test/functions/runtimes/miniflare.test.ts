/** The API suite in workerd (Miniflare), from the same bundle `npm start` serves. */
import { inject } from 'vitest';
import { bundleFunctions, workerd } from '../../../infra/local/functions';
import { describeApiConformance } from './api.case';

describeApiConformance('workerd (Miniflare)', async () => {
  const mf = workerd(await bundleFunctions(), { bindings: inject('stack').env });
  return {
    fetch: async (path, init) =>
      (await mf.dispatchFetch(`http://localhost${path}`, init as never)) as unknown as Response,
    stop: () => mf.dispose(),
  };
});
