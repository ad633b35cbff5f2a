/** The store's bookkeeping over time, on a real vault in a temp directory, with a clock the test moves. */
import { afterEach, describe, expect, it } from 'vitest';
import { SecretStore } from '../../../../infra/local/secrets/store';
import { openVault, type Vault } from '../../../../infra/local/secrets/vault';
import { tempDir } from '../helpers';

const DAY = 86_400_000;
const scope = { region: 'us-east-1', accountId: '000000000000' };
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function storeAt(clock: { now: number }): Promise<{ store: SecretStore; vault: Vault; dir: string }> {
  const temp = await tempDir('secrets-store');
  cleanups.push(temp.remove);
  const vault = await openVault(`${temp.path}/secrets`);
  cleanups.push(() => vault.close());
  return { store: await SecretStore.open(vault, scope, () => clock.now), vault, dir: `${temp.path}/secrets` };
}

describe('a secret deleted with a recovery window', () => {
  it('is kept, marked, until the window ends, then is gone and its name is free', async () => {
    const clock = { now: Date.parse('2030-01-01T00:00:00Z') };
    const { store } = await storeAt(clock);
    await store.change((s) => s.addVersion(s.create('encompass/local/w'), 'v'.repeat(32), { string: 'x' }));
    await store.change((s) => s.scheduleDeletion(s.find('encompass/local/w')!, 7));
    clock.now += 7 * DAY - 1;
    expect(store.find('encompass/local/w')?.deleted).toBeDefined();
    clock.now += 1;
    expect(store.find('encompass/local/w')).toBeUndefined();
    const created = await store.change((s) =>
      s.find('encompass/local/w') ? 'exists' : s.create('encompass/local/w').name,
    );
    expect(created).toBe('encompass/local/w');
  });
});

describe('versions', () => {
  it('keep at most 100 deprecated ones, dropping the oldest first', async () => {
    const clock = { now: 0 };
    const { store } = await storeAt(clock);
    await store.change((s) => {
      const secret = s.create('encompass/local/many');
      for (let i = 0; i < 103; i += 1) s.addVersion(secret, String(i).padStart(32, '0'), { string: `v${i}` });
    });
    const versions = store.find('encompass/local/many')!.versions;
    expect(versions).toHaveLength(102);
    expect(versions[0]!.id).toBe(String(1).padStart(32, '0'));
    expect(versions.filter((v) => v.stages.length > 0).map((v) => v.stages)).toEqual([['AWSPREVIOUS'], ['AWSCURRENT']]);
  });
});

describe('a change', () => {
  it('that throws leaves the store, in memory and on disk, as it was', async () => {
    const { store, vault } = await storeAt({ now: 0 });
    await store.change((s) => s.create('encompass/local/kept'));
    const before = JSON.stringify(await vault.read());
    await expect(
      store.change((s) => {
        s.remove(s.find('encompass/local/kept')!);
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect(store.find('encompass/local/kept')).toBeDefined();
    expect(JSON.stringify(await vault.read())).toBe(before);
  });

  it('runs one at a time, so concurrent changes all land', async () => {
    const { store, vault } = await storeAt({ now: 0 });
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.change((s) => s.create(`encompass/local/c${i}`))));
    const onDisk = (await vault.read()) as { secrets: { name: string }[] };
    expect(onDisk.secrets.map((s) => s.name).sort()).toEqual(
      Array.from({ length: 20 }, (_, i) => `encompass/local/c${i}`).sort(),
    );
  });
});
