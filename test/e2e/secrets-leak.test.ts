/**
 * A machine password lives in the secret store and nowhere else. A blade behind a real BMC (ipmi_sim)
 * is registered with its password; an import and every lifecycle event run on the local stack (the
 * agent must resolve the password to power the blade); then every place the stack writes to is
 * searched for it: each Step Functions execution's input, output and history, every file under
 * $ENCOMPASS_HOME (the agent's journal and state, the logs, DynamoDB Local's file, the S3 server's
 * objects, the sealed secret store), every S3 object through the API, and the process list. The
 * search must come back empty; planting a copy in each kind of place shows it would not.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { lstat, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  type ExecutionListItem,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Api } from '../support/api';
import { makeMaster, postDiscovery, unique } from '../support/fixtures';
import { type IpmiSimBlade, startIpmiSim } from '../support/machines-ipmi-sim';
import { withLocalDiscovery } from '../support/site-lock';
import { secretValue } from '../support/store';

const run = promisify(execFile);
const api = Api.admin();
const stack = inject('stack');
const local = { region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
const sfn = new SFNClient({
  ...local,
  endpoint: stack.endpoints.stepfunctions,
  credentials: stack.stepFunctionsCredentials,
});
const s3 = new S3Client({
  ...local,
  endpoint: stack.endpoints.s3,
  credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  forcePathStyle: true,
  requestChecksumCalculation: 'WHEN_REQUIRED',
  responseChecksumValidation: 'WHEN_REQUIRED',
});
const BUCKET = stack.env.ENCOMPASS_BUCKET!;

/** Where a secret was found: the place and a little of what surrounds it. */
type Finding = string;

/** Every file under `dir`, recursively (symlinks not followed). */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(path)));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

function findIn(place: string, data: string | Uint8Array, needle: string): Finding[] {
  const buf = typeof data === 'string' ? Buffer.from(data) : Buffer.from(data);
  const at = buf.indexOf(needle);
  return at < 0 ? [] : [`${place} (…${buf.subarray(Math.max(0, at - 40), at).toString('latin1')}…)`];
}

async function inExecutions(needle: string): Promise<Finding[]> {
  const found: Finding[] = [];
  const stateMachines: { stateMachineArn?: string }[] = [];
  let token: string | undefined;
  do {
    const page = await sfn.send(new ListStateMachinesCommand({ nextToken: token }));
    stateMachines.push(...(page.stateMachines ?? []));
    token = page.nextToken;
  } while (token);
  // Late in a whole run the stack holds thousands of executions: the machines are scanned at once.
  await Promise.all(stateMachines.map((m) => inMachine(m.stateMachineArn, needle, found).catch(goneMachine)));
  return found;
}

/**
 * Another suite may remove its host lanes while the scan runs: a machine gone mid-scan has nothing
 * left to search, and what was found in it before it went stays in the findings.
 */
function goneMachine(error: unknown): void {
  const name = (error as { name?: string }).name;
  if (name !== 'StateMachineDoesNotExist' && name !== 'ExecutionDoesNotExist') throw error;
}

async function inMachine(stateMachineArn: string | undefined, needle: string, found: Finding[]): Promise<void> {
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(new ListExecutionsCommand({ stateMachineArn, nextToken }));
    await Promise.all((page.executions ?? []).map((e) => inExecution(e, needle, found)));
    nextToken = page.nextToken;
  } while (nextToken);
}

async function inExecution(e: ExecutionListItem, needle: string, found: Finding[]): Promise<void> {
  const d = await sfn.send(new DescribeExecutionCommand({ executionArn: e.executionArn }));
  found.push(...findIn(`execution ${e.name} input/output`, `${d.input ?? ''}\n${d.output ?? ''}`, needle));
  let historyToken: string | undefined;
  do {
    const h = await sfn.send(new GetExecutionHistoryCommand({ executionArn: e.executionArn, nextToken: historyToken }));
    found.push(...findIn(`execution ${e.name} history`, JSON.stringify(h.events ?? []), needle));
    historyToken = h.nextToken;
  } while (historyToken);
}

async function inFiles(dir: string, needle: string): Promise<Finding[]> {
  const found: Finding[] = [];
  for (const file of await filesUnder(dir))
    found.push(...findIn(`file ${file}`, await readFile(file).catch(() => ''), needle));
  return found;
}

async function inS3(needle: string): Promise<Finding[]> {
  const found: Finding[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, ContinuationToken: token }));
    for (const o of page.Contents ?? []) {
      // Other suites share the bucket: an object they removed since the listing held nothing to find.
      const body = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: o.Key })).catch((e: Error) => {
        if (e.name === 'NoSuchKey') return undefined;
        throw e;
      });
      if (body) found.push(...findIn(`s3://${BUCKET}/${o.Key}`, await body.Body!.transformToByteArray(), needle));
    }
    token = page.NextContinuationToken;
  } while (token);
  return found;
}

async function inProcesses(needle: string): Promise<Finding[]> {
  const { stdout } = await run('ps', ['-eo', 'pid,args', '--no-headers'], { maxBuffer: 16 << 20 });
  // `ps` itself is not among them, and neither is this test's process (its arguments hold no secret).
  return stdout.split('\n').flatMap((line) => findIn(`process ${line.trim().split(' ')[0]}`, line, needle));
}

/** Every place the stack writes to. */
async function search(needle: string): Promise<Finding[]> {
  const found = await Promise.all([
    inExecutions(needle),
    inFiles(stack.home, needle),
    inS3(needle),
    inProcesses(needle),
  ]);
  return found.flat();
}

describe('a machine password is kept in the secret store only', () => {
  let blade: IpmiSimBlade;
  let machine: any;
  const rotated = `rotated-${Math.random().toString(36).slice(2)}`;

  beforeAll(async () => {
    blade = await startIpmiSim();
  });
  afterAll(async () => {
    await blade?.stop();
  });

  it('drives an import and every lifecycle event on a blade with a password, and finds it nowhere', async () => {
    const { master } = await makeMaster(api);
    machine = (
      await api.post('/v1/machines', {
        name: unique('blade'),
        site: 'local',
        kind: 'ipmi',
        settings: {
          host: blade.host,
          port: blade.port,
          user: blade.user,
          consoleLog: blade.consoleLog,
          shutdownGraceSeconds: 2,
          bootTimeoutSeconds: 30,
        },
        credentials: { password: blade.password },
      })
    ).body;
    expect(machine.credentials).toEqual({ password: '(set)' });

    const clone = unique('clone');
    const cloned = await api.run('/v1/clones', { master: master.id, name: clone });
    expect(cloned.status, JSON.stringify(cloned.error)).toBe('succeeded');
    const events: [string, unknown][] = [
      ['customize', { variables: { hostname: 'leak-check' }, to: 1 }],
      ['assign', { machine: machine.id }],
      ['attach', {}],
      ['activate', {}],
      ['deactivate', {}],
      ['detach', {}],
      ['unassign', {}],
      ['reconfigure', {}],
      ['capture', {}],
    ];
    for (const [event, body] of events) {
      const op = await api.run(`/v1/clones/${clone}/${event}`, body);
      expect(op.status, `${event}: ${JSON.stringify(op.error)}`).toBe('succeeded');
    }
    // The agent could sign in to the BMC only with the password it resolved: the blade booted.
    expect(await readFile(blade.consoleLog, 'utf8')).toContain('ENCOMPASS-BOOTED');
    const doomed = unique('clone');
    expect((await api.run('/v1/clones', { master: master.id, name: doomed })).status).toBe('succeeded');
    expect((await api.run(`/v1/clones/${doomed}/destroy`)).status).toBe('succeeded');
    // A rotated password goes to the store too; the API still shows only that one is set.
    const patched = await api.patch(`/v1/machines/${machine.id}`, { credentials: { password: rotated } });
    expect(patched.body.credentials).toEqual({ password: '(set)' });
    const stored = (await api.get(`/v1/machines/${machine.id}`)).body;
    expect(JSON.stringify(stored)).not.toContain(rotated);

    expect(await search(blade.password)).toEqual([]);
    expect(await search(rotated)).toEqual([]);
    // What travels instead is the reference, and the same search finds it where the value used to be.
    const ref = `secret://local/machines/${machine.id}/password`;
    const places = await search(ref);
    for (const place of [/^execution .* input\/output/, /^execution .* history/, /journal\/op-.*\.power_on\.json/])
      expect(
        places.some((f) => place.test(f)),
        `${place} in ${places.join('\n')}`,
      ).toBe(true);
    expect(places.some((f) => f.startsWith(`file ${join(stack.home, 'dynamodb')}`))).toBe(true);
    // …while the store does hold it, under the reference the record carries.
    expect(await secretValue(`secret://local/machines/${machine.id}/password`)).toBe(rotated);
  }, 300_000);

  it('discovers a blade through a seed with a password, scheduled too, and finds the password nowhere', async () => {
    const seen = await startIpmiSim({ uuid: '4f1c2d3e-5a6b-4c7d-8e9f-00000000d15c' });
    try {
      const seed = {
        kind: 'ipmi',
        address: `${seen.host}:${seen.port}`,
        credentials: { user: seen.user, password: seen.password },
      };
      // The site's discoveries and its discovery settings are the local site's, which other files use too.
      await withLocalDiscovery(async () => {
        const started = await postDiscovery(api, { site: 'local', seeds: [seed] });
        expect(started.status, JSON.stringify(started.body)).toBe(202);
        const op = await api.wait(started.body.operation, 120_000);
        expect(op.status, JSON.stringify(op.error)).toBe('succeeded');
        expect(op.result.seeds[0].error).toBeUndefined();
        const put = await api.call('PUT', '/v1/sites/local/discovery', { seeds: [seed], everyMinutes: 0 });
        expect(put.status).toBe(200);
        try {
          expect(await search(seen.password)).toEqual([]);
        } finally {
          await api.call('PUT', '/v1/sites/local/discovery', { seeds: [] });
        }
      });
    } finally {
      await seen.stop();
    }
  }, 300_000);

  it('keeps the secret store 0700 and its files 0600', async () => {
    const dir = join(stack.home, 'secrets');
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    const files = await filesUnder(dir);
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) expect({ f, mode: (await lstat(f)).mode & 0o077 }).toEqual({ f, mode: 0 });
  });

  it('finds a planted copy in each kind of place it searches', async () => {
    const planted = `planted-${Math.random().toString(36).slice(2)}`;
    const file = join(stack.home, 'logs', 'planted.log');
    const key = `planted/${planted}.json`;
    let proc: ChildProcess | undefined;
    try {
      await writeFile(file, `password=${planted}\n`);
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: JSON.stringify({ planted }) }));
      const db = new DynamoDBClient({ ...local, endpoint: stack.endpoints.dynamodb });
      await db.send(
        new PutItemCommand({
          TableName: stack.env.ENCOMPASS_TABLE!,
          Item: { pk: { S: `planted#${planted}` }, sk: { S: 'planted' }, value: { S: planted } },
        }),
      );
      db.destroy();
      const { stateMachineArn } = await sfn.send(
        new CreateStateMachineCommand({
          name: unique('planted'),
          definition: JSON.stringify({ StartAt: 'Done', States: { Done: { Type: 'Pass', End: true } } }),
          roleArn: 'arn:aws:iam::000000000000:role/planted',
        }),
      );
      const { executionArn } = await sfn.send(
        new StartExecutionCommand({ stateMachineArn, input: JSON.stringify({ password: planted }) }),
      );
      await expect
        .poll(async () => (await sfn.send(new DescribeExecutionCommand({ executionArn }))).status)
        .toBe('SUCCEEDED');
      proc = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)', planted], { stdio: 'ignore' });

      const found = await search(planted);
      expect(found.some((f) => f.startsWith(`file ${file}`))).toBe(true);
      expect(found.some((f) => f.startsWith(`file ${join(stack.home, 'dynamodb')}`))).toBe(true);
      expect(found.some((f) => f.startsWith(`s3://${BUCKET}/${key}`))).toBe(true);
      expect(found.some((f) => /^execution .* input\/output/.test(f))).toBe(true);
      expect(found.some((f) => /^execution .* history/.test(f))).toBe(true);
      expect(found.some((f) => f.startsWith(`process ${proc!.pid}`))).toBe(true);
    } finally {
      proc?.kill('SIGKILL');
      await rm(file, { force: true });
      await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key })).catch(() => undefined);
    }
  }, 300_000);
});
