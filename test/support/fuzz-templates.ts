/**
 * Valid bodies of the routes, against the fuzz suite's fixtures, so that generated input reaches past
 * validation. A route without a template is fuzzed all the same (test/support/fuzz.ts).
 */
import fc from 'fast-check';
import type { RouteSpec } from '../../functions/http/route';
import { hostileObject } from './fuzz';

export interface TemplateFixtures {
  repo: { name: string };
  master: { id: string };
  machine: { id: string };
}

const fuzzName = fc.stringMatching(/^fz[a-z0-9]{8}$/);

/** Template items: fine ones, a pattern that does not compile, and two that make a record over 400 KiB. */
const items = fc.constantFrom(
  [{ type: 'file', path: '/etc/motd', content: 'hi ${hostname}\n' }],
  [{ type: 'replace', path: '/etc/hosts', pattern: '(', replacement: '' }],
  [1, 2].map((n) => ({ type: 'file', path: `/etc/big${n}`, content: 'x'.repeat(250 * 1024) })),
);

/** Valid bodies by route, against the fixtures. Starting real work is fine: the suite waits for it. */
export function template(r: RouteSpec, fx: TemplateFixtures, event?: string): fc.Arbitrary<unknown> | undefined {
  const key = `${r.method.toUpperCase()} ${r.path}`;
  const maybe = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
  const small = fc.integer({ min: 1, max: 64 });
  switch (key) {
    case 'POST /v1/tokens':
      return fc.oneof(
        fc.record({ role: fc.constantFrom('viewer', 'operator', 'admin'), label: maybe(fc.string()) }),
        fc.constant({ role: 'agent', site: 'local' }),
      );
    case 'POST /v1/sites':
      // A new site provisions its workflows and is removed at once (settle): make few of them.
      return fc.record({
        name: fc.oneof({ weight: 1, arbitrary: fuzzName }, { weight: 3, arbitrary: fc.string() }),
        description: maybe(fc.string()),
      });
    case 'PUT /v1/sites/{id}/agents/{host}':
      return fc.record({ version: maybe(fc.string()), machine: maybe(fc.string()) }, { requiredKeys: [] });
    case 'POST /v1/repositories':
      return fc.record({
        name: fuzzName,
        site: fc.constant('local'),
        kind: fc.constant('file'),
        path: fc.constant('/nonexistent-fuzz'),
        settings: maybe(hostileObject),
      });
    case 'POST /v1/machines':
      return fc.record({
        name: fuzzName,
        site: fc.constant('local'),
        kind: fc.constant('sim'),
        cpus: maybe(small),
        identity: maybe(fc.record({ serial: fc.string(), initiatorName: fc.string() }, { requiredKeys: [] })),
        settings: fc.oneof(hostileObject, fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }), fc.string())),
        credentials: maybe(fc.oneof(fc.record({ password: fc.string() }), hostileObject)),
      });
    case 'PATCH /v1/machines/{id}':
      return fc.record(
        {
          cpus: small,
          memoryMiB: fc.constantFrom(512, 4096),
          arch: fc.constantFrom('x86_64', 'aarch64'),
          identity: fc.record({ serial: fc.oneof(fc.string(), fc.constant(null)), initiatorName: fc.constant(null) }),
          settings: fc.oneof(
            fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }), fc.oneof(fc.string(), fc.constant(null))),
            hostileObject,
          ),
          credentials: fc.oneof(
            fc.record({ password: fc.oneof(fc.string(), fc.constant('(set)'), fc.constant(null)) }),
            hostileObject,
          ),
        },
        { requiredKeys: [] },
      );
    case 'POST /v1/masters':
      // An image that is not there: the import starts and fails at once, leaving no master.
      return fc.record({
        name: fuzzName,
        repository: fc.constant(fx.repo.name),
        path: fc.constant('no-such.img'),
        customization: maybe(items),
      });
    case 'PATCH /v1/masters/{id}':
      return fc.record(
        {
          profile: fc.record({ service: fc.string() }, { requiredKeys: [] }),
          requirements: fc.record({ minCpus: fc.oneof(small, fc.constant(null)) }, { requiredKeys: [] }),
          customization: items,
        },
        { requiredKeys: [] },
      );
    case 'POST /v1/repositories/{id}/orphans/{name}/adopt':
      return fc.record({ name: fuzzName, format: maybe(fc.constant('raw')), customization: maybe(items) });
    case 'POST /v1/uploads':
      return fc.record({
        name: fuzzName,
        repository: fc.constant(fx.repo.name),
        sizeBytes: fc.integer({ min: 1, max: 2 ** 20 }),
      });
    case 'POST /v1/clones':
      return fc.record({
        master: fc.constant(fx.master.id),
        name: fuzzName,
        method: maybe(fc.constantFrom('auto', 'copy', 'sparse')),
      });
    case 'POST /v1/operations/{id}/progress':
      return fc.record({
        progress: fc.double({ min: 0, max: 1, noNaN: true }),
        step: maybe(fc.string({ maxLength: 20 })),
      });
    case 'POST /v1/clones/{id}/{event}':
      if (event === 'assign')
        return fc.constant({ machine: fx.machine.id, customization: { variables: { hostname: 'fuzz' } } });
      if (event === 'customize') return fc.constant({ variables: { hostname: 'fuzz' } });
      if (event === 'rollback') return fc.constant({ to: 0 });
      if (event === 'relocate') return fc.constant({ repository: fx.repo.name });
      return fc.constant({});
    default:
      return undefined;
  }
}
