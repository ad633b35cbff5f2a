#!/usr/bin/env node
// `encompass-agent --config /etc/encompass/agent.json`: the edge agent, run from the package's
// TypeScript sources through tsx (a dependency), so the installed package needs no build step.
import { register } from 'tsx/esm/api';

register();
await import('./main.ts');
