/** Every kind of operation by the name it is recorded under: import, clone, each lifecycle event, the repository and machine work, the scenarios. */
import { events, isEvent } from '../../statemachines/lifecycle';
import { discoveryKind } from '../discovery/commit';
import { powerCorrectKind } from '../discovery/power';
import type { Operation } from '../store/records';
import { bundleImportKind, exportKind } from '../transfer/commit';
import { checkKind, removeOrphanKind } from './check';
import { cloneKind } from './clone';
import { deploymentDeleteKind, deploymentKind, finalizedKind, preparedKind, rolledBackKind } from './deployment';
import { eventKind } from './event';
import { healthCheckKind } from './health';
import { hookKind } from './hook';
import { importKind } from './import';
import type { OperationKind } from './kind';

const kinds: Record<string, OperationKind> = {
  import: importKind,
  clone: cloneKind,
  check: checkKind,
  remove_orphan: removeOrphanKind,
  health_check: healthCheckKind,
  hook: hookKind,
  discovery: discoveryKind,
  power_correct: powerCorrectKind,
  deployment: deploymentKind,
  migration: deploymentKind,
  reassignment: deploymentKind,
  service_update: deploymentKind,
  service_update_prepare: preparedKind,
  service_update_rollback: rolledBackKind,
  service_update_finalize: finalizedKind,
  deployment_delete: deploymentDeleteKind,
  export: exportKind,
  bundle_import: bundleImportKind,
};

/** Every kind an operation may be recorded under. */
export const operationKinds = [...Object.keys(kinds), ...new Set(events)].sort();

export function kindOf(op: Operation): OperationKind {
  const kind = isEvent(op.kind) ? eventKind : kinds[op.kind];
  if (!kind) throw new Error(`operation ${op.id} has unknown kind ${op.kind}`);
  return kind;
}
