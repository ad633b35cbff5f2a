/** Where the console shows a record an operation is about. */
import { scenarioPaths } from '../scenarios/deployments';
import type { Operation } from '../store/records';

export type ScenarioPath = (typeof scenarioPaths)[keyof typeof scenarioPaths];
export const SCENARIO_PATHS = Object.values(scenarioPaths) as ScenarioPath[];

/** The page of the scenario an operation of kind `kind` belongs to (`service_update_prepare` → service-updates). */
export function scenarioPathOfKind(kind: string): ScenarioPath {
  const key = (Object.keys(scenarioPaths) as (keyof typeof scenarioPaths)[]).find((k) => kind.startsWith(k));
  return scenarioPaths[key ?? 'deployment'];
}

const pages: Record<string, string> = { clone: 'clones', master: 'masters', machine: 'machines' };

/** The console page of an operation's resource, if it has one. */
export function resourceHref(op: Pick<Operation, 'kind' | 'resource'>): string | undefined {
  const page = op.resource.kind === 'deployment' ? scenarioPathOfKind(op.kind) : pages[op.resource.kind];
  return page ? `/${page}/${encodeURIComponent(op.resource.id)}` : undefined;
}
