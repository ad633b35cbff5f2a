/**
 * Machine credentials by reference: the secret store keeps the values, the machine record only
 * `secret://<site>/machines/<id>/<key>`; a value is stored before the record and a secret deleted
 * after it, and a record write that fails leaves no new secret behind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMachineAction } from '../../../functions/actions/admin';
import type { Deps } from '../../../functions/deps';
import { CredentialNotStoredError, NameTakenError } from '../../../functions/errors';
import { machineRef } from '../../../functions/events/machine';
import type { Machine } from '../../../functions/store/records';
import { revise } from '../../../functions/store/resources';
import { Secrets, secretsClient } from '../../../functions/store/secrets';
import { Api } from '../../support/api';
import { makeMachine, unique } from '../../support/fixtures';
import { secretValue, stackDeps, storedCredentials } from '../../support/store';

const api = Api.admin();
const refOf = (site: string, id: string, key: string) => `secret://${site}/machines/${id}/${key}`;

/** The stack's own deps, with every secret the functions write noted (the store underneath is the real one). */
function recordingDeps(): { deps: Deps; written: string[] } {
  const base = stackDeps();
  const written: string[] = [];
  class Recording extends Secrets {
    override async put(ref: string, value: string) {
      written.push(ref);
      return super.put(ref, value);
    }
  }
  const secrets = new Recording(secretsClient(base.config), base.config.secrets.prefix);
  return { deps: { ...base, secrets }, written };
}

describe('machine credentials', () => {
  const other = unique('site');
  beforeAll(async () => {
    expect((await api.post('/v1/sites', { name: other })).status).toBe(201);
  });
  afterAll(async () => {
    await api.del(`/v1/sites/${other}`);
  });

  it('are stored as secrets; the record keeps references and the API shows "(set)"', async () => {
    const m = await makeMachine(api, { credentials: { password: 'pw-a', user: 'root' } });
    expect(m.credentials).toEqual({ password: '(set)', user: '(set)' });
    expect(await storedCredentials(m.id)).toEqual({
      refs: { password: refOf('local', m.id, 'password'), user: refOf('local', m.id, 'user') },
      values: { password: 'pw-a', user: 'root' },
    });
  });

  it('leave no secret behind when the record cannot be written', async () => {
    const taken = await makeMachine(api);
    const { deps, written } = recordingDeps();
    await expect(
      createMachineAction(deps, {
        name: taken.name,
        site: 'local',
        kind: 'sim',
        arch: 'x86_64',
        cpus: 1,
        memoryMiB: 1024,
        identity: {},
        settings: {},
        credentials: { password: 'pw-orphan' },
      }),
    ).rejects.toBeInstanceOf(NameTakenError);
    expect(written).toHaveLength(1);
    expect(await secretValue(written[0]!)).toBeUndefined();
  });

  it('are refused with 503 when the secret store does not answer, and no machine is registered', async () => {
    const base = stackDeps();
    const deps = {
      ...base,
      secrets: new Secrets(
        secretsClient({ ...base.config, secrets: { ...base.config.secrets, endpoint: 'http://127.0.0.1:9' } }),
        'encompass/',
      ),
    };
    const name = unique('m');
    const body = {
      name,
      site: 'local',
      kind: 'sim' as const,
      arch: 'x86_64',
      cpus: 1,
      memoryMiB: 1024,
      identity: {},
      settings: {},
    };
    await expect(createMachineAction(deps, { ...body, credentials: { password: 'pw-x' } })).rejects.toMatchObject({
      status: 503,
      code: 'unavailable',
    });
    expect((await api.get(`/v1/machines/${name}`)).status).toBe(404);
  });

  it('refuse a credential name that cannot be part of a reference, naming it', async () => {
    const r = await api.post('/v1/machines', {
      name: unique('m'),
      site: 'local',
      kind: 'sim',
      credentials: { 'a/b': 'x' },
    });
    expect(r.status).toBe(400);
    expect(r.body.error.problems).toEqual([expect.stringMatching(/^body\.credentials\["a\/b"\]: /)]);
  });

  it('must be sent again when the machine moves to another site, whose agent cannot read the old ones', async () => {
    const m = await makeMachine(api, { credentials: { password: 'pw-move' } });
    const refused = await api.patch(`/v1/machines/${m.id}`, { site: other });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ code: 'credentials_of_other_site' });
    expect(refused.body.error.problems).toEqual([expect.stringMatching(/^body\.credentials\.password: /)]);
    expect((await api.get(`/v1/machines/${m.id}`)).body.site).toBe('local');

    const moved = await api.patch(`/v1/machines/${m.id}`, { site: other, credentials: { password: 'pw-moved' } });
    expect(moved.status, JSON.stringify(moved.body)).toBe(200);
    expect(await storedCredentials(m.id)).toEqual({
      refs: { password: refOf(other, m.id, 'password') },
      values: { password: 'pw-moved' },
    });
    expect(await secretValue(refOf('local', m.id, 'password'))).toBeUndefined();
    expect((await api.del(`/v1/machines/${m.id}`)).status).toBe(200);
    expect(await secretValue(refOf(other, m.id, 'password'))).toBeUndefined();
  });

  it('held as a value by an older record never go into a task, and move to the store on the next PATCH', async () => {
    const deps = stackDeps();
    const made = await makeMachine(api);
    const stored = (await deps.machines.get(made.id))!;
    const legacy: Machine = await deps.machines.save(
      revise(stored, { credentials: { password: 'pw-old' } }, deps.now()),
    );
    expect(() => machineRef(legacy)).toThrow(CredentialNotStoredError);
    expect((await api.patch(`/v1/machines/${made.id}`, { cpus: 2 })).status).toBe(200);
    expect(await storedCredentials(made.id)).toEqual({
      refs: { password: refOf('local', made.id, 'password') },
      values: { password: 'pw-old' },
    });
  });
});
