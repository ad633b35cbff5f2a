/**
 * A commit that fails after the agent changed the image is undone before the failure is recorded:
 * the workflow has the agent roll back exactly the range it applied, then the operation fails with
 * an error that says so, and the clone can be customized again (no stale undo record in the way).
 * The suite runs its own stack: it holds the agent back while it makes the commit fail, by growing
 * the clone's record (as another writer could) so that the change no longer fits in it.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetExecutionHistoryCommand, SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configFromEnv } from '../../../functions/config';
import { recordKey } from '../../../functions/store/db';
import { itemSize, MAX_ITEM_BYTES } from '../../../functions/store/limits';
import { type Stack, startStack } from '../../../infra/local/stack';
import { Api } from '../../support/api';
import { hostnameItems, unique } from '../../support/fixtures';
import { baseFiles, debugfsCat, makeExt4 } from '../../support/images';

let stack: Stack;
let api: Api;
let doc: DynamoDBDocumentClient;
let sfn: SFNClient;
let table: string;

beforeAll(async () => {
  stack = await startStack({ home: await mkdtemp(join(tmpdir(), 'encompass-undo-')), port: 0 });
  api = new Api(stack.url, stack.adminToken);
  const config = configFromEnv(stack.env);
  table = config.table;
  const aws = { region: config.region, credentials: config.credentials };
  doc = DynamoDBDocumentClient.from(new DynamoDBClient({ ...aws, endpoint: stack.endpoints.dynamodb }));
  sfn = new SFNClient({
    region: config.region,
    endpoint: stack.endpoints.stepfunctions,
    credentials: config.stepFunctionsCredentials,
  });
});

afterAll(async () => {
  await stack?.stop();
  if (stack) await rm(stack.home, { recursive: true, force: true });
});

const items = Array.from({ length: 40 }, (_, i) => ({
  type: 'file',
  path: `/etc/u${i}`,
  content: `u${i} \${hostname}\n`,
}));
const touched = ['/etc/hostname', '/etc/hosts', ...items.map((i) => i.path)];

/** sha256 of every file the customization touches, as the image holds them (a missing file reads as empty). */
async function contentHash(image: string): Promise<string> {
  const h = createHash('sha256');
  for (const path of touched) h.update(`${path}\0${await debugfsCat(image, path)}\0`);
  return h.digest('hex');
}

const fileHash = async (p: string) =>
  createHash('sha256')
    .update(await readFile(p))
    .digest('hex');

describe('a failed commit of a customization', () => {
  let dir: string;
  let clone: { id: string; path: string };

  beforeAll(async () => {
    await mkdir(join(stack.home, 'repos'), { recursive: true });
    dir = await mkdtemp(join(stack.home, 'repos', 'undo-'));
    await makeExt4(join(dir, 'masters/base.img'), baseFiles);
    const repo = (await api.createRepository({ name: unique('repo'), site: 'local', kind: 'file', path: dir })).body;
    const master = unique('master');
    const imported = await api.run('/v1/masters', {
      name: master,
      repository: repo.name,
      path: 'masters/base.img',
      customization: hostnameItems,
    });
    expect(imported.status, JSON.stringify(imported)).toBe('succeeded');
    const name = unique('clone');
    expect((await api.run('/v1/clones', { master, name })).status).toBe('succeeded');
    clone = (await api.get(`/v1/clones/${name}`)).body;
  });

  it('has the agent roll the image back before the operation fails, with an error that says so', async () => {
    const image = join(dir, clone.path);
    const before = { content: await contentHash(image), file: await fileHash(image) };

    // The agent is held back until the record has grown: the request is accepted while it fits.
    await stack.stopAgent();
    const r = await api.post(`/v1/clones/${clone.id}/customize`, { items, variables: { hostname: 'undo-1' } });
    expect(r.status, JSON.stringify(r.body)).toBe(202);
    const key = recordKey('clone', clone.id);
    const stored = (await doc.send(new GetCommand({ TableName: table, Key: key }))).Item!;
    // Room for the failure's note (lastError), none for the 42 changes the commit would add.
    const room = 1500;
    const padding = 'p'.repeat(MAX_ITEM_BYTES - itemSize(stored).bytes - room - 'padding'.length - 8);
    await doc.send(
      new UpdateCommand({
        TableName: table,
        Key: key,
        UpdateExpression: 'SET padding = :p',
        ExpressionAttributeValues: { ':p': padding },
      }),
    );
    await stack.restartAgent();

    const op = await api.wait(r.body.operation, 90_000);
    expect(op).toMatchObject({ status: 'failed', error: { code: 'record_too_large' } });
    expect(op.error.message).toContain('clone record');
    expect(op.error.message).toContain('The change to the image was undone before this failure was recorded');

    const after = { content: await contentHash(image), file: await fileHash(image) };
    console.log(
      `undo after a failed commit: files' sha256 before ${before.content.slice(0, 16)}…, after ${after.content.slice(0, 16)}… ` +
        `(image file sha256 before ${before.file.slice(0, 16)}…, after ${after.file.slice(0, 16)}…: ext4 metadata such as inode times moves)`,
    );
    expect(after.content).toBe(before.content);
    expect(await debugfsCat(image, '/etc/hostname')).toBe('template\n');

    const c = (await api.get(`/v1/clones/${clone.id}`)).body;
    expect(c.lock).toBeUndefined();
    expect(c.customization).toMatchObject({ applied: 0, changes: [] });
    expect(c.customization.document).toBeUndefined();
    expect(c.lastError).toMatchObject({ code: 'record_too_large', operation: op.id });

    // The undo ran on the agent before the failure was recorded.
    const { events } = await sfn.send(
      new GetExecutionHistoryCommand({
        executionArn: (await stack.deps.operations.get(op.id))!.executionArn,
        maxResults: 1000,
      }),
    );
    const entered = (events ?? []).flatMap((e) =>
      e.stateEnteredEventDetails ? [e.stateEnteredEventDetails.name] : [],
    );
    expect(entered).toEqual(['Route', 'Customize', 'Commit', 'Undo', 'UndoRollback', 'RecordUndone', 'Failed']);

    // Once the record has room again, the same request goes through: no undo record is left in its way.
    await doc.send(new UpdateCommand({ TableName: table, Key: key, UpdateExpression: 'REMOVE padding' }));
    const again = await api.run(`/v1/clones/${clone.id}/customize`, { items, variables: { hostname: 'undo-1' } });
    expect(again.status, JSON.stringify(again)).toBe('succeeded');
    expect(await debugfsCat(image, '/etc/hostname')).toBe('undo-1\n');
    expect(await debugfsCat(image, '/etc/u39')).toBe('u39 undo-1\n');
  });
});
