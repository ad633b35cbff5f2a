import { describe, expect, it } from 'vitest';
import { run, runChecked } from '../../../../edge-agent/drivers/storage/exec';

describe('running a storage tool', () => {
  it('gives the exit code and output, failing only in runChecked', async () => {
    expect(await run('sh', ['-c', 'echo out; echo err >&2; exit 3'])).toEqual({ exitCode: 3, output: 'out\nerr' });
    await expect(runChecked('sh', ['-c', 'echo "No space left on device" >&2; exit 1'])).rejects.toMatchObject({
      name: 'ToolFailedError',
      code: 'tool_failed',
      exitCode: 1,
      noSpace: true,
    });
  });

  it('names the package to install when the tool is missing', async () => {
    await expect(run('qemu-img-none', [])).rejects.toMatchObject({ name: 'ToolMissingError', code: 'tool_missing' });
  });

  it('kills the tool when aborted and rejects once it has exited', async () => {
    const ctl = new AbortController();
    const started = Date.now();
    const sleeping = run('sleep', ['30'], { signal: ctl.signal, what: { operation: 'Sleeping', path: '/x' } });
    setTimeout(() => ctl.abort(), 50);
    await expect(sleeping).rejects.toMatchObject({ name: 'OperationAbortedError', code: 'aborted' });
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
