/**
 * The store's bytes on disk, in one directory (mode 0700):
 * - `key`: 32 random bytes (mode 0600), made on first start; without it the store cannot be read.
 * - `secrets.enc`: the whole store as JSON, sealed with AES-256-GCM: `ENCSEC01` | 12-byte IV | 16-byte tag |
 *   ciphertext, the magic bound in as additional data, a fresh IV per write. A flipped bit, a truncated file or
 *   another key fails authentication instead of reading as garbage.
 * - `lock`: the pid of the process serving the directory, so two stores never overwrite each other.
 * Every write goes to a temp file (mode 0600) that is fsynced, renamed over `secrets.enc`, then the directory is
 * fsynced: a crash leaves the old store or the new one, never half of one.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmod, type FileHandle, mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { KeyFileError, StoreLockedError, StoreUnreadableError } from './errors';

export const KEY_FILE = 'key';
export const STORE_FILE = 'secrets.enc';
const LOCK_FILE = 'lock';
const TEMP_SUFFIX = '.tmp';
const MAGIC = Buffer.from('ENCSEC01', 'latin1');
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface Vault {
  /** The sealed document, or undefined before the first write. */
  read(): Promise<unknown>;
  /** Seals and replaces the document atomically; resolves once it is durable. */
  write(document: unknown): Promise<void>;
  /** Gives the directory up (removes the lock). */
  close(): Promise<void>;
}

/** Opens (making it on first use) the vault in `dir`; refuses a directory another live process serves. */
export async function openVault(dir: string): Promise<Vault> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const unlock = await takeLock(dir);
  try {
    await removeTempFiles(dir);
    const key = await loadOrCreateKey(dir);
    const storeFile = join(dir, STORE_FILE);
    return {
      read: () => unseal(storeFile, key),
      write: (document) => writeAtomically(dir, STORE_FILE, seal(key, Buffer.from(JSON.stringify(document), 'utf8'))),
      close: unlock,
    };
  } catch (error) {
    await unlock();
    throw error;
  }
}

function seal(key: Buffer, plaintext: Buffer): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(MAGIC);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  plaintext.fill(0);
  return Buffer.concat([MAGIC, iv, cipher.getAuthTag(), ciphertext]);
}

async function unseal(file: string, key: Buffer): Promise<unknown> {
  let sealed: Buffer;
  try {
    sealed = await readFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new StoreUnreadableError(file, 'cannot be read: check its owner and mode (0600)', { cause: error });
  }
  const head = MAGIC.length + IV_BYTES + TAG_BYTES;
  if (sealed.length < head || !sealed.subarray(0, MAGIC.length).equals(MAGIC))
    throw new StoreUnreadableError(file, 'is not an ENCOMPASS secret store: restore it from a backup or move it away');
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(MAGIC.length, MAGIC.length + IV_BYTES));
  decipher.setAAD(MAGIC).setAuthTag(sealed.subarray(MAGIC.length + IV_BYTES, head));
  let plaintext: Buffer;
  try {
    plaintext = Buffer.concat([decipher.update(sealed.subarray(head)), decipher.final()]);
  } catch {
    // No cause: there is nothing in it but "Unsupported state or unable to authenticate data".
    throw new StoreUnreadableError(
      file,
      `fails authentication: it was altered, or ${KEY_FILE} is not the key it was written with; restore both from ` +
        'the same backup',
    );
  }
  try {
    return JSON.parse(plaintext.toString('utf8'));
  } finally {
    plaintext.fill(0);
  }
}

async function loadOrCreateKey(dir: string): Promise<Buffer> {
  const file = join(dir, KEY_FILE);
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new KeyFileError(file, 'cannot be opened: check its owner and mode (0600)', { cause: error });
    if (await exists(join(dir, STORE_FILE)))
      throw new KeyFileError(
        file,
        `is missing but ${STORE_FILE} exists, so the store cannot be read: restore the key file, or move ` +
          `${STORE_FILE} away to start an empty store`,
      );
    const key = randomBytes(KEY_BYTES);
    await writeAtomically(dir, KEY_FILE, key);
    return key;
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new KeyFileError(file, 'is not a regular file: remove it and restart to make a new key');
    if ((info.mode & 0o077) !== 0)
      throw new KeyFileError(
        file,
        `is open to other users (mode 0${(info.mode & 0o777).toString(8)}): run chmod 600 on it, and consider the key known`,
      );
    if (process.getuid && info.uid !== process.getuid())
      throw new KeyFileError(
        file,
        `belongs to uid ${info.uid}, not to this process's user: run the stack as its owner`,
      );
    const key = await handle.readFile();
    if (key.length !== KEY_BYTES)
      throw new KeyFileError(file, `holds ${key.length} bytes, not ${KEY_BYTES}: restore it from a backup`);
    return key;
  } finally {
    await handle.close();
  }
}

/** Writes `bytes` as `dir/name` (mode 0600) through an fsynced temp file and an fsynced rename. */
async function writeAtomically(dir: string, name: string, bytes: Buffer): Promise<void> {
  const temp = join(dir, `${name}.${process.pid}.${randomBytes(4).toString('hex')}${TEMP_SUFFIX}`);
  const handle = await open(temp, 'wx', 0o600);
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temp, { force: true });
    throw error;
  }
  await handle.close();
  await rename(temp, join(dir, name));
  const dirHandle = await open(dir, 'r');
  try {
    await dirHandle.sync();
  } finally {
    await dirHandle.close();
  }
}

async function takeLock(dir: string): Promise<() => Promise<void>> {
  const file = join(dir, LOCK_FILE);
  const release = () => rm(file, { force: true });
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const handle = await open(file, 'wx', 0o600);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return release;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const pid = Number.parseInt(await readFile(file, 'utf8').catch(() => ''), 10);
      if (pid > 0 && isAlive(pid)) throw new StoreLockedError(dir, pid);
      // The process that held it is gone (a crash): the lock is stale.
      await rm(file, { force: true });
    }
  }
  throw new StoreLockedError(dir, Number.NaN);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Temp files an interrupted write left; the store they were meant to replace is still whole. */
async function removeTempFiles(dir: string): Promise<void> {
  for (const name of await readdir(dir))
    if (name.endsWith(TEMP_SUFFIX) && (name.startsWith(`${STORE_FILE}.`) || name.startsWith(`${KEY_FILE}.`)))
      await rm(join(dir, name), { force: true });
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}
