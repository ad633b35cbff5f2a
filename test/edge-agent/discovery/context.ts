/**
 * The discover task as the agent runs it, for tests: a real TaskContext (real drivers, a state dir
 * in a temp dir) whose secret resolver knows a few `secret://local/…` references and refuses any
 * other, and the task's input and outcome checked against its contract both ways.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SecretUnavailableError } from '../../../edge-agent/errors';
import { ExportBook } from '../../../edge-agent/exports';
import { createDrivers } from '../../../edge-agent/registry';
import type { TaskContext } from '../../../edge-agent/tasks/context';
import { discover } from '../../../edge-agent/tasks/discover';
import { type TaskOutcome, taskContracts } from '../../../statemachines/tasks';

export interface DiscoverHarness {
  dir: string;
  ctx: TaskContext;
  /** The progress reports, as `fraction step`. */
  reports: string[];
  /** Runs the task on `input` (as the contract parses it), checking its outcome against the contract. */
  run(input: unknown, signal?: AbortSignal): Promise<TaskOutcome<'discover'>>;
  cleanup(): Promise<void>;
}

export async function discoverHarness(secrets: Record<string, string>): Promise<DiscoverHarness> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'encompass-discover-'));
  const reports: string[] = [];
  const ctx: TaskContext = {
    operation: 'op-discover',
    host: 'test',
    drivers: createDrivers({ stateDir: path.join(dir, 'state'), storage: ['file', 'iscsi'], machines: [] }),
    report: (fraction, step) => reports.push(`${fraction} ${step ?? ''}`),
    signal: new AbortController().signal,
    seen: () => {},
    exports: new ExportBook(path.join(dir, 'state')),
    secrets: {
      resolve: async (ref) => {
        const value = secrets[ref];
        if (value === undefined) throw new SecretUnavailableError(ref, 'no such secret in this test');
        return value;
      },
    },
    hooks: {},
  };
  return {
    dir,
    ctx,
    reports,
    run: async (input, signal) => {
      const parsed = taskContracts.discover.input.parse(input);
      const out = await discover(parsed, signal ? { ...ctx, signal } : ctx);
      return taskContracts.discover.outcome.parse(out);
    },
    cleanup: () => fs.rm(dir, { recursive: true, force: true }),
  };
}
