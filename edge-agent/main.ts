/** `encompass-agent --config agent.json`: runs the edge agent until SIGINT/SIGTERM. */
import { parseArgs } from 'node:util';
import { Agent } from './agent';
import { loadConfig } from './config';

const { values } = parseArgs({ options: { config: { type: 'string', short: 'c' } } });
const agent = new Agent(loadConfig(values.config));
await agent.start();
for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.once(sig, () => {
    void agent.stop().then(() => process.exit(0));
  });
