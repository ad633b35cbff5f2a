/** Discovery: the agent asks each seed what it holds (edge-agent/discovery/) and reports what it saw. */
import type { Task } from './context';

export const discover: Task<'discover'> = async () => {
  throw new Error('discovery is not implemented on this agent yet');
};
