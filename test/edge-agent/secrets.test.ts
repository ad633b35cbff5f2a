/** The agent's secret resolver, against the local Secrets Manager endpoint: its own site only, values in memory. */
import { CreateSecretCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SECRET_CACHE_MS, SecretsManagerResolver, withCredentials } from '../../edge-agent/secrets';
import { type Running, startInTemp } from '../infra/local/secrets/helpers';

let store: Running;
let clock = 0;
const resolver = () => new SecretsManagerResolver('dc1', store.client(), 'encompass/', () => clock);

beforeAll(async () => {
  store = await startInTemp();
  const admin = store.client();
  await admin.send(new CreateSecretCommand({ Name: 'encompass/dc1/machines/mc-1/password', SecretString: 'pw-1' }));
  await admin.send(new CreateSecretCommand({ Name: 'encompass/dc2/machines/mc-9/password', SecretString: 'pw-9' }));
});
afterAll(() => store?.remove());

describe('the agent resolves secret references', () => {
  it("replaces a machine's credential references with their values, leaving the task input as it was", async () => {
    const machine = {
      id: 'mc-1',
      name: 'blade-1',
      kind: 'ipmi',
      identity: {},
      settings: {},
      credentials: { password: 'secret://dc1/machines/mc-1/password' },
    };
    const resolved = await withCredentials(machine, resolver());
    expect(resolved.credentials).toEqual({ password: 'pw-1' });
    expect(machine.credentials).toEqual({ password: 'secret://dc1/machines/mc-1/password' });
  });

  it("refuses another site's reference without asking the store for it", async () => {
    // A store nobody answers at: asking it would fail as secret_unavailable, not as refused.
    const unreachable = new SecretsManagerResolver('dc1', store.client({ endpoint: 'http://127.0.0.1:9' }));
    await expect(unreachable.resolve('secret://dc2/machines/mc-9/password')).rejects.toMatchObject({
      code: 'secret_of_other_site',
      message: expect.stringContaining('secret://dc2/machines/mc-9/password'),
    });
    await expect(unreachable.resolve('secret://dc1/machines/mc-1/password')).rejects.toMatchObject({
      code: 'secret_unavailable',
    });
  });

  it('names a missing secret by its reference, never by a value', async () => {
    const error = await resolver()
      .resolve('secret://dc1/machines/mc-1/none')
      .catch((e: Error & { code: string }) => e);
    expect(error).toMatchObject({ code: 'secret_unavailable', message: expect.stringContaining('ResourceNotFound') });
    expect((error as Error).message).not.toContain('pw-1');
  });

  it('keeps a value for a few seconds only, then reads the rotated one', async () => {
    const r = resolver();
    const ref = 'secret://dc1/machines/mc-1/password';
    clock = 0;
    expect(await r.resolve(ref)).toBe('pw-1');
    await store
      .client()
      .send(new PutSecretValueCommand({ SecretId: 'encompass/dc1/machines/mc-1/password', SecretString: 'pw-2' }));
    clock = SECRET_CACHE_MS - 1;
    expect(await r.resolve(ref)).toBe('pw-1');
    clock = SECRET_CACHE_MS + 1;
    expect(await r.resolve(ref)).toBe('pw-2');
  });
});
