/**
 * The secrets, their versions and their deletion state, kept in memory and sealed to the vault after every
 * change. This is the one place where Secrets Manager's bookkeeping rules live (operations.ts only reads
 * requests and shapes answers):
 * - a secret has an ARN `arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 random characters>`, a
 *   fresh suffix per creation, so an old ARN never finds a new secret of the same name;
 * - a version is immutable; its id is the request's ClientRequestToken; the new one takes `AWSCURRENT`, the
 *   one that had it takes `AWSPREVIOUS`, and versions left without a label are deprecated (kept, at most 100);
 * - a deleted secret stays, marked, until its recovery window ends; then it is gone for good.
 */
import { randomBytes } from 'node:crypto';
import { StoreUnreadableError } from './errors';
import type { Vault } from './vault';

export const CURRENT = 'AWSCURRENT';
export const PREVIOUS = 'AWSPREVIOUS';
/** Secrets Manager keeps about 100 deprecated versions of a secret. */
const MAX_DEPRECATED = 100;

/** A secret value: exactly one of a string or bytes (base64, as the JSON protocol carries them). */
export type SecretValue = { string: string; binary?: undefined } | { binary: string; string?: undefined };

export interface Version {
  id: string;
  value: SecretValue;
  stages: string[];
  /** Epoch milliseconds. */
  created: number;
}

export interface Tag {
  Key: string;
  Value?: string;
}

export interface Secret {
  arn: string;
  name: string;
  description?: string;
  tags?: Tag[];
  created: number;
  changed: number;
  /** Set by a DeleteSecret with a recovery window: when it was called and when the secret goes. */
  deleted?: { at: number; purgeAt: number };
  versions: Version[];
}

interface Document {
  format: 1;
  secrets: Secret[];
}

export interface Scope {
  region: string;
  accountId: string;
}

export const sameValue = (a: SecretValue, b: SecretValue) => a.string === b.string && a.binary === b.binary;

export class SecretStore {
  private document: Document;
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly vault: Vault,
    private readonly scope: Scope,
    private readonly now: () => number,
    document: Document,
  ) {
    this.document = document;
  }

  static async open(vault: Vault, scope: Scope, now: () => number = Date.now): Promise<SecretStore> {
    const read = await vault.read();
    if (read !== undefined && (read as Partial<Document>).format !== 1)
      throw new StoreUnreadableError(
        'secrets.enc',
        'was written by another version of ENCOMPASS: run that version, or move it away',
      );
    return new SecretStore(vault, scope, now, (read as Document | undefined) ?? { format: 1, secrets: [] });
  }

  /** A secret by name, full ARN or partial ARN (without the suffix); one past its recovery window is gone. */
  find(secretId: string): Secret | undefined {
    return findIn(this.live(this.document.secrets), secretId, this.scope);
  }

  /**
   * Runs `change` on a copy of the secrets, seals the copy, then makes it the store's state; one change at a
   * time. A change that throws leaves the store as it was.
   */
  change<T>(change: (secrets: Secrets) => T): Promise<T> {
    const run = this.queue.then(async () => {
      const draft: Document = structuredClone(this.document);
      draft.secrets = this.live(draft.secrets);
      const result = change(new Secrets(draft, this.scope, this.now()));
      await this.vault.write(draft);
      this.document = draft;
      return result;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Resolves once every change asked for so far is sealed (or has failed). */
  async settled(): Promise<void> {
    await this.queue;
  }

  private live(secrets: Secret[]): Secret[] {
    const now = this.now();
    return secrets.filter((s) => !s.deleted || s.deleted.purgeAt > now);
  }
}

/** The secrets inside one change: lookups and the bookkeeping rules. */
export class Secrets {
  constructor(
    private readonly document: Document,
    private readonly scope: Scope,
    readonly now: number,
  ) {}

  find(secretId: string): Secret | undefined {
    return findIn(this.document.secrets, secretId, this.scope);
  }

  create(name: string, description?: string, tags?: Tag[]): Secret {
    const secret: Secret = {
      arn: `arn:aws:secretsmanager:${this.scope.region}:${this.scope.accountId}:secret:${name}-${suffix()}`,
      name,
      created: this.now,
      changed: this.now,
      versions: [],
      ...(description === undefined ? {} : { description }),
      ...(tags === undefined ? {} : { tags }),
    };
    this.document.secrets.push(secret);
    return secret;
  }

  /** Adds a version that becomes AWSCURRENT; the version that was current becomes AWSPREVIOUS. */
  addVersion(secret: Secret, id: string, value: SecretValue): Version {
    for (const version of secret.versions) {
      version.stages = version.stages.filter((s) => s !== PREVIOUS);
      if (version.stages.includes(CURRENT)) version.stages = [...version.stages.filter((s) => s !== CURRENT), PREVIOUS];
    }
    const version: Version = { id, value, stages: [CURRENT], created: this.now };
    secret.versions.push(version);
    const deprecated = secret.versions.filter((v) => v.stages.length === 0);
    const drop = new Set(deprecated.slice(0, Math.max(0, deprecated.length - MAX_DEPRECATED)));
    secret.versions = secret.versions.filter((v) => !drop.has(v));
    secret.changed = this.now;
    return version;
  }

  scheduleDeletion(secret: Secret, recoveryDays: number): number {
    const purgeAt = this.now + recoveryDays * 24 * 60 * 60 * 1000;
    secret.deleted = { at: this.now, purgeAt };
    secret.changed = this.now;
    return purgeAt;
  }

  remove(secret: Secret): void {
    this.document.secrets = this.document.secrets.filter((s) => s !== secret);
  }

  restore(secret: Secret): void {
    delete secret.deleted;
    secret.changed = this.now;
  }
}

function findIn(secrets: Secret[], secretId: string, scope: Scope): Secret | undefined {
  if (!secretId.startsWith('arn:')) return secrets.find((s) => s.name === secretId);
  const prefix = `arn:aws:secretsmanager:${scope.region}:${scope.accountId}:secret:`;
  if (!secretId.startsWith(prefix)) return undefined;
  return secrets.find((s) => s.arn === secretId) ?? secrets.find((s) => s.name === secretId.slice(prefix.length));
}

const SUFFIX_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function suffix(): string {
  return [...randomBytes(6)].map((b) => SUFFIX_ALPHABET[b % SUFFIX_ALPHABET.length]).join('');
}
