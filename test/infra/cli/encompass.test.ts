/** The command line client, run as a user runs it, against the test stack. */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, inject, it } from 'vitest';
import { bar } from '../../../infra/cli/encompass';
import { Api } from '../../support/api';
import { makeMaster, unique } from '../../support/fixtures';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../../../infra/cli/encompass.ts', import.meta.url));
const TSX = fileURLToPath(new URL('../../../node_modules/tsx/dist/cli.mjs', import.meta.url));

describe('the encompass CLI', () => {
  it('draws a progress bar', () => {
    expect(bar(0.5, 'copy', 10)).toBe('[#####.....]  50%  copy');
    expect(bar(1.7, 'x', 4)).toBe('[####] 100%  x');
  });

  it('clones and waits for the operation, printing its final state', async () => {
    const s = inject('stack');
    const { master } = await makeMaster(Api.admin());
    const name = unique('cli');
    const env = { ...process.env, ENCOMPASS_URL: s.url, ENCOMPASS_TOKEN: s.adminToken };
    const { stdout } = await run(process.execPath, [TSX, CLI, 'clone', master.name, name], { env });
    expect(JSON.parse(stdout)).toMatchObject({ kind: 'clone', status: 'succeeded', resource: { name } });
    const bad = await run(process.execPath, [TSX, CLI, 'event', name, 'activate'], { env }).catch((e) => e);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout).error.code).toBe('invalid_transition');
  });
});
