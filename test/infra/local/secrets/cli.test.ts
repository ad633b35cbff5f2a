/** `aws secretsmanager … --endpoint-url` against the local secret store: the CLI works unchanged. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Credentials } from '../../../../infra/local/secrets';
import { type Running, startInTemp } from './helpers';

const run = promisify(execFile);
let store: Running;

beforeAll(async () => {
  store = await startInTemp();
});

afterAll(async () => {
  await store?.remove();
});

/** Runs the CLI with the given credentials and no config files, so nothing from the machine's AWS setup leaks in. */
async function cli(args: string[], credentials: Credentials = store.secrets.credentials) {
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
  const full = ['secretsmanager', ...args, '--endpoint-url', store.secrets.endpoint, '--region', 'us-east-1'];
  try {
    const { stdout, stderr } = await run('aws', [...full, '--output', 'json'], { env, timeout: 60_000 });
    return { stdout, stderr, exitCode: 0, json: () => JSON.parse(stdout) };
  } catch (error) {
    const failed = error as { code?: unknown; stdout?: string; stderr?: string };
    if (failed.code === 'ENOENT') throw new Error('The AWS CLI (`aws`) is not on PATH: apt-get install awscli');
    return {
      stdout: failed.stdout ?? '',
      stderr: failed.stderr ?? '',
      exitCode: Number(failed.code),
      json: () => ({}),
    };
  }
}

// Each CLI call costs a Python start-up of one to two seconds, hence few calls and a generous timeout.
describe('the AWS CLI against the local secret store', { timeout: 60_000 }, () => {
  it('creates, reads, replaces and force-deletes a secret', async () => {
    const name = 'encompass/local/cli-bmc';
    const created = await cli(['create-secret', '--name', name, '--secret-string', 'cli pass 1']);
    expect(created.exitCode, created.stderr).toBe(0);
    expect(created.json().ARN).toMatch(/:secret:encompass\/local\/cli-bmc-\w{6}$/);
    const put = await cli(['put-secret-value', '--secret-id', name, '--secret-string', 'cli pass 2']);
    expect(put.json().VersionStages).toEqual(['AWSCURRENT']);
    const got = await cli(['get-secret-value', '--secret-id', created.json().ARN]);
    expect(got.json()).toMatchObject({ Name: name, SecretString: 'cli pass 2', VersionStages: ['AWSCURRENT'] });
    const described = await cli(['describe-secret', '--secret-id', name]);
    expect(Object.values(described.json().VersionIdsToStages).sort()).toEqual([['AWSCURRENT'], ['AWSPREVIOUS']]);
    const deleted = await cli(['delete-secret', '--secret-id', name, '--force-delete-without-recovery']);
    expect(deleted.json().Name).toBe(name);
    const gone = await cli(['get-secret-value', '--secret-id', name]);
    expect(gone.exitCode).not.toBe(0);
    expect(gone.stderr).toMatch(/ResourceNotFoundException.*can't find the specified secret/);
  });

  it('reports the AWS error code of a refused call', async () => {
    const both = await cli([
      'delete-secret',
      '--secret-id',
      'x',
      '--recovery-window-in-days',
      '7',
      '--force-delete-without-recovery',
    ]);
    expect(both.exitCode).not.toBe(0);
    expect(both.stderr).toMatch(/InvalidParameterException/);
  });

  it('is refused with credentials the store did not hand out', async () => {
    const denied = await cli(['describe-secret', '--secret-id', 'encompass/local/any'], {
      accessKeyId: 'local',
      secretAccessKey: 'local',
    });
    expect(denied.exitCode).not.toBe(0);
    expect(denied.stderr).toMatch(/UnrecognizedClientException/);
  });
});
