/**
 * An import whose commit does not happen leaves no image behind: the workflow has the agent remove
 * the images it copied. The suite runs its own stack; to hand the functions an outcome they refuse,
 * the test stops the agent and plays it, running the agent's own bundle tasks in process.
 */
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetActivityTaskCommand, SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExportBook } from '../../../edge-agent/exports';
import { createDrivers } from '../../../edge-agent/registry';
import { bundleCopy, bundleDiscard, bundleVerify } from '../../../edge-agent/tasks/bundle';
import type { TaskContext } from '../../../edge-agent/tasks/context';
import { type Stack, startStack } from '../../../infra/local/stack';
import { activityArn } from '../../../statemachines/names';
import { checkInput } from '../../../statemachines/tasks';
import { Api } from '../../support/api';
import { hostnameItems, unique } from '../../support/fixtures';
import { baseFiles, makeExt4 } from '../../support/images';

let stack: Stack;
let api: Api;
let sfn: SFNClient;

beforeAll(async () => {
  stack = await startStack({ home: await mkdtemp(join(tmpdir(), 'encompass-discard-')), port: 0 });
  api = new Api(stack.url, stack.adminToken);
  sfn = new SFNClient({
    region: 'us-east-1',
    endpoint: stack.endpoints.stepfunctions,
    credentials: stack.stepFunctionsCredentials,
  });
});

afterAll(async () => {
  await stack?.stop();
  if (stack) await rm(stack.home, { recursive: true, force: true });
});

describe('an import whose commit does not happen', () => {
  it('has the agent remove the images it copied, and writes no record', async () => {
    const dir = join(stack.home, 'repos', 'r');
    await mkdir(dir, { recursive: true });
    const repo = (await api.createRepository({ name: unique('repo'), site: 'local', kind: 'file', path: dir })).body;
    await makeExt4(join(dir, 'masters/base.img'), baseFiles);
    const name = unique('master');
    expect(
      (
        await api.run('/v1/masters', {
          name,
          repository: repo.name,
          path: 'masters/base.img',
          customization: hostnameItems,
        })
      ).status,
    ).toBe('succeeded');
    const exported = await api.run('/v1/exports', {
      masters: [name],
      to: { repository: repo.name, path: 'bundles/b' },
    });
    expect(exported.status, JSON.stringify(exported)).toBe('succeeded');
    expect((await api.del(`/v1/masters/${name}`)).status).toBe(200);

    // From here on the test is the site's agent.
    await stack.stopAgent();
    const r = await api.post('/v1/imports', { bundle: { repository: repo.name, path: 'bundles/b' }, site: 'local' });
    expect(r.status, JSON.stringify(r.body)).toBe(202);
    const ctx: TaskContext = {
      operation: r.body.operation,
      host: 'test',
      drivers: createDrivers({ stateDir: join(stack.home, 'played-agent'), storage: ['file'], machines: [] }),
      report: () => {},
      signal: new AbortController().signal,
      seen: () => {},
      exports: new ExportBook(join(stack.home, 'played-agent')),
      secrets: { resolve: (ref) => Promise.reject(new Error(`no secret here (asked for ${ref})`)) },
      hooks: {},
    };
    const tasks: string[] = [];
    let copied: string[] = [];
    while (!tasks.includes('bundle_discard')) {
      const got = await sfn.send(
        new GetActivityTaskCommand({
          activityArn: activityArn({ region: 'us-east-1', accountId: '000000000000' }, 'local'),
        }),
      );
      if (!got.taskToken) continue;
      const envelope = JSON.parse(got.input!);
      tasks.push(envelope.task);
      const input = checkInput(envelope.task, envelope.input);
      if (!input.ok) throw new Error(JSON.stringify(input.violation));
      let output: unknown;
      if (envelope.task === 'bundle_verify') output = await bundleVerify(input.value as never, ctx);
      else if (envelope.task === 'bundle_copy') {
        const out = await bundleCopy(input.value as never, ctx);
        copied = out.images.map((i) => i.path);
        // An outcome the functions refuse: the images' sha256 left out.
        output = { ...out, images: out.images.map(({ sha256: _, ...rest }) => rest) };
      } else if (envelope.task === 'bundle_discard') output = await bundleDiscard(input.value as never, ctx);
      else throw new Error(`unexpected task ${envelope.task}`);
      await sfn.send(new SendTaskSuccessCommand({ taskToken: got.taskToken, output: JSON.stringify(output) }));
    }
    expect(tasks).toEqual(['bundle_verify', 'bundle_copy', 'bundle_discard']);
    expect(copied).toEqual([`masters/${name}-v1.img`]);
    const op = await api.wait(r.body.operation);
    expect(op).toMatchObject({ status: 'failed', error: { code: 'malformed_outcome' } });
    expect((await readdir(join(dir, 'masters'))).sort()).toEqual(['base.img']);
    expect((await api.get(`/v1/masters/${name}`)).status).toBe(404);
    expect((await api.get(`/v1/imports/${r.body.id}`)).body).toMatchObject({
      status: 'failed',
      error: { code: 'malformed_outcome' },
    });
  }, 90_000);
});
