/** Every route, called with no token and with each role's token: 401, 403, or let through. */
import { beforeAll, describe, expect, it } from 'vitest';
import { routes } from '../../../functions/app';
import { Api } from '../../support/api';

const admin = Api.admin();
const roles = ['viewer', 'operator', 'admin', 'agent'] as const;
type Caller = (typeof roles)[number] | 'none';
const rank = { viewer: 0, operator: 1, admin: 2 } as const;

function expectedAccess(access: string, caller: Caller): 'ok' | 401 | 403 {
  if (access === 'public') return 'ok';
  if (caller === 'none') return 401;
  if (access === 'agent') return caller === 'agent' ? 'ok' : 403;
  if (caller === 'agent') return 403;
  return rank[caller] >= rank[access as keyof typeof rank] ? 'ok' : 403;
}

describe('authorization matrix', () => {
  const tokens: Partial<Record<Caller, string>> = {};
  beforeAll(async () => {
    for (const role of roles) {
      const r = await admin.post('/v1/tokens', {
        role,
        label: `matrix ${role}`,
        ...(role === 'agent' ? { site: 'local' } : {}),
      });
      expect(r.status).toBe(201);
      tokens[role] = r.body.token;
    }
  });

  const cases = routes.flatMap((r) =>
    (['none', ...roles] as Caller[]).map((caller) => [r.method.toUpperCase(), r.path, caller, r.access] as const),
  );

  it.each(cases)('%s %s as %s', async (method, path, caller, access) => {
    // Ids that exist nowhere, and bodies that fail validation: no call here may change anything.
    const url = path.replace('{event}', 'attach').replace(/\{\w+\}/g, 'no-such-thing');
    const api = admin.as(caller === 'none' ? undefined : tokens[caller]);
    const r = await api.call(method, url, method === 'GET' || method === 'DELETE' ? undefined : { bogus: true });
    const want = expectedAccess(access, caller);
    if (want === 'ok') expect([401, 403], JSON.stringify(r.body)).not.toContain(r.status);
    else {
      expect(r.status, JSON.stringify(r.body)).toBe(want);
      expect(r.body.error.code).toBe(want === 401 ? 'unauthorized' : 'forbidden');
    }
  });

  it('refuses a malformed or revoked token with 401', async () => {
    expect((await admin.as('not-a-token').get('/v1/clones')).status).toBe(401);
    const made = await admin.post('/v1/tokens', { role: 'viewer' });
    expect((await admin.as(made.body.token).get('/v1/clones')).status).toBe(200);
    expect((await admin.del(`/v1/tokens/${made.body.id}`)).status).toBe(200);
    expect((await admin.as(made.body.token).get('/v1/clones')).status).toBe(401);
  });

  it('stores tokens hashed: listing never shows a secret', async () => {
    const list = await admin.get('/v1/tokens');
    expect(JSON.stringify(list.body)).not.toMatch(/enc_[a-z0-9]{40}/);
  });
});
