/** Names and ARNs of the Step Functions resources that belong to a site. */
import type { Config } from '../config';

export const workflows = ['import', 'clone', 'transition'] as const;
export type Workflow = (typeof workflows)[number];

export const activityName = (site: string) => `encompass-${site}-agent`;
export const stateMachineName = (site: string, wf: Workflow) => `encompass-${site}-${wf}`;

export const activityArn = (c: Config, site: string) =>
  `arn:aws:states:${c.region}:${c.accountId}:activity:${activityName(site)}`;
export const stateMachineArn = (c: Config, site: string, wf: Workflow) =>
  `arn:aws:states:${c.region}:${c.accountId}:stateMachine:${stateMachineName(site, wf)}`;

/** Fills the `${Name}` placeholders of an ASL document (the same files AWS deploys). */
export function substitute(definition: unknown, values: Record<string, string>): string {
  return JSON.stringify(definition).replace(/\$\{(\w+)\}/g, (whole, name: string) => values[name] ?? whole);
}
export const executionArn = (c: Config, site: string, wf: Workflow, operation: string) =>
  `arn:aws:states:${c.region}:${c.accountId}:execution:${stateMachineName(site, wf)}:${operation}`;
