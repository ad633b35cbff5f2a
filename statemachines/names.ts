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

/**
 * A lane: where a site's work is routed. The site's own lane (`<site>`) is polled by every agent of the
 * site and takes work any of them can do (shared repositories, machines of no host); a host's lane
 * (`<site>.<host>`) is polled by the agent on that host only and takes work on its host-local
 * repositories and machines. Each lane has its own activity and its own copy of the state machines,
 * since a Task state names its activity statically. Site names have no dot, so lanes never collide.
 */
export const laneOf = (site: string, host?: string) => (host ? `${site}.${host}` : site);

export const activityName = (lane: string) => `encompass-${lane}-agent`;
export const stateMachineName = (lane: string, wf: Workflow) => `encompass-${lane}-${wf}`;

const arn = (a: Account, kind: string, name: string) => `arn:aws:states:${a.region}:${a.accountId}:${kind}:${name}`;

export const activityArn = (a: Account, lane: string) => arn(a, 'activity', activityName(lane));
export const stateMachineArn = (a: Account, lane: string, wf: Workflow) =>
  arn(a, 'stateMachine', stateMachineName(lane, wf));
/** One execution per operation, named after the operation id. */
export const executionArn = (a: Account, lane: string, wf: Workflow, operation: string) =>
  arn(a, 'execution', `${stateMachineName(lane, wf)}:${operation}`);

/** Fills the `${Name}` placeholders of an ASL document (the same files AWS deploys). */
export function substitute(definition: unknown, values: Record<string, string>): string {
  return JSON.stringify(definition).replace(/\$\{(\w+)\}/g, (whole, name: string) => values[name] ?? whole);
}
