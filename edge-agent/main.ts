/** `encompass-agent --config agent.json`: runs the edge agent until SIGINT/SIGTERM. */
import { parseArgs } from 'node:util';
import { Agent } from './agent';
import { loadConfig } from './config';
import { AgentError } from './errors';

try {
  const { values } = parseArgs({ options: { config: { type: 'string', short: 'c' } } });
  const agent = new Agent(loadConfig(values.config));
  await agent.start();
  for (const sig of ['SIGINT', 'SIGTERM'] as const)
    process.once(sig, () => {
      void agent.stop().then(() => process.exit(0));
    });
} catch (e) {
  // Configuration and usage problems: one clear line, no stack.
  if (e instanceof AgentError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    console.error(`encompass-agent: ${(e as Error).message}`);
    process.exit(2);
  }
  throw e;
}
