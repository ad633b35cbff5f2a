/**
 * The local site's edge agent, run as a child process like on a real host: its package entry
 * (`encompass-agent`, edge-agent/bin.mjs) in one node process, tied to the stack by its stdin lifeline.
 */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AgentConfig } from '../../edge-agent/config';
import { type Child, spawnChild } from './children';

const BIN = fileURLToPath(new URL('../../edge-agent/bin.mjs', import.meta.url));
/** The agent ends itself within 1.5 s of SIGTERM (edge-agent/main.ts); past this it is killed. */
const STOP_GRACE_MS = 3000;

export async function startAgent(o: {
  config: AgentConfig;
  dir: string;
  logFile: string;
  onExit?: (code: number | null) => void;
}): Promise<Child & { configFile: string }> {
  const configFile = join(o.dir, 'agent.json');
  writeFileSync(configFile, JSON.stringify(o.config, null, 2), { mode: 0o600 });
  // Ready once it polls; only this run's part of the log counts.
  const from = existsSync(o.logFile) ? statSync(o.logFile).size : 0;
  const child = await spawnChild({
    name: 'edge agent',
    command: process.execPath,
    args: [BIN, '--config', configFile],
    logFile: o.logFile,
    ready: async () => readFileSync(o.logFile).subarray(from).includes('polling '),
    readyTimeoutMs: 30_000,
    stopGraceMs: STOP_GRACE_MS,
    onExit: o.onExit,
  });
  return Object.assign(child, { configFile });
}
