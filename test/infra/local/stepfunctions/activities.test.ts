import {
  CreateActivityCommand,
  CreateStateMachineCommand,
  DescribeActivityCommand,
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  GetActivityTaskCommand,
  GetExecutionHistoryCommand,
  ListActivitiesCommand,
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { type Credentials, generateCredentials } from '../../../../infra/local/sigv4';
import { type StepFunctionsEndpoint, startStepFunctions } from '../../../../infra/local/stepfunctions';
import { startEndpoint } from '../../../../infra/local/stepfunctions/server';

let endpoint: StepFunctionsEndpoint;
let sfn: SFNClient;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function client(url: string, credentials: Credentials = endpoint.credentials): SFNClient {
  return new SFNClient({ endpoint: url, region: 'us-east-1', credentials });
}

/** A machine with one activity Task state (plus optional Catch) for the activity `name`. */
async function activityMachine(
  name: string,
  task: Record<string, unknown>,
): Promise<{ machineArn: string; activityArn: string }> {
  const { activityArn } = await sfn.send(new CreateActivityCommand({ name }));
  const { stateMachineArn } = await sfn.send(
    new CreateStateMachineCommand({
      name,
      roleArn: 'arn:aws:iam::000000000000:role/sfn',
      definition: JSON.stringify({
        StartAt: 'Work',
        States: {
          Work: { Type: 'Task', Resource: activityArn, End: true, ...task },
          // The Catch target, present only when the task has a Catch (unreachable states are invalid).
          ...('Catch' in task ? { Handled: { Type: 'Pass', End: true } } : {}),
        },
      }),
    }),
  );
  return { machineArn: stateMachineArn!, activityArn: activityArn! };
}

async function start(stateMachineArn: string, input: unknown): Promise<string> {
  const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn, input: JSON.stringify(input) }));
  return executionArn!;
}

async function waitUntilClosed(executionArn: string): Promise<DescribeExecutionCommandOutput> {
  for (let i = 0; i < 400; i++) {
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (described.status !== 'RUNNING') return described;
    await sleep(25);
  }
  throw new Error(`${executionArn} still RUNNING after 10 s`);
}

// Task fields per activity. Machines are created up front: CreateStateMachine validates synchronously
// (hundreds of ms), which would otherwise stall the timers the concurrent tests measure.
const taskFields: Record<string, Record<string, unknown>> = {
  customize: { HeartbeatSeconds: 5, TimeoutSeconds: 10 },
  verify: { TimeoutSeconds: 10, Catch: [{ ErrorEquals: ['Image.Corrupt'], ResultPath: '$.failure', Next: 'Handled' }] },
  unattended: { HeartbeatSeconds: 1, TimeoutSeconds: 10 },
  silent: { HeartbeatSeconds: 1, TimeoutSeconds: 10 },
  'long-copy': { HeartbeatSeconds: 2, TimeoutSeconds: 10 },
  stuck: { TimeoutSeconds: 1 },
  reassign: { TimeoutSeconds: 10 },
};
const machines: Record<string, { machineArn: string; activityArn: string }> = {};

beforeAll(async () => {
  endpoint = await startStepFunctions({ port: 0, invokeFunction: async () => null });
  sfn = client(endpoint.endpoint);
  for (const [name, fields] of Object.entries(taskFields)) machines[name] = await activityMachine(name, fields);
});

afterAll(async () => {
  sfn?.destroy();
  await endpoint?.stop();
});

describe.concurrent('activity tasks on the local Step Functions endpoint', () => {
  it('hands the task to a worker, takes heartbeats and uses SendTaskSuccess output as the result', async ({
    expect,
  }) => {
    const { machineArn, activityArn } = machines['customize']!;
    expect((await sfn.send(new CreateActivityCommand({ name: 'customize' }))).activityArn).toBe(activityArn);
    expect(await sfn.send(new DescribeActivityCommand({ activityArn }))).toMatchObject({ name: 'customize' });
    expect((await sfn.send(new ListActivitiesCommand({}))).activities!.map((a) => a.activityArn)).toContain(
      activityArn,
    );

    const executionArn = await start(machineArn, { image: 'golden-1' });
    const task = await sfn.send(new GetActivityTaskCommand({ activityArn, workerName: 'site-local' }));
    expect(JSON.parse(task.input!)).toEqual({ image: 'golden-1' });
    await sfn.send(new SendTaskHeartbeatCommand({ taskToken: task.taskToken }));
    await sfn.send(new SendTaskSuccessCommand({ taskToken: task.taskToken, output: '{"clone":"c-1"}' }));

    const done = await waitUntilClosed(executionArn);
    expect(done).toMatchObject({ status: 'SUCCEEDED', output: '{"clone":"c-1"}' });
    const { events } = await sfn.send(new GetExecutionHistoryCommand({ executionArn }));
    expect(events!.map((e) => e.type)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'ActivityScheduled',
      'ActivityStarted',
      'ActivitySucceeded',
      'TaskStateExited',
      'ExecutionSucceeded',
    ]);
    expect(events![3]!.activityStartedEventDetails).toEqual({ workerName: 'site-local' });

    await expect(sfn.send(new SendTaskHeartbeatCommand({ taskToken: task.taskToken }))).rejects.toMatchObject({
      name: 'TaskTimedOut',
    });
    await expect(sfn.send(new SendTaskHeartbeatCommand({ taskToken: 'never-issued' }))).rejects.toMatchObject({
      name: 'TaskDoesNotExist',
    });
  });

  it('turns SendTaskFailure into a task error that Catch matches by name', async ({ expect }) => {
    const { machineArn, activityArn } = machines['verify']!;
    const executionArn = await start(machineArn, { image: 'golden-2' });
    const task = await sfn.send(new GetActivityTaskCommand({ activityArn }));
    await sfn.send(
      new SendTaskFailureCommand({ taskToken: task.taskToken, error: 'Image.Corrupt', cause: 'bad superblock' }),
    );
    const done = await waitUntilClosed(executionArn);
    expect(done.status).toBe('SUCCEEDED');
    expect(JSON.parse(done.output!)).toEqual({
      image: 'golden-2',
      failure: { Error: 'Image.Corrupt', Cause: 'bad superblock' },
    });
  });

  it('fails with States.HeartbeatTimeout when no worker picks the task up within HeartbeatSeconds', async ({
    expect,
  }) => {
    const { machineArn } = machines['unattended']!;
    const done = await waitUntilClosed(await start(machineArn, {}));
    expect(done).toMatchObject({ status: 'FAILED', error: 'States.HeartbeatTimeout' });
  });

  it('fails with States.HeartbeatTimeout when a worker holding the task stops sending heartbeats', async ({
    expect,
  }) => {
    const { machineArn, activityArn } = machines['silent']!;
    const executionArn = await start(machineArn, {});
    const task = await sfn.send(new GetActivityTaskCommand({ activityArn }));
    const done = await waitUntilClosed(executionArn);
    expect(done).toMatchObject({ status: 'FAILED', error: 'States.HeartbeatTimeout' });
    await expect(
      sfn.send(new SendTaskSuccessCommand({ taskToken: task.taskToken, output: '{}' })),
    ).rejects.toMatchObject({
      name: 'TaskTimedOut',
    });
  });

  it('keeps a task alive past HeartbeatSeconds while the worker sends heartbeats', async ({ expect }) => {
    const { machineArn, activityArn } = machines['long-copy']!;
    const executionArn = await start(machineArn, {});
    const task = await sfn.send(new GetActivityTaskCommand({ activityArn }));
    for (let i = 0; i < 7; i++) {
      await sleep(450);
      await sfn.send(new SendTaskHeartbeatCommand({ taskToken: task.taskToken }));
    }
    await sfn.send(new SendTaskSuccessCommand({ taskToken: task.taskToken, output: '{"copied":true}' }));
    expect(await waitUntilClosed(executionArn)).toMatchObject({ status: 'SUCCEEDED', output: '{"copied":true}' });
  });

  it('fails an activity task with States.Timeout after TimeoutSeconds', async ({ expect }) => {
    const { machineArn, activityArn } = machines['stuck']!;
    const executionArn = await start(machineArn, {});
    const task = await sfn.send(new GetActivityTaskCommand({ activityArn }));
    expect(await waitUntilClosed(executionArn)).toMatchObject({ status: 'FAILED', error: 'States.Timeout' });
    await expect(sfn.send(new SendTaskHeartbeatCommand({ taskToken: task.taskToken }))).rejects.toMatchObject({
      name: 'TaskTimedOut',
    });
  });

  it('drops the parked task of a stopped execution and forgets pollers that disconnected', async ({ expect }) => {
    const { machineArn, activityArn } = machines['reassign']!;
    const stopped = await start(machineArn, { which: 'stopped' });
    await sleep(100);
    await sfn.send(new StopExecutionCommand({ executionArn: stopped }));
    expect((await waitUntilClosed(stopped)).status).toBe('ABORTED');

    // Nothing is left to hand out: this poll waits until the client gives up and disconnects.
    const poll = sfn.send(new GetActivityTaskCommand({ activityArn }), { abortSignal: AbortSignal.timeout(500) });
    await expect(poll).rejects.toMatchObject({ name: 'AbortError' });
    await sleep(200); // the endpoint learns of the disconnect when the closed socket reaches it

    // Had the disconnected poll been kept, it would swallow this task and the next poll would hang.
    const executionArn = await start(machineArn, { which: 'fresh' });
    const task = await sfn.send(new GetActivityTaskCommand({ activityArn }), {
      abortSignal: AbortSignal.timeout(3000),
    });
    expect(JSON.parse(task.input!)).toEqual({ which: 'fresh' });
    await sfn.send(new SendTaskSuccessCommand({ taskToken: task.taskToken, output: '"done"' }));
    expect((await waitUntilClosed(executionArn)).status).toBe('SUCCEEDED');
  });

  it('answers a long poll with no task as {} once the poll time is over', async ({ expect }) => {
    const credentials = generateCredentials();
    const shortPoll = await startEndpoint({
      host: '127.0.0.1',
      port: 0,
      region: 'us-east-1',
      accountId: '000000000000',
      credentials,
      invokeFunction: async () => null,
      log: () => {},
      longPollMs: 300,
    });
    const local = client(shortPoll.endpoint, credentials);
    try {
      const { activityArn } = await local.send(new CreateActivityCommand({ name: 'idle' }));
      const answer = await local.send(new GetActivityTaskCommand({ activityArn }));
      expect(answer.taskToken).toBeUndefined();
      await expect(
        local.send(new GetActivityTaskCommand({ activityArn: `${activityArn}-missing` })),
      ).rejects.toMatchObject({
        name: 'ActivityDoesNotExist',
      });
    } finally {
      local.destroy();
      await shortPoll.stop();
    }
  });
});
