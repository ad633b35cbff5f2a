/** What the local secret store keeps on disk: sealed, private, durable across restarts, and its own. */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterEach, describe, expect, it } from 'vitest';
import { startSecrets } from '../../../../infra/local/secrets';
import { KeyFileError, StoreLockedError, StoreUnreadableError } from '../../../../infra/local/secrets/errors';
import { tempDir } from '../helpers';
import { clientConfig, failure } from './helpers';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function home(): Promise<string> {
  const temp = await tempDir('secrets-disk');
  cleanups.push(temp.remove);
  return join(temp.path, 'secrets');
}

async function start(dir: string, credentials?: { accessKeyId: string; secretAccessKey: string }) {
  const secrets = await startSecrets({ dir, port: 0, credentials });
  const client = new SecretsManagerClient(clientConfig(secrets));
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    client.destroy();
    await secrets.stop();
  };
  cleanups.push(stop);
  return { secrets, client, stop };
}

const mode = (path: string) => statSync(path).mode & 0o777;

describe('the store on disk', () => {
  it('keeps every secret across a restart of the server on the same directory', async () => {
    const dir = await home();
    const first = await start(dir);
    await first.client.send(new CreateSecretCommand({ Name: 'encompass/local/a', SecretString: 'alpha-1' }));
    await first.client.send(new PutSecretValueCommand({ SecretId: 'encompass/local/a', SecretString: 'alpha-2' }));
    await first.client.send(new CreateSecretCommand({ Name: 'encompass/local/b', SecretBinary: Buffer.from('beta') }));
    await first.stop();

    const second = await start(dir);
    const a = await second.client.send(new GetSecretValueCommand({ SecretId: 'encompass/local/a' }));
    expect(a.SecretString).toBe('alpha-2');
    const previous = await second.client.send(
      new GetSecretValueCommand({ SecretId: 'encompass/local/a', VersionStage: 'AWSPREVIOUS' }),
    );
    expect(previous.SecretString).toBe('alpha-1');
    const b = await second.client.send(new GetSecretValueCommand({ SecretId: 'encompass/local/b' }));
    expect(Buffer.from(b.SecretBinary!).toString()).toBe('beta');
  });

  it('holds no value and no name in plain text, in any file (grep over the bytes)', async () => {
    const dir = await home();
    const { client, stop } = await start(dir);
    const value = 'plaintext-canary-Zq7-hunter2';
    await client.send(new CreateSecretCommand({ Name: 'encompass/local/canary-name', SecretString: value }));
    await client.send(
      new PutSecretValueCommand({ SecretId: 'encompass/local/canary-name', SecretString: `${value}-2` }),
    );
    await stop();
    const files = readdirSync(dir);
    expect(files.sort()).toEqual(['key', 'secrets.enc']);
    for (const needle of [value, 'canary-name', 'hunter2']) {
      const forms = [
        Buffer.from(needle, 'utf8'),
        Buffer.from(needle, 'utf16le'),
        Buffer.from(Buffer.from(needle).toString('base64').slice(0, -4)),
        Buffer.from(Buffer.from(needle).toString('hex')),
      ];
      for (const file of files)
        for (const form of forms)
          expect(readFileSync(join(dir, file)).includes(form), `${needle} in ${file}`).toBe(false);
      const grep = spawnSync('grep', ['-r', '-a', '-F', '-l', needle, dir], { encoding: 'utf8' });
      expect(grep.status, `grep found ${needle} in: ${grep.stdout}`).toBe(1);
    }
  });

  it('makes the directory 0700 and the key and store files 0600, the key 32 random bytes', async () => {
    const dir = await home();
    const { client, stop } = await start(dir);
    await client.send(new CreateSecretCommand({ Name: 'encompass/local/m', SecretString: 'mode' }));
    expect(mode(dir)).toBe(0o700);
    expect(mode(join(dir, 'key'))).toBe(0o600);
    expect(mode(join(dir, 'secrets.enc'))).toBe(0o600);
    expect(mode(join(dir, 'lock'))).toBe(0o600);
    const key = readFileSync(join(dir, 'key'));
    expect(key).toHaveLength(32);
    await stop();
    expect(readdirSync(dir)).not.toContain('lock');
    const other = await home();
    await (await start(other)).stop();
    expect(readFileSync(join(other, 'key')).equals(key)).toBe(false);
  });

  it('tightens a directory that was made with looser permissions', async () => {
    const dir = await home();
    mkdirSync(dir, { mode: 0o755 });
    chmodSync(dir, 0o755);
    await start(dir);
    expect(mode(dir)).toBe(0o700);
  });

  it('rewrites the whole store with a fresh IV on every change', async () => {
    const dir = await home();
    const { client } = await start(dir);
    await client.send(new CreateSecretCommand({ Name: 'encompass/local/iv', SecretString: 'same' }));
    const before = readFileSync(join(dir, 'secrets.enc'));
    await client.send(new CreateSecretCommand({ Name: 'encompass/local/iv2', SecretString: 'same' }));
    const after = readFileSync(join(dir, 'secrets.enc'));
    expect(after.subarray(0, 8).toString('latin1')).toBe('ENCSEC01');
    expect(after.subarray(8, 20).equals(before.subarray(8, 20))).toBe(false);
  });
});

describe('starting on a directory that is not right', () => {
  it('refuses a key file that other users can read, saying to chmod it', async () => {
    const dir = await home();
    await (await start(dir)).stop();
    chmodSync(join(dir, 'key'), 0o644);
    const error = await failure(start(dir));
    expect(error).toBeInstanceOf(KeyFileError);
    expect(error.message).toMatch(/open to other users \(mode 0644\): run chmod 600/);
  });

  it('refuses a store whose key file is missing instead of starting an empty store over it', async () => {
    const dir = await home();
    const { client, stop } = await start(dir);
    await client.send(new CreateSecretCommand({ Name: 'encompass/local/k', SecretString: 'keep me' }));
    await stop();
    rmSync(join(dir, 'key'));
    const error = await failure(start(dir));
    expect(error).toBeInstanceOf(KeyFileError);
    expect(error.message).toMatch(/is missing but secrets.enc exists/);
    expect(readdirSync(dir)).toEqual(['secrets.enc']);
  });

  it('refuses a store that was altered, or sealed with another key', async () => {
    const dir = await home();
    const { client, stop } = await start(dir);
    await client.send(new CreateSecretCommand({ Name: 'encompass/local/t', SecretString: 'tamper' }));
    await stop();
    const file = join(dir, 'secrets.enc');
    const sealed = readFileSync(file);
    const flipped = Buffer.from(sealed);
    flipped[flipped.length - 1]! ^= 1;
    writeFileSync(file, flipped);
    const altered = await failure(start(dir));
    expect(altered).toBeInstanceOf(StoreUnreadableError);
    expect(altered.message).toMatch(/fails authentication/);

    writeFileSync(file, sealed);
    writeFileSync(join(dir, 'key'), Buffer.alloc(32, 7), { mode: 0o600 });
    expect(await failure(start(dir))).toBeInstanceOf(StoreUnreadableError);
  });

  it('refuses a directory another live store serves, and takes over the lock of a dead one', async () => {
    const dir = await home();
    const { stop } = await start(dir);
    const error = await failure(start(dir));
    expect(error).toBeInstanceOf(StoreLockedError);
    expect(error.message).toContain(`in use by process ${process.pid}`);
    await stop();
    // A store that crashed leaves its lock behind, with the pid of a process that is gone.
    const dead = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
    writeFileSync(join(dir, 'lock'), dead.stdout, { mode: 0o600 });
    writeFileSync(join(dir, 'secrets.enc.999.deadbeef.tmp'), 'half a write', { mode: 0o600 });
    const again = await start(dir);
    expect(readFileSync(join(dir, 'lock'), 'utf8').trim()).toBe(String(process.pid));
    expect(readdirSync(dir)).not.toContain('secrets.enc.999.deadbeef.tmp');
    await again.stop();
  });
});
