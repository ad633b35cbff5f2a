/**
 * The Secrets Manager operations the store serves, with AWS's request and response shapes. Each reads and
 * checks its parameters, then applies the bookkeeping of store.ts; none ever puts a value in an error.
 */
import { randomUUID } from 'node:crypto';
import {
  InvalidParameterError,
  MarkedForDeletionError,
  NameScheduledForDeletionError,
  SecretExistsError,
  SecretNotFoundError,
  SecretValueNotFoundError,
  VersionExistsError,
} from './errors';
import {
  epochSeconds,
  optionalBoolean,
  optionalInteger,
  optionalString,
  type RequestBody,
  refuseUnsupported,
  requiredString,
} from './request';
import { CURRENT, type Secret, type SecretStore, type SecretValue, sameValue, type Tag, type Version } from './store';

export type Operation = (body: RequestBody) => Promise<RequestBody>;

/** Secrets Manager's limits: names, tokens, values, descriptions, tags, recovery windows. */
const NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const MAX_VALUE_BYTES = 65_536;
const MAX_DESCRIPTION = 2048;
const MAX_TAGS = 50;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function buildOperations(store: SecretStore): Record<string, Operation> {
  return {
    async CreateSecret(body) {
      const name = requiredString(body, 'Name');
      if (!NAME.test(name))
        throw new InvalidParameterError('Name', 'is not a valid secret name: use 1-512 letters, digits or /_+=.@-');
      const token = readToken(body);
      const value = readValue(body);
      refuseUnsupported(body, ['KmsKeyId', 'AddReplicaRegions'], 'it seals every secret with its own key file');
      if (optionalBoolean(body, 'ForceOverwriteReplicaSecret'))
        throw new InvalidParameterError(
          'ForceOverwriteReplicaSecret',
          'is not supported: the local store has no replicas',
        );
      const description = readDescription(body);
      const tags = readTags(body);
      return store.change((secrets) => {
        const existing = secrets.find(name);
        if (existing?.deleted) throw new NameScheduledForDeletionError(name);
        if (existing) {
          // A retry of the same call (same token, same value) is answered as the first one was.
          const earlier = value && token ? existing.versions.find((v) => v.id === token) : undefined;
          if (earlier && value && sameValue(earlier.value, value))
            return { ARN: existing.arn, Name: existing.name, VersionId: earlier.id };
          throw new SecretExistsError(name);
        }
        const secret = secrets.create(name, description, tags);
        const version = value ? secrets.addVersion(secret, token ?? randomUUID(), value) : undefined;
        return { ARN: secret.arn, Name: secret.name, ...(version ? { VersionId: version.id } : {}) };
      });
    },

    async PutSecretValue(body) {
      const secretId = requiredString(body, 'SecretId');
      const token = readToken(body) ?? randomUUID();
      const value = readValue(body);
      if (!value)
        throw new InvalidParameterError('SecretString', 'or SecretBinary is required: give the value to store');
      const stages = body['VersionStages'];
      if (stages !== undefined && !(Array.isArray(stages) && stages.length === 1 && stages[0] === CURRENT))
        throw new InvalidParameterError('VersionStages', `is not supported beyond ["${CURRENT}"] (no rotation here)`);
      refuseUnsupported(body, ['RotationToken'], 'it does not rotate secrets');
      return store.change((secrets) => {
        const secret = usable(secrets.find(secretId), secretId, 'PutSecretValue');
        const earlier = secret.versions.find((v) => v.id === token);
        if (earlier && !sameValue(earlier.value, value)) throw new VersionExistsError(secret.name, token);
        const version = earlier ?? secrets.addVersion(secret, token, value);
        return { ARN: secret.arn, Name: secret.name, VersionId: version.id, VersionStages: [...version.stages] };
      });
    },

    async GetSecretValue(body) {
      const secretId = requiredString(body, 'SecretId');
      const versionId = optionalString(body, 'VersionId');
      const stage = optionalString(body, 'VersionStage');
      const secret = usable(store.find(secretId), secretId, 'GetSecretValue');
      const version = pickVersion(secret, versionId, stage);
      return {
        ARN: secret.arn,
        Name: secret.name,
        VersionId: version.id,
        ...(version.value.string === undefined
          ? { SecretBinary: version.value.binary }
          : { SecretString: version.value.string }),
        VersionStages: [...version.stages],
        CreatedDate: epochSeconds(version.created),
      };
    },

    async DescribeSecret(body) {
      const secretId = requiredString(body, 'SecretId');
      const secret = store.find(secretId);
      if (!secret) throw new SecretNotFoundError(secretId);
      return {
        ARN: secret.arn,
        Name: secret.name,
        ...(secret.description === undefined ? {} : { Description: secret.description }),
        RotationEnabled: false,
        CreatedDate: epochSeconds(secret.created),
        LastChangedDate: epochSeconds(secret.changed),
        ...(secret.deleted ? { DeletedDate: epochSeconds(secret.deleted.at) } : {}),
        ...(secret.tags ? { Tags: secret.tags } : {}),
        VersionIdsToStages: Object.fromEntries(
          secret.versions.filter((v) => v.stages.length > 0).map((v) => [v.id, [...v.stages]]),
        ),
      };
    },

    async DeleteSecret(body) {
      const secretId = requiredString(body, 'SecretId');
      const window = optionalInteger(body, 'RecoveryWindowInDays');
      const force = optionalBoolean(body, 'ForceDeleteWithoutRecovery') ?? false;
      if (force && window !== undefined)
        throw new InvalidParameterError(
          'ForceDeleteWithoutRecovery',
          "can't be used together with RecoveryWindowInDays: give one of them",
        );
      if (window !== undefined && (window < 7 || window > 30))
        throw new InvalidParameterError('RecoveryWindowInDays', 'must be between 7 and 30 days (inclusive)');
      return store.change((secrets) => {
        const secret = secrets.find(secretId);
        if (!secret) throw new SecretNotFoundError(secretId);
        if (force) {
          secrets.remove(secret);
          return { ARN: secret.arn, Name: secret.name, DeletionDate: epochSeconds(secrets.now) };
        }
        if (secret.deleted) throw new MarkedForDeletionError(secret.name, 'DeleteSecret');
        const purgeAt = secrets.scheduleDeletion(secret, window ?? 30);
        return { ARN: secret.arn, Name: secret.name, DeletionDate: epochSeconds(purgeAt) };
      });
    },

    async RestoreSecret(body) {
      const secretId = requiredString(body, 'SecretId');
      return store.change((secrets) => {
        const secret = secrets.find(secretId);
        if (!secret) throw new SecretNotFoundError(secretId);
        secrets.restore(secret);
        return { ARN: secret.arn, Name: secret.name };
      });
    },
  };
}

function usable(secret: Secret | undefined, secretId: string, operation: string): Secret {
  if (!secret) throw new SecretNotFoundError(secretId);
  if (secret.deleted) throw new MarkedForDeletionError(secret.name, operation);
  return secret;
}

function pickVersion(secret: Secret, versionId: string | undefined, stage: string | undefined): Version {
  const wanted = stage ?? (versionId === undefined ? CURRENT : undefined);
  const version = secret.versions.find(
    (v) => (versionId === undefined || v.id === versionId) && (wanted === undefined || v.stages.includes(wanted)),
  );
  if (version) return version;
  const selector = [versionId && `VersionId ${versionId}`, wanted && `staging label ${wanted}`].filter(Boolean);
  throw new SecretValueNotFoundError(secret.name, selector.join(' and '));
}

function readToken(body: RequestBody): string | undefined {
  const token = optionalString(body, 'ClientRequestToken');
  if (token !== undefined && (token.length < 32 || token.length > 64))
    throw new InvalidParameterError('ClientRequestToken', 'must be 32-64 characters long (a UUID is)');
  return token;
}

/** The value of the request, if it has one; only its size is ever reported. */
function readValue(body: RequestBody): SecretValue | undefined {
  const string = optionalString(body, 'SecretString');
  const binary = optionalString(body, 'SecretBinary');
  if (string !== undefined && binary !== undefined)
    throw new InvalidParameterError('SecretString', "and SecretBinary can't both be given: store one of them");
  if (string !== undefined) {
    if (Buffer.byteLength(string, 'utf8') > MAX_VALUE_BYTES)
      throw new InvalidParameterError('SecretString', `is longer than ${MAX_VALUE_BYTES} bytes`);
    return { string };
  }
  if (binary === undefined) return undefined;
  if (!BASE64.test(binary)) throw new InvalidParameterError('SecretBinary', 'is not base64');
  if (Buffer.from(binary, 'base64').length > MAX_VALUE_BYTES)
    throw new InvalidParameterError('SecretBinary', `is longer than ${MAX_VALUE_BYTES} bytes`);
  return { binary };
}

function readDescription(body: RequestBody): string | undefined {
  const description = optionalString(body, 'Description');
  if (description !== undefined && description.length > MAX_DESCRIPTION)
    throw new InvalidParameterError('Description', `is longer than ${MAX_DESCRIPTION} characters`);
  return description;
}

function readTags(body: RequestBody): Tag[] | undefined {
  const tags = body['Tags'];
  if (tags === undefined || tags === null) return undefined;
  const valid =
    Array.isArray(tags) &&
    tags.length <= MAX_TAGS &&
    tags.every(
      (t) =>
        t &&
        typeof t === 'object' &&
        typeof t.Key === 'string' &&
        t.Key.length >= 1 &&
        t.Key.length <= 128 &&
        (t.Value === undefined || (typeof t.Value === 'string' && t.Value.length <= 256)),
    );
  if (!valid)
    throw new InvalidParameterError(
      'Tags',
      `must be at most ${MAX_TAGS} {Key, Value} pairs (keys 1-128, values 0-256)`,
    );
  return (tags as Tag[]).map((t) => (t.Value === undefined ? { Key: t.Key } : { Key: t.Key, Value: t.Value }));
}
