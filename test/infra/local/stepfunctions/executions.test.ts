import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  DescribeStateMachineCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
  UpdateStateMachineCommand,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { type StepFunctionsEndpoint, startStepFunctions } from '../../../../infra/local/stepfunctions';

const LAMBDA = 'arn:aws:lambda:us-east-1:000000000000:function';
let endpoint: StepFunctionsEndpoint;
let sfn: SFNClient;
const failuresLeft = new Map<string, number>();
const gates = new Map<string, () => void>();

function namedError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

async function invokeFunction(name: string, payload: unknown): Promise<unknown> {
  const input = payload as { value?: number; id?: string };
  if (name === 'double') return { value: (input.value ?? 0) * 2 };
  if (name === 'flaky') {
    const left = failuresLeft.get(input.id ?? '') ?? 1;
    failuresLeft.set(input.id ?? '', left - 1);
    if (left > 0) throw namedError('Transient.Error', 'try again');
    return { recovered: true };
  }
  if (name === 'broken') throw namedError('Disk.Full', 'no space left on the image store');
  if (name === 'gate') return new Promise((resolve) => gates.set(input.id ?? '', () => resolve({ opened: true })));
  throw new Error(`no function ${name}`);
}

async function createMachine(name: string, definition: object): Promise<string> {
  const created = await sfn.send(
    new CreateStateMachineCommand({
      name,
      definition: JSON.stringify(definition),
      roleArn: 'arn:aws:iam::000000000000:role/sfn',
    }),
  );
  return created.stateMachineArn!;
}

async function runToEnd(
  stateMachineArn: string,
  input: unknown,
  name?: string,
): Promise<DescribeExecutionCommandOutput> {
  const { executionArn } = await sfn.send(
    new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }),
  );
  return waitUntilClosed(executionArn!);
}

async function waitUntilClosed(executionArn: string): Promise<DescribeExecutionCommandOutput> {
  for (let i = 0; i < 400; i++) {
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (described.status !== 'RUNNING') return described;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`${executionArn} still RUNNING after 10 s`);
}

const passChoiceMap = {
  StartAt: 'Tag',
  States: {
    Tag: { Type: 'Pass', Result: 'golden', ResultPath: '$.tier', Next: 'Route' },
    Route: {
      Type: 'Choice',
      Choices: [{ Variable: '$.kind', StringEquals: 'vm', Next: 'EachDisk' }],
      Default: 'Physical',
    },
    Physical: { Type: 'Pass', Result: 'physical', ResultPath: '$.route', End: true },
    EachDisk: {
      Type: 'Map',
      ItemsPath: '$.disks',
      ResultPath: '$.sizes',
      ItemProcessor: {
        ProcessorConfig: { Mode: 'INLINE' },
        StartAt: 'Size',
        States: { Size: { Type: 'Pass', Parameters: { 'gib.$': '$.gib' }, End: true } },
      },
      End: true,
    },
  },
};

const gate = { Type: 'Task', Resource: `${LAMBDA}:gate`, TimeoutSeconds: 10 };
// Created up front: CreateStateMachine validates synchronously (hundreds of ms), which would otherwise
// stall the concurrent tests.
const definitions: Record<string, object> = {
  'pass-choice-map': passChoiceMap,
  'lambda-forms': {
    StartAt: 'Direct',
    States: {
      Direct: { Type: 'Task', Resource: `${LAMBDA}:double`, TimeoutSeconds: 5, Next: 'Invoke' },
      Invoke: {
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke',
        Parameters: { FunctionName: `${LAMBDA}:double`, 'Payload.$': '$' },
        TimeoutSeconds: 5,
        End: true,
      },
    },
  },
  'retry-catch': {
    StartAt: 'Flaky',
    States: {
      Flaky: {
        Type: 'Task',
        Resource: `${LAMBDA}:flaky`,
        Retry: [{ ErrorEquals: ['Transient.Error'], IntervalSeconds: 1, MaxAttempts: 2 }],
        ResultPath: '$.flaky',
        Next: 'Broken',
      },
      Broken: {
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke',
        Parameters: { FunctionName: 'broken', Payload: {} },
        Catch: [{ ErrorEquals: ['Disk.Full'], ResultPath: '$.failure', Next: 'Recovered' }],
        End: true,
      },
      Recovered: { Type: 'Succeed' },
    },
  },
  uncaught: { StartAt: 'Broken', States: { Broken: { Type: 'Task', Resource: `${LAMBDA}:broken`, End: true } } },
  idempotent: { StartAt: 'Gate', States: { Gate: { ...gate, End: true } } },
  stoppable: { StartAt: 'Gate', States: { Gate: { ...gate, Next: 'Never' }, Never: { Type: 'Succeed' } } },
  slow: { TimeoutSeconds: 1, StartAt: 'Sleep', States: { Sleep: { Type: 'Wait', Seconds: 30, End: true } } },
  updatable: { StartAt: 'A', States: { A: { Type: 'Pass', Result: 1, End: true } } },
};
const machines: Record<string, string> = {};

beforeAll(async () => {
  endpoint = await startStepFunctions({ port: 0, invokeFunction });
  sfn = new SFNClient({ endpoint: endpoint.endpoint, region: 'us-east-1', credentials: endpoint.credentials });
  for (const [name, definition] of Object.entries(definitions)) machines[name] = await createMachine(name, definition);
});

afterAll(async () => {
  sfn?.destroy();
  await endpoint?.stop();
});

describe.concurrent('the local Step Functions endpoint runs executions', () => {
  it('creates a Pass/Choice/Map machine idempotently and runs both Choice branches to SUCCEEDED', async ({
    expect,
  }) => {
    const arn = machines['pass-choice-map']!;
    expect(arn).toBe('arn:aws:states:us-east-1:000000000000:stateMachine:pass-choice-map');
    expect(await createMachine('pass-choice-map', passChoiceMap)).toBe(arn);
    await expect(createMachine('pass-choice-map', { ...passChoiceMap, Comment: 'changed' })).rejects.toMatchObject({
      name: 'StateMachineAlreadyExists',
    });

    const vm = await runToEnd(arn, { kind: 'vm', disks: [{ gib: 8 }, { gib: 20 }] });
    expect(vm.status).toBe('SUCCEEDED');
    expect(JSON.parse(vm.output!)).toEqual({
      kind: 'vm',
      disks: [{ gib: 8 }, { gib: 20 }],
      tier: 'golden',
      sizes: [{ gib: 8 }, { gib: 20 }],
    });
    expect(vm.startDate).toBeInstanceOf(Date);
    expect(vm.stopDate!.getTime()).toBeGreaterThanOrEqual(vm.startDate!.getTime());
    const physical = await runToEnd(arn, { kind: 'physical' });
    expect(JSON.parse(physical.output!)).toMatchObject({ route: 'physical', tier: 'golden' });

    const described = await sfn.send(new DescribeStateMachineCommand({ stateMachineArn: arn }));
    expect(described).toMatchObject({ name: 'pass-choice-map', status: 'ACTIVE', type: 'STANDARD' });
    expect(JSON.parse(described.definition!)).toEqual(passChoiceMap);
    const listed = await sfn.send(new ListStateMachinesCommand({}));
    expect(listed.stateMachines!.map((m) => m.stateMachineArn)).toContain(arn);
  });

  it('invokes functions through the function ARN and lambda:invoke resources', async ({ expect }) => {
    const arn = machines['lambda-forms']!;
    const done = await runToEnd(arn, { value: 3 });
    expect(done.status).toBe('SUCCEEDED');
    expect(JSON.parse(done.output!)).toEqual({ Payload: { value: 12 }, StatusCode: 200 });

    const { events } = await sfn.send(new GetExecutionHistoryCommand({ executionArn: done.executionArn }));
    const types = events!.map((e) => e.type);
    expect(types[0]).toBe('ExecutionStarted');
    expect(types.at(-1)).toBe('ExecutionSucceeded');
    expect(types.slice(1, 5)).toEqual([
      'TaskStateEntered',
      'LambdaFunctionScheduled',
      'LambdaFunctionStarted',
      'LambdaFunctionSucceeded',
    ]);
    expect(events![1]!.stateEnteredEventDetails).toMatchObject({ name: 'Direct', input: '{"value":3}' });
  });

  it('retries a thrown error by its name, then catches another one by name with its message as Cause', async ({
    expect,
  }) => {
    const arn = machines['retry-catch']!;
    const done = await runToEnd(arn, { id: 'retry-catch' });
    expect(done.status).toBe('SUCCEEDED');
    expect(JSON.parse(done.output!)).toEqual({
      id: 'retry-catch',
      flaky: { recovered: true },
      failure: { Error: 'Disk.Full', Cause: 'no space left on the image store' },
    });
  });

  it('fails an execution with the uncaught error name and cause', async ({ expect }) => {
    const arn = machines['uncaught']!;
    const done = await runToEnd(arn, {});
    expect(done).toMatchObject({ status: 'FAILED', error: 'Disk.Full', cause: 'no space left on the image store' });
    expect(done.output).toBeUndefined();
  });

  it('returns the running execution for a repeated name and input, and refuses other input or a closed one', async ({
    expect,
  }) => {
    const arn = machines['idempotent']!;
    const start = (input: string) => sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'once', input }));
    const first = await start('{"id":"once"}');
    const again = await start('{"id":"once"}');
    expect(again.executionArn).toBe(first.executionArn);
    expect(again.startDate).toEqual(first.startDate);
    await expect(start('{"id":"other"}')).rejects.toMatchObject({
      name: 'ExecutionAlreadyExists',
      $metadata: { httpStatusCode: 400 },
    });

    await expect.poll(() => gates.has('once')).toBe(true);
    gates.get('once')!();
    expect((await waitUntilClosed(first.executionArn!)).status).toBe('SUCCEEDED');
    await expect(start('{"id":"once"}')).rejects.toMatchObject({ name: 'ExecutionAlreadyExists' });
  });

  it('stops a running execution as ABORTED with the given error and cause', async ({ expect }) => {
    const arn = machines['stoppable']!;
    const { executionArn } = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: arn, input: '{"id":"stop-me"}' }),
    );
    await expect.poll(() => gates.has('stop-me')).toBe(true);
    const stopped = await sfn.send(
      new StopExecutionCommand({ executionArn, error: 'Operator.Cancel', cause: 'clone no longer needed' }),
    );
    expect(stopped.stopDate).toBeInstanceOf(Date);
    gates.get('stop-me')!();

    const described = await waitUntilClosed(executionArn!);
    expect(described).toMatchObject({ status: 'ABORTED', error: 'Operator.Cancel', cause: 'clone no longer needed' });
    const aborted = await sfn.send(new ListExecutionsCommand({ stateMachineArn: arn, statusFilter: 'ABORTED' }));
    expect(aborted.executions!.map((e) => e.executionArn)).toEqual([executionArn]);
    const running = await sfn.send(new ListExecutionsCommand({ stateMachineArn: arn, statusFilter: 'RUNNING' }));
    expect(running.executions).toEqual([]);
    const { events } = await sfn.send(new GetExecutionHistoryCommand({ executionArn, reverseOrder: true }));
    expect(events![0]).toMatchObject({
      type: 'ExecutionAborted',
      executionAbortedEventDetails: { error: 'Operator.Cancel' },
    });
  });

  it('times out an execution that runs past its TimeoutSeconds', async ({ expect }) => {
    const arn = machines['slow']!;
    expect((await runToEnd(arn, {})).status).toBe('TIMED_OUT');
  });

  it('runs new executions on an updated definition', async ({ expect }) => {
    const arn = machines['updatable']!;
    await sfn.send(
      new UpdateStateMachineCommand({
        stateMachineArn: arn,
        definition: JSON.stringify({ StartAt: 'A', States: { A: { Type: 'Pass', Result: 2, End: true } } }),
      }),
    );
    expect((await runToEnd(arn, {})).output).toBe('2');
  });

  it('forgets executions when the endpoint restarts on the same port', async ({ expect }) => {
    const first = await startStepFunctions({ port: 0, invokeFunction });
    const port = new URL(first.endpoint).port;
    const client = new SFNClient({
      endpoint: first.endpoint,
      region: 'us-east-1',
      credentials: first.credentials,
    });
    let second: { endpoint: string; stop(): Promise<void> } | undefined;
    try {
      const { stateMachineArn } = await client.send(
        new CreateStateMachineCommand({
          name: 'volatile',
          definition: JSON.stringify(definitions.updatable),
          roleArn: 'arn:aws:iam::000000000000:role/sfn',
        }),
      );
      const { executionArn } = await client.send(new StartExecutionCommand({ stateMachineArn }));
      await first.stop();
      // The same key pair, as the stack would hand out again: only the executions are gone.
      second = await startStepFunctions({ port: Number(port), invokeFunction, credentials: first.credentials });
      await expect(client.send(new DescribeExecutionCommand({ executionArn }))).rejects.toMatchObject({
        name: 'ExecutionDoesNotExist',
      });
    } finally {
      client.destroy();
      await (second ?? first).stop();
    }
  });

  it('answers AWS-shaped errors for unknown resources, bad definitions and unknown operations', async ({ expect }) => {
    const missing = 'arn:aws:states:us-east-1:000000000000:execution:nope:nope';
    await expect(sfn.send(new DescribeExecutionCommand({ executionArn: missing }))).rejects.toMatchObject({
      name: 'ExecutionDoesNotExist',
    });
    await expect(createMachine('bad', { StartAt: 'Missing', States: {} })).rejects.toMatchObject({
      name: 'InvalidDefinition',
    });
    await expect(
      createMachine('unsupported', {
        StartAt: 'Put',
        States: { Put: { Type: 'Task', Resource: 'arn:aws:states:::dynamodb:putItem', End: true } },
      }),
    ).rejects.toMatchObject({ name: 'InvalidDefinition' });

    // A signed request for an operation that does not exist: the target is changed before the SDK signs it.
    const unknown = new SFNClient({
      endpoint: endpoint.endpoint,
      region: 'us-east-1',
      credentials: endpoint.credentials,
    });
    unknown.middlewareStack.add(
      (next) => async (args) => {
        (args.request as { headers: Record<string, string> }).headers['x-amz-target'] = 'AWSStepFunctions.FlyToTheMoon';
        return next(args);
      },
      { step: 'build', name: 'unknownTarget' },
    );
    try {
      await expect(unknown.send(new ListStateMachinesCommand({}))).rejects.toMatchObject({
        name: 'UnknownOperationException',
        $metadata: { httpStatusCode: 400 },
      });
    } finally {
      unknown.destroy();
    }
  });
});
