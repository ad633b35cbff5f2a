/** The first admin token of a deployment, written straight into the table (here: the local stack's). */
import { describe, expect, inject, it } from 'vitest';
import { createAdminToken } from '../../../infra/aws/admin-token';

describe('createAdminToken', () => {
  it('makes a token the API accepts as admin', async () => {
    const stack = inject('stack');
    const { token } = await createAdminToken({
      table: stack.env.ENCOMPASS_TABLE!,
      region: 'us-east-1',
      env: stack.env,
      label: 'from test',
    });
    const res = await fetch(`${stack.url}/v1/tokens`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { items: { role: string; label?: string }[] };
    expect(body.items.some((t) => t.role === 'admin' && t.label === 'from test')).toBe(true);
  });

  it('asks for a region when none is given or set', async () => {
    const saved = { AWS_REGION: process.env.AWS_REGION, AWS_DEFAULT_REGION: process.env.AWS_DEFAULT_REGION };
    delete process.env.AWS_REGION;
    delete process.env.AWS_DEFAULT_REGION;
    try {
      await expect(createAdminToken({ table: 'encompass' })).rejects.toMatchObject({ code: 'usage' });
    } finally {
      Object.assign(process.env, Object.fromEntries(Object.entries(saved).filter(([, v]) => v !== undefined)));
    }
  });
});
