/**
 * Names and ARNs of the Step Functions resources that belong to a site: the functions start the
 * workflows, the agent polls the activity, the CDK app and the local stack create both.
 */
export const workflows = ['import', 'clone', 'transition', 'repository', 'machine', 'deployment', 'transfer'] as const;
export type Workflow = (typeof workflows)[number];

/** Where the resources live: an AWS region and account (the local stack uses fixed ones). */
export interface Account {
  region: string;
  accountId: string;
}

export const activityName = (site: string) => `encompass-${site}-agent`;
export const stateMachineName = (site: string, wf: Workflow) => `encompass-${site}-${wf}`;

const arn = (a: Account, kind: string, name: string) => `arn:aws:states:${a.region}:${a.accountId}:${kind}:${name}`;

export const activityArn = (a: Account, site: string) => arn(a, 'activity', activityName(site));
export const stateMachineArn = (a: Account, site: string, wf: Workflow) =>
  arn(a, 'stateMachine', stateMachineName(site, wf));
/** One execution per operation, named after the operation id. */
export const executionArn = (a: Account, site: string, wf: Workflow, operation: string) =>
  arn(a, 'execution', `${stateMachineName(site, wf)}:${operation}`);

/** Fills the `${Name}` placeholders of an ASL document (the same files AWS deploys). */
export function substitute(definition: unknown, values: Record<string, string>): string {
  return JSON.stringify(definition).replace(/\$\{(\w+)\}/g, (whole, name: string) => values[name] ?? whole);
}
