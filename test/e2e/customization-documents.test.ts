/**
 * Customization travels by reference: a clone's items and variables sit in one S3 document per
 * operation, and the clone's record, the operation and the workflow hold only its key, sha256 and
 * size. So a customization of 1 MiB of items goes through the real stack (API in workerd, DynamoDB
 * Local, the S3 server, the Step Functions endpoint, the agent on a real ext4 image), while the
 * DynamoDB items and the execution input stay a few KiB; the sizes measured are printed.
 */

import { join } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, GetExecutionHistoryCommand, SFNClient } from '@aws-sdk/client-sfn';
import { describe, expect, inject, it, vi } from 'vitest';
import { configFromEnv } from '../../functions/config';
import { MAX_CUSTOMIZATION_BODY_BYTES } from '../../functions/events/customization';
import { s3Client } from '../../functions/store/catalog';
import { recordKey } from '../../functions/store/db';
import { itemSize } from '../../functions/store/limits';
import { revise } from '../../functions/store/resources';
import { Api } from '../support/api';
import { makeClone, makeMaster } from '../support/fixtures';
import { debugfsCat } from '../support/images';
import { stackDeps } from '../support/store';

const api = Api.admin();
const config = configFromEnv(inject('stack').env);
const s3 = s3Client(config);
const sfn = new SFNClient({
  region: config.region,
  endpoint: config.endpoints.stepfunctions,
  credentials: config.stepFunctionsCredentials,
});
const KiB = 1024;

/** The keys of a clone's customization documents in the bucket. */
async function documentsOf(clone: string): Promise<string[]> {
  const out = await s3.send(new ListObjectsV2Command({ Bucket: config.bucket, Prefix: `customizations/${clone}/` }));
  return (out.Contents ?? []).map((o) => o.Key!).sort();
}

/**
 * The clone's documents once the operation's clean-up ran: the commit records the operation first
 * and deletes the document it replaced (or the destroyed clone's) right after, so a poll of the
 * operation can see it succeeded a moment before the delete.
 */
async function documentsSettle(clone: string, expected: string[]): Promise<void> {
  await vi.waitFor(async () => expect(await documentsOf(clone)).toEqual(expected), { timeout: 15_000, interval: 200 });
}

/** Bytes of a stored item, as DynamoDB counts them, and of its JSON. */
async function storedBytes(kind: string, id: string) {
  const item = await stackDeps().db.get<Record<string, unknown>>(recordKey(kind, id));
  return { dynamodb: itemSize(item!).bytes, json: JSON.stringify(item).length };
}

/** The execution's input and the largest payload among its history events. */
async function executionBytes(operation: string) {
  const op = await stackDeps().operations.get(operation);
  const { input } = await sfn.send(new DescribeExecutionCommand({ executionArn: op!.executionArn }));
  const { events } = await sfn.send(
    new GetExecutionHistoryCommand({ executionArn: op!.executionArn, maxResults: 1000 }),
  );
  const largest = Math.max(...(events ?? []).map((e) => JSON.stringify(e).length));
  return { input: input!.length, largestEvent: largest, events: events?.length ?? 0 };
}

const fileItems = (n: number, bytes: number, tag = '') =>
  Array.from({ length: n }, (_, i) => ({
    type: 'file',
    path: `/etc/big${tag}${i}`,
    content: String.fromCharCode(97 + (i % 26)).repeat(bytes),
  }));

describe('customization documents', () => {
  it('applies 1 MiB of items through the whole stack while the record and the workflow stay a few KiB', async () => {
    const { dir, master } = await makeMaster(api);
    const clone = await makeClone(api, master.name);
    const items = fileItems(8, 128 * KiB);
    const body = { items, variables: { hostname: 'big-1' } };
    const bodyBytes = JSON.stringify(body).length;
    expect(bodyBytes).toBeGreaterThan(1024 * KiB);

    const op = await api.run(`/v1/clones/${clone.id}/customize`, body);
    expect(op.status, JSON.stringify(op).slice(0, 500)).toBe('succeeded');
    const file = join(dir, clone.path);
    expect(await debugfsCat(file, '/etc/big7')).toBe('h'.repeat(128 * KiB));
    expect(await debugfsCat(file, '/etc/hostname')).toBe('big-1\n');

    const c = (await api.get(`/v1/clones/${clone.id}`)).body;
    expect(c.customization).toMatchObject({ applied: 10, total: 10, pending: 0 });
    expect(c.customization.changes).toHaveLength(10);
    const doc = c.customization.document;
    expect(doc.sizeBytes).toBeGreaterThan(1024 * KiB);
    expect(await documentsOf(clone.id)).toEqual([doc.key]);
    expect(JSON.stringify(c)).not.toContain('aaaa');

    const record = await storedBytes('clone', clone.id);
    const operation = await storedBytes('operation', op.id);
    const execution = await executionBytes(op.id);
    console.log(
      `customize of ${(bodyBytes / KiB).toFixed(0)} KiB body (document ${(doc.sizeBytes / KiB).toFixed(0)} KiB): ` +
        `clone item ${record.dynamodb} B (JSON ${record.json} B), operation item ${operation.dynamodb} B, ` +
        `execution input ${execution.input} B, largest of ${execution.events} history events ${execution.largestEvent} B`,
    );
    for (const n of [record.dynamodb, operation.dynamodb, execution.input, execution.largestEvent])
      expect(n).toBeLessThan(16 * KiB);
  });

  it('keeps only the document the record names: a new one replaces it, a failed one goes, destroy removes it', async () => {
    const { master } = await makeMaster(api);
    const clone = await makeClone(api, master.name);
    expect((await api.run(`/v1/clones/${clone.id}/customize`, { variables: { hostname: 'd-1' } })).status).toBe(
      'succeeded',
    );
    const first = (await api.get(`/v1/clones/${clone.id}`)).body.customization.document.key;
    expect(await documentsOf(clone.id)).toEqual([first]);

    // Nothing added: the clone keeps its document.
    expect((await api.run(`/v1/clones/${clone.id}/customize`, {})).status).toBe('succeeded');
    expect(await documentsOf(clone.id)).toEqual([first]);

    expect((await api.run(`/v1/clones/${clone.id}/customize`, { items: fileItems(1, 10) })).status).toBe('succeeded');
    const second = (await api.get(`/v1/clones/${clone.id}`)).body.customization.document.key;
    expect(second).not.toBe(first);
    await documentsSettle(clone.id, [second]);

    // The agent refuses this item (no such file to replace in): the operation fails and its document goes.
    const failed = await api.run(`/v1/clones/${clone.id}/customize`, {
      items: [{ type: 'replace', path: '/etc/absent', pattern: 'x', replacement: 'y' }],
    });
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'file_not_found' } });
    await documentsSettle(clone.id, [second]);
    expect((await api.get(`/v1/clones/${clone.id}`)).body.customization).toMatchObject({ applied: 3, total: 3 });

    expect((await api.run(`/v1/clones/${clone.id}/destroy`)).status).toBe('succeeded');
    await documentsSettle(clone.id, []);
  });

  it('reads a record that keeps its items inline as its document, and the next customize moves them to one', async () => {
    const { dir, master } = await makeMaster(api);
    const clone = await makeClone(api, master.name);
    // A clone record as it was written before customization documents: its own items and variables inline.
    const deps = stackDeps();
    const stored = (await deps.clones.get(clone.id))!;
    const oldItems = [{ type: 'file' as const, path: '/etc/legacy', content: 'site ${site}\n' }];
    await deps.clones.save(
      revise(
        stored,
        { customization: { items: oldItems, variables: { hostname: 'old-1', site: 'east' }, applied: 0, changes: [] } },
        new Date().toISOString(),
      ),
    );
    expect((await api.get(`/v1/clones/${clone.id}`)).body.customization).toMatchObject({ total: 3, pending: 3 });

    const op = await api.run(`/v1/clones/${clone.id}/customize`, {
      items: [{ type: 'file', path: '/etc/added', content: '${hostname} ${site}\n' }],
      variables: { site: 'west' },
    });
    expect(op.status, JSON.stringify(op).slice(0, 500)).toBe('succeeded');
    const file = join(dir, clone.path);
    expect(await debugfsCat(file, '/etc/hostname')).toBe('old-1\n');
    expect(await debugfsCat(file, '/etc/legacy')).toBe('site west\n');
    expect(await debugfsCat(file, '/etc/added')).toBe('old-1 west\n');

    const after = (await deps.clones.get(clone.id))!;
    expect(Object.keys(after.customization).sort()).toEqual(['applied', 'changes', 'document']);
    expect(after.customization.applied).toBe(4);
    expect(await deps.customizations.get(after.customization.document!)).toEqual({
      items: [
        ...master.customization,
        ...oldItems,
        { type: 'file', path: '/etc/added', content: '${hostname} ${site}\n' },
      ],
      variables: { hostname: 'old-1', site: 'west' },
    });
    expect(await documentsOf(clone.id)).toEqual([after.customization.document!.key]);
  });

  it(`refuses a body over ${MAX_CUSTOMIZATION_BODY_BYTES / 1024 / 1024} MiB with 413 and writes nothing`, async () => {
    const { master } = await makeMaster(api);
    const clone = await makeClone(api, master.name);
    const r = await api.post(`/v1/clones/${clone.id}/customize`, {
      items: fileItems(17, 250 * KiB),
      variables: { hostname: 'h' },
    });
    expect(r.status).toBe(413);
    expect(r.body.error).toMatchObject({ code: 'too_large', limit: MAX_CUSTOMIZATION_BODY_BYTES });
    expect((await api.get(`/v1/clones/${clone.id}`)).body).toEqual(clone);
    expect(await documentsOf(clone.id)).toEqual([]);
  });
});
