import { execFile } from 'node:child_process';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  ListExecutionsCommand,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { type Credentials, generateCredentials } from '../../../../infra/local/sigv4';
import { type StepFunctionsEndpoint, startStepFunctions } from '../../../../infra/local/stepfunctions';

const run = promisify(execFile);
let endpoint: StepFunctionsEndpoint;

interface CliOptions {
  /** What the CLI signs with; the endpoint's own pair unless given. */
  credentials?: Credentials;
  /** `--endpoint-url`; the endpoint itself unless given. */
  url?: string;
  unsigned?: boolean;
}

async function stepfunctions(
  args: string[],
  options: CliOptions = {},
): Promise<{ stdout: string; stderr: string; exitCode: number }> {
  const credentials = options.credentials ?? endpoint.credentials;
  // The given credentials and no config files, so nothing from the machine's AWS setup leaks in.
  const env: NodeJS.ProcessEnv = {
    ...Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('AWS_'))),
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_CONFIG_FILE: '/nonexistent/aws-config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_MAX_ATTEMPTS: '1',
    AWS_PAGER: '',
  };
  const url = options.url ?? endpoint.endpoint;
  const full = ['stepfunctions', ...args, '--endpoint-url', url, '--region', 'us-east-1', '--output', 'json'];
  try {
    const { stdout, stderr } = await run('aws', [...full, ...(options.unsigned ? ['--no-sign-request'] : [])], {
      env,
      timeout: 60_000,
    });
    return { stdout, stderr, exitCode: 0 };
  } catch (error) {
    const failed = error as { code?: unknown; stdout?: string; stderr?: string };
    if (failed.code === 'ENOENT') throw new Error('The aws CLI is not on PATH: apt-get install awscli');
    return { stdout: failed.stdout ?? '', stderr: failed.stderr ?? '', exitCode: Number(failed.code) };
  }
}

/**
 * A proxy in front of the endpoint that changes the body of each request after the CLI signed it, same
 * length and same headers (Host included), so only the signature can tell.
 */
async function tamperingProxy(change: (body: string) => string): Promise<{ url: string; close(): Promise<void> }> {
  const target = new URL(endpoint.endpoint);
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const forwarded = httpRequest(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      forwarded.on('error', () => res.destroy());
      forwarded.end(change(Buffer.concat(chunks).toString()));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const definition = JSON.stringify({
  StartAt: 'Echo',
  States: { Echo: { Type: 'Task', Resource: 'arn:aws:lambda:us-east-1:000000000000:function:echo', End: true } },
});
let sfn: SFNClient;
let stateMachineArn: string;

beforeAll(async () => {
  endpoint = await startStepFunctions({ port: 0, invokeFunction: async (_name, payload) => ({ echoed: payload }) });
  sfn = new SFNClient({ endpoint: endpoint.endpoint, region: 'us-east-1', credentials: endpoint.credentials });
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
    const listed = await stepfunctions(['list-state-machines']);
    expect(listed.exitCode).toBe(0);
    expect(JSON.parse(listed.stdout).stateMachines).toEqual([
      expect.objectContaining({ stateMachineArn, name: 'cli-machine', type: 'STANDARD' }),
    ]);
  });

  it('starts an execution with the CLI that runs to SUCCEEDED', async ({ expect }) => {
    const started = await stepfunctions([
      'start-execution',
      '--state-machine-arn',
      stateMachineArn,
      '--name',
      'from-cli',
      '--input',
      '{"disk":"d1"}',
    ]);
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
    const missing = await stepfunctions([
      'describe-execution',
      '--execution-arn',
      'arn:aws:states:us-east-1:000000000000:execution:none:none',
    ]);
    expect(missing.exitCode).not.toBe(0);
    expect(missing.stderr).toContain('ExecutionDoesNotExist');
  });

  describe('refuses, with the AWS error and no execution started,', () => {
    const startAs = (name: string, options: CliOptions) =>
      stepfunctions(['start-execution', '--state-machine-arn', stateMachineArn, '--name', name], options);

    it('an unsigned request (--no-sign-request)', async ({ expect }) => {
      const refused = await startAs('cli-unsigned', { unsigned: true });
      expect(refused.exitCode).not.toBe(0);
      expect(refused.stderr).toContain('(MissingAuthenticationTokenException)');
    });

    it('a request signed with another key pair', async ({ expect }) => {
      const refused = await startAs('cli-other-key', { credentials: generateCredentials() });
      expect(refused.exitCode).not.toBe(0);
      expect(refused.stderr).toContain('(UnrecognizedClientException)');
    });

    it('a request whose body was changed after it was signed', async ({ expect }) => {
      const proxy = await tamperingProxy((body) => body.replace('cli-tampered', 'cli-tamperex'));
      try {
        const refused = await startAs('cli-tampered', { url: proxy.url });
        expect(refused.exitCode).not.toBe(0);
        expect(refused.stderr).toContain('(InvalidSignatureException)');
        // The same proxy passing the body unchanged lets the CLI in: the change alone was refused.
        const untouched = await tamperingProxy((body) => body);
        try {
          const passed = await startAs('cli-through-proxy', { url: untouched.url });
          expect(passed.exitCode, passed.stderr).toBe(0);
        } finally {
          await untouched.close();
        }
      } finally {
        await proxy.close();
      }
      const names = ((await sfn.send(new ListExecutionsCommand({ stateMachineArn }))).executions ?? []).map(
        (e) => e.name,
      );
      expect(names).not.toContain('cli-unsigned');
      expect(names).not.toContain('cli-other-key');
      expect(names).not.toContain('cli-tampered');
      expect(names).not.toContain('cli-tamperex');
      expect(names).toContain('cli-through-proxy');
    });
  });
});
