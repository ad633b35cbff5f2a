/** The local site's edge agent, run as a child process like on a real host. */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AgentConfig } from '../../edge-agent/config';
import { type Child, spawnChild } from './children';

const MAIN = fileURLToPath(new URL('../../edge-agent/main.ts', import.meta.url));
const TSX = fileURLToPath(new URL('../../node_modules/tsx/dist/cli.mjs', import.meta.url));

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
    args: [TSX, MAIN, '--config', configFile],
    logFile: o.logFile,
    ready: async () => readFileSync(o.logFile).subarray(from).includes('polling '),
    readyTimeoutMs: 30_000,
    onExit: o.onExit,
  });
  return Object.assign(child, { configFile });
}
