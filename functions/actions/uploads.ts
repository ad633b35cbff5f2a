/**
 * Uploading a master: `POST /v1/uploads` hands out presigned S3 URLs under `uploads/masters/`;
 * the object-created event (S3 notification locally, EventBridge in AWS) starts the import by
 * itself. The agent pulls the object through a presigned GET (it holds no AWS credentials),
 * verifies its sha256, and the object is deleted only once the master is recorded.
 */
import type { z } from 'zod';
import type { Principal } from '../auth/principal';
import type { Deps } from '../deps';
import type { createUpload } from '../domain/schemas';
import { NameTakenError } from '../errors';
import { recordKey, TransactionConflict } from '../store/db';
import { newId } from '../store/ids';
import { importMasterAction } from './masters';

/** Objects up to this size go up in one PUT; larger ones in parts of PART_BYTES, or larger (partBytesFor). */
export const SINGLE_PUT_MAX = 100 * 1024 * 1024;
export const PART_BYTES = 64 * 1024 * 1024;
/**
 * At most this many parts, each presigned when the upload is made (~0.6 ms apiece): bigger images get
 * bigger parts, up to S3's 5 GiB a part, so 1024 of them carry S3's largest object (5 TiB).
 */
export const MAX_PARTS = 1024;

/** The part size for an object of `size` bytes: PART_BYTES, or whole MiB enough for MAX_PARTS parts. */
export function partBytesFor(size: number): number {
  const mib = 1024 * 1024;
  return Math.max(PART_BYTES, Math.ceil(size / MAX_PARTS / mib) * mib);
}
const URL_SECONDS = 6 * 3600;

export interface Upload {
  id: string;
  key: string;
  status: 'pending' | 'importing';
  request: z.infer<typeof createUpload>;
  actor: string;
  createdAt: string;
  operation?: string;
  /** The site of the upload's repository and the id its master will have: the pending operation's view names both. */
  site?: string;
  master?: string;
}

export const uploadPrefix = 'uploads/masters/';

export async function createUploadAction(deps: Deps, p: Principal | undefined, body: z.infer<typeof createUpload>) {
  const repo = await deps.repositories.requireReady(body.repository, 'an upload');
  if (await deps.masters.find(body.name)) throw new NameTakenError('master', body.name);
  const id = newId('upload');
  const key = `${uploadPrefix}${id}/${body.name}.img`;
  const now = deps.now();
  // The import's operation id is handed out now, so the client can wait on it from the start.
  const operation = newId('operation');
  const upload: Upload = {
    id,
    key,
    status: 'pending',
    request: body,
    actor: p ? `${p.role}:${p.tokenId}` : 'anonymous',
    createdAt: now,
    operation,
    site: repo.site,
    master: newId('master'),
  };
  // Pending uploads expire with the URLs (DynamoDB TTL).
  const ttl = Math.floor(Date.now() / 1000) + URL_SECONDS;
  await deps.db.transact([
    deps.db.putNew({ ...upload, ...recordKey('upload', id), ttl }),
    deps.db.putNew({ ...recordKey('upload-operation', operation), upload: id, ttl }),
  ]);
  const answer = { upload: id, key, operation, links: { operation: `/v1/operations/${operation}` } };
  if (body.sizeBytes <= SINGLE_PUT_MAX)
    return {
      ...answer,
      key,
      method: 'PUT',
      url: await deps.presigner.put(key, URL_SECONDS),
      expiresInSeconds: URL_SECONDS,
    };
  const partBytes = partBytesFor(body.sizeBytes);
  const multipart = await deps.presigner.multipart(key, Math.ceil(body.sizeBytes / partBytes), URL_SECONDS);
  return { ...answer, method: 'multipart', partBytes, ...multipart, expiresInSeconds: URL_SECONDS };
}

/**
 * The operation an upload handed out, until the upload's import starts it: running in its `upload`
 * step, or failed once the upload's URLs expired with nothing uploaded. Undefined: no upload names it.
 */
export async function awaitedImport(deps: Deps, operation: string) {
  const ref = await deps.db.get<{ upload: string }>(recordKey('upload-operation', operation));
  const upload = ref && (await deps.db.get<Upload & { ttl?: number }>(recordKey('upload', ref.upload)));
  if (!upload) return undefined;
  const expired = upload.status === 'pending' && upload.ttl !== undefined && upload.ttl * 1000 < Date.now();
  const expiredAt = new Date((upload.ttl ?? 0) * 1000).toISOString();
  return {
    id: operation,
    kind: 'import',
    resource: { kind: 'master', id: upload.master ?? '', name: upload.request.name },
    site: upload.site ?? '',
    status: expired ? ('failed' as const) : ('running' as const),
    progress: 0,
    steps: [
      {
        name: 'upload',
        status: expired ? ('failed' as const) : ('running' as const),
        startedAt: upload.createdAt,
        message: 'waiting for the upload to complete; the import starts when it does',
        ...(expired ? { endedAt: expiredAt } : {}),
      },
    ],
    request: { upload: upload.id, key: upload.key, repository: upload.request.repository },
    ...(expired
      ? {
          error: {
            code: 'upload_expired',
            message: `nothing was uploaded to ${upload.key} before its URLs expired; ask for a new upload (POST /v1/uploads) and upload again`,
          },
        }
      : {}),
    actor: upload.actor,
    createdAt: upload.createdAt,
    updatedAt: expired ? expiredAt : upload.createdAt,
  };
}

export interface ObjectCreated {
  bucket: string;
  key: string;
  size: number;
}

/** Reads both shapes: an S3 notification record (local stack) and an EventBridge "Object Created" event. */
type S3Object = { bucket: { name: string }; object: { key: string; size: number } };
type Notification = { eventName?: string; s3?: S3Object };
type BridgeEvent = { source?: string; 'detail-type'?: string; detail?: S3Object; Records?: Notification[] };

export function objectCreatedOf(event: unknown): ObjectCreated | undefined {
  const e = (event ?? {}) as BridgeEvent & Notification;
  if (e.source === 'aws.s3' && e['detail-type'] === 'Object Created' && e.detail)
    return { bucket: e.detail.bucket.name, key: e.detail.object.key, size: e.detail.object.size };
  const r = e.Records?.[0] ?? e;
  // Notification keys are URL-encoded, with "+" for spaces.
  if (r.eventName?.startsWith('ObjectCreated') && r.s3)
    return {
      bucket: r.s3.bucket.name,
      key: decodeURIComponent(r.s3.object.key.replace(/\+/g, ' ')),
      size: r.s3.object.size,
    };
  return undefined;
}

/** Starts the import of an uploaded object, once: a repeated event finds the upload taken. */
export async function objectCreated(deps: Deps, o: ObjectCreated) {
  if (o.bucket !== deps.config.bucket || !o.key.startsWith(uploadPrefix)) return { ignored: 'not an upload' };
  const id = o.key.slice(uploadPrefix.length).split('/')[0]!;
  const upload = await deps.db.get<Upload>(recordKey('upload', id));
  if (!upload || upload.key !== o.key) return { ignored: 'unknown upload' };
  if (upload.status !== 'pending') return { ignored: 'already importing', operation: upload.operation };
  const r = upload.request;
  const claim = {
    Update: {
      TableName: deps.db.table,
      Key: recordKey('upload', id),
      UpdateExpression: 'SET #s = :importing REMOVE #ttl',
      ConditionExpression: '#s = :pending',
      ExpressionAttributeNames: { '#s': 'status', '#ttl': 'ttl' },
      ExpressionAttributeValues: { ':importing': 'importing', ':pending': 'pending' },
    },
  };
  try {
    const accepted = await importMasterAction(
      deps,
      { role: 'operator', tokenId: upload.actor.split(':')[1] ?? 'upload' },
      {
        name: r.name,
        repository: r.repository,
        path: `masters/${r.name}-v1.img`,
        format: r.format,
        profile: r.profile,
        requirements: r.requirements,
        customization: r.customization,
      },
      {
        pull: {
          upload: id,
          key: o.key,
          url: await deps.presigner.get(o.key, URL_SECONDS),
          sizeBytes: o.size,
          sha256: r.sha256,
        },
        writes: [claim],
        ...(upload.operation ? { operation: upload.operation } : {}),
        ...(upload.master ? { master: upload.master } : {}),
      },
    );
    return { started: accepted.operation };
  } catch (e) {
    // A duplicate event that lost the race to claim the upload: the winner's claim or its new master
    // record stopped this one (a conflict, or the name already taken by the import it started).
    if (e instanceof TransactionConflict) return { ignored: 'already importing' };
    const now = await deps.db.get<Upload>(recordKey('upload', id));
    if (now && now.status !== 'pending') return { ignored: 'already importing', operation: now.operation };
    throw e;
  }
}
