/** The end of a health check: it writes nothing; its result says the machine passed and how fast. */
import type { OperationKind } from './kind';
import { outcomeOf } from './outcome';

export const healthCheckKind: OperationKind = {
  async commit(_deps, op, outcome) {
    const o = outcomeOf('health', outcome);
    return {
      writes: [],
      result: { machine: op.resource.id, healthy: o.healthy, detail: o.detail, seconds: o.seconds },
    };
  },
  async undo() {
    return [];
  },
};
