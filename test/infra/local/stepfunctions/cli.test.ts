import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CreateStateMachineCommand, DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { startStepFunctions } from '../../../../infra/local/stepfunctions';

const run = promisify(execFile);
let endpoint: { endpoint: string; stop(): Promise<void> };

// Dummy credentials and no config files, so nothing from the machine's AWS setup leaks in.
const cliEnv: NodeJS.ProcessEnv = {
  ...Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('AWS_'))),
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
  AWS_CONFIG_FILE: '/nonexistent/aws-config',
  AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_PAGER: '',
};

async function stepfunctions(...args: string[]): Promise<{ stdout: string; stderr: string; exitCode: number }> {
  try {
    const { stdout, stderr } = await run(
      'aws',
      ['stepfunctions', ...args, '--endpoint-url', endpoint.endpoint, '--region', 'us-east-1', '--output', 'json'],
      {
        env: cliEnv,
      },
    );
    return { stdout, stderr, exitCode: 0 };
  } catch (error) {
    const failed = error as { code?: unknown; stdout?: string; stderr?: string };
    if (failed.code === 'ENOENT') throw new Error('The aws CLI is not on PATH: apt-get install awscli');
    return { stdout: failed.stdout ?? '', stderr: failed.stderr ?? '', exitCode: Number(failed.code) };
  }
}

const definition = JSON.stringify({
  StartAt: 'Echo',
  States: { Echo: { Type: 'Task', Resource: 'arn:aws:lambda:us-east-1:000000000000:function:echo', End: true } },
});
let sfn: SFNClient;
let stateMachineArn: string;

beforeAll(async () => {
  endpoint = await startStepFunctions({ port: 0, invokeFunction: async (_name, payload) => ({ echoed: payload }) });
  sfn = new SFNClient({
    endpoint: endpoint.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const created = await sfn.send(
    new CreateStateMachineCommand({ name: 'cli-machine', definition, roleArn: 'arn:aws:iam::000000000000:role/sfn' }),
  );
  stateMachineArn = created.stateMachineArn!;
});

afterAll(async () => {
  sfn?.destroy();
  await endpoint?.stop();
});

// Each CLI call costs a Python start-up of about 2 s, hence one call per check and a generous timeout.
describe('the AWS CLI against the local Step Functions endpoint', { timeout: 30_000 }, () => {
  it('lists state machines with `aws stepfunctions list-state-machines`', async ({ expect }) => {
    const listed = await stepfunctions('list-state-machines');
    expect(listed.exitCode).toBe(0);
    expect(JSON.parse(listed.stdout).stateMachines).toEqual([
      expect.objectContaining({ stateMachineArn, name: 'cli-machine', type: 'STANDARD' }),
    ]);
  });

  it('starts an execution with the CLI that runs to SUCCEEDED', async ({ expect }) => {
    const started = await stepfunctions(
      'start-execution',
      '--state-machine-arn',
      stateMachineArn,
      '--name',
      'from-cli',
      '--input',
      '{"disk":"d1"}',
    );
    expect(started.exitCode).toBe(0);
    const { executionArn } = JSON.parse(started.stdout);
    expect(executionArn).toBe('arn:aws:states:us-east-1:000000000000:execution:cli-machine:from-cli');
    await expect
      .poll(async () => sfn.send(new DescribeExecutionCommand({ executionArn })))
      .toMatchObject({
        status: 'SUCCEEDED',
        output: '{"echoed":{"disk":"d1"}}',
      });
  });

  it('reports AWS error codes to the CLI', async ({ expect }) => {
    const missing = await stepfunctions(
      'describe-execution',
      '--execution-arn',
      'arn:aws:states:us-east-1:000000000000:execution:none:none',
    );
    expect(missing.exitCode).not.toBe(0);
    expect(missing.stderr).toContain('ExecutionDoesNotExist');
  });
});
