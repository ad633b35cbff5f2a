import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export async function tempDir(prefix: string): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `encompass-${prefix}-`));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

export { pidIsGone } from '../../../infra/local/procs';

/** Runs the AWS CLI with dummy credentials; a missing CLI fails the test with how to install it. */
export function aws(args: string[]): Promise<string> {
  const env = {
    ...process.env,
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_PAGER: '',
  };
  return new Promise((resolve, reject) => {
    execFile('aws', args, { env, timeout: 60_000 }, (err, stdout, stderr) => {
      if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') {
        reject(new Error('The AWS CLI (`aws`) is not installed: apt-get install awscli'));
      } else if (err) {
        reject(new Error(`aws ${args.join(' ')} failed: ${stderr || err.message}`));
      } else {
        resolve(stdout);
      }
    });
  });
}
