/**
 * `encompass-agent --config agent.json`: runs the edge agent until SIGINT/SIGTERM. Started by a
 * supervisor with `ENCOMPASS_LIFELINE=stdin` (the local stack), it also stops when its stdin reaches
 * EOF, which happens when the supervisor is gone, however it died.
 */
import { parseArgs } from 'node:util';
import { Agent } from './agent';
import { loadConfig } from './config';
import { AgentError } from './errors';

/** A stop asked for ends the process by then, whatever a task is doing (under systemd's and the stack's 2 s). */
const STOP_DEADLINE_MS = 1500;

try {
  const { values } = parseArgs({ options: { config: { type: 'string', short: 'c' } } });
  const agent = new Agent(loadConfig(values.config));
  // Installed before start(), whose clean-up and resumes can take a while: a stop is honoured at any moment.
  let stopping = false;
  const stop = (why: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`[agent] ${why}: stopping`);
    // Tasks that do not heed their abort signal are cut here; their journal entries stay for the next start.
    setTimeout(() => process.exit(0), STOP_DEADLINE_MS).unref();
    void agent.stop().finally(() => process.exit(0));
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => stop(sig));
  if (process.env.ENCOMPASS_LIFELINE === 'stdin') {
    process.stdin.on('end', () => stop('the supervisor is gone (lifeline closed)'));
    process.stdin.on('error', () => stop('the supervisor is gone (lifeline broken)'));
    process.stdin.resume();
  }
  await agent.start();
} catch (e) {
  // Configuration and usage problems: one clear line, no stack.
  if (e instanceof AgentError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    console.error(`encompass-agent: ${(e as Error).message}`);
    process.exit(2);
  }
  throw e;
}
