// Child entry of the local S3 server (s3rver), started by s3.ts with an IPC channel and
// --openssl-legacy-provider (s3rver encrypts ListObjectsV2 continuation tokens with DES).
// argv[2] is JSON: { port, address, directory, buckets }.
// Sends { type: 'objectCreated', eventName, bucket, key, size, eTag } for each stored object.
import { AsyncLocalStorage } from 'node:async_hooks';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const S3rver = require('s3rver');
const AWSAccount = require('s3rver/lib/models/account');

// s3rver knows one access key (S3RVER) and does not verify SigV4 signatures. Let any key stand for
// that account, so clients with whatever dummy credentials are in their environment (the AWS CLI,
// the functions) work, as they do with DynamoDB Local.
const knownAccount = AWSAccount.registry.get.bind(AWSAccount.registry);
AWSAccount.registry.get = (accessKeyId) => knownAccount(accessKeyId) ?? AWSAccount.DUMMY_ACCOUNT;

const { port, address, directory, buckets } = JSON.parse(process.argv[2] ?? '{}');

const server = new S3rver({
  port,
  address,
  directory,
  silent: false,
  vhostBuckets: false,
  configureBuckets: buckets.map((name) => ({ name })),
});

// s3rver names a completed multipart upload "ObjectCreated:Post"; AWS says
// "ObjectCreated:CompleteMultipartUpload". The request that emitted the event tells them apart.
const request = new AsyncLocalStorage();
server.middleware.unshift((ctx, next) => request.run({ method: ctx.method, query: ctx.query }, next));

server.on('event', (event) => {
  for (const record of event.Records ?? []) {
    if (!record.eventName.startsWith('ObjectCreated:')) continue;
    const req = request.getStore();
    const multipart = req?.method === 'POST' && req.query?.uploadId !== undefined;
    const { object, bucket } = record.s3;
    process.send?.({
      type: 'objectCreated',
      eventName: multipart ? 'ObjectCreated:CompleteMultipartUpload' : record.eventName,
      bucket: bucket.name,
      key: object.key,
      size: Number(object.size ?? 0),
      eTag: object.eTag,
    });
  }
});

// The parent going away (even by SIGKILL) closes the channel and the stdin lifeline: do not outlive it.
process.on('disconnect', () => process.exit(0));
if (process.env.ENCOMPASS_LIFELINE === 'stdin') {
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('error', () => process.exit(0));
  process.stdin.resume();
}
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.close().finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  });
}

const where = await server.run();
console.log(`s3rver listening on ${where.address}:${where.port}, data in ${directory}`);
