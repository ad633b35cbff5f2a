/** The shapes of the records the functions keep in DynamoDB. */

import type { CustomizationItem, DocumentRef } from '../../statemachines/customization';
import type { MachineObservation, ObservedIdentifiers } from '../../statemachines/discovery';
import type { MachineKind, StorageKind } from '../../statemachines/kinds';
import type { Binding, Metastate, PlannedTransition } from '../../statemachines/lifecycle';
import type { AppliedChange, Filesystem, HealthCheck, ImageFacts } from '../../statemachines/tasks';
import type { OperationTiming } from '../../statemachines/timing';
import type { StoredSeed } from '../discovery/seeds';
import type { SiteDiscoverySettings } from '../discovery/settings';

export type Role = 'viewer' | 'operator' | 'admin' | 'agent';

/** Fields every named resource has. `rev` is the optimistic-concurrency revision. */
export interface Base {
  id: string;
  name: string;
  rev: number;
  createdAt: string;
  updatedAt: string;
}

export interface Site extends Base {
  description?: string;
  /** Its agents by host, as each last reported itself (functions/actions/agents.ts). */
  agents?: Record<string, AgentInfo>;
  /** Its discovery: the seeds a schedule asks, how often, and how evidence is weighed (functions/discovery/). */
  discovery?: SiteDiscovery;
}

export interface AgentInfo {
  host: string;
  lastSeen: string;
  version?: string;
  /** The machine's own host name. */
  machine?: string;
  /** The shared repositories it reaches (names or ids); absent: all of its site's. */
  repositories?: { shared?: string[] };
  startedAt?: string;
  slots?: number;
  /** The hooks its configuration names (a service update may run them by name). */
  hooks?: { name: string; on: 'image' | 'machine'; doc?: string }[];
  /** Its host's lane (activity and state machines) exists. */
  lane?: boolean;
}

export interface SiteDiscovery {
  seeds: StoredSeed[];
  /** 0: not scheduled (the seeds and settings still serve `POST /v1/sites/{id}/discovery/run`). */
  everyMinutes: number;
  settings?: SiteDiscoverySettings;
  nextRunAt?: string;
  lastRun?: { discovery: string; at: string };
}

export interface Repository extends Base {
  site: string;
  kind: StorageKind;
  path: string;
  description?: string;
  settings?: Record<string, unknown>;
  /** Host-local: only the agent on this host reaches it. Absent: shared by the site's agents. */
  host?: string;
  /** Which machines can reach it (absent: every machine of the site, or of its host). */
  reach?: { machines?: string[]; hosts?: string[]; fabrics?: string[] };
  limits?: { clonesPerSource?: number };
  /** Whether work may use it (store/repositories.ts); records written before it existed read as `ready`. */
  status: RepositoryStatus;
  /** The check whose end sets `status`: the one in hand, or the last. */
  operation?: string;
  /** Why it is not `ready`: the agent's reason, or what it waits for. */
  reason?: { code: string; message: string; operation?: string; at: string };
  /** What the last check that reached it found: when, by which agent, and its filesystem's space. */
  root?: { checkedAt: string; host: string; freeBytes: number; totalBytes: number };
}

/**
 * `checking`: its site's agent has not yet said that its root is usable (a new repository, or one
 * checked again after it was unreachable); `ready`: usable; `unreachable`: its last check failed (`reason`).
 */
export type RepositoryStatus = 'checking' | 'ready' | 'unreachable';

export interface MachineIdentity {
  macs?: string[];
  serial?: string;
  uuid?: string;
  initiatorName?: string;
}

export interface Machine extends Base {
  site: string;
  kind: MachineKind;
  arch: string;
  cpus: number;
  memoryMiB: number;
  identity: MachineIdentity;
  settings: Record<string, unknown>;
  /** Write-only: never returned by the API. */
  credentials?: Record<string, string>;
  /** The clone assigned to this machine, if any (at most one). */
  clone?: string;
  /** Free-form labels that deployment selectors pick pools by. */
  tags?: string[];
  /**
   * `ready` (the default when absent): free to use. `reserved`: held by the deployment in
   * `reservation` until it ends. `quarantined`: a deployment failed on it (`quarantine` says how);
   * nothing uses it until an operator releases it (POST /v1/machines/{id}/release).
   */
  state?: MachineState;
  reservation?: string;
  quarantine?: { deployment: string; member: number; error: { code: string; message: string }; at: string };
  /** A clone kept for this machine by a reassignment, to switch back to. */
  standby?: string;
  /** The clones it was bound to, oldest first (at most MACHINE_HISTORY): from assign to unassign. */
  history?: { clone: string; cloneName: string; from: string; to?: string; operation: string }[];
  /** The host whose agent reaches it; absent: any agent of its site. */
  host?: string;
  /** The storage fabrics it is on (a repository's `reach.fabrics`). */
  fabrics?: string[];
  /** What the last discovery that saw it reported (functions/discovery/). */
  inventory?: MachineInventory;
  /** How discoveries that should have seen it went: runs in a row without it, and what it was before `missing`. */
  presence?: { misses: number; lastSeen?: string; missingSince?: string; stateBefore?: MachineState };
}

/** `ready`, `reserved`, `quarantined` (above); `discovered`: found by a discovery, waiting for an operator's adopt; `missing`: a discovery no longer finds it. */
export type MachineState = 'ready' | 'reserved' | 'quarantined' | 'discovered' | 'missing';

/** One machine as a discovery last saw it: its snapshot in the inventory. */
export interface MachineInventory {
  discovery: string;
  seenAt: string;
  /** The seed that reported it, as `<kind>:<normalized address>`. */
  seed: string;
  name?: string;
  identifiers: ObservedIdentifiers;
  facts: MachineObservation['facts'];
}

export interface Requirements {
  arch?: string;
  minCpus?: number;
  minMemoryMiB?: number;
}

export interface Profile {
  service?: string;
  software?: string[];
  description?: string;
}

export interface Master extends Base, Partial<ImageFacts> {
  status: 'importing' | 'ready';
  repository: string;
  path: string;
  version: number;
  filesystem?: Filesystem;
  parent?: string;
  sourceClone?: string;
  /** A master an import brought: the site and export it came from, and its id there. */
  importedFrom?: { site: string; export: string; master: string };
  profile: Profile;
  requirements: Requirements;
  customization: CustomizationItem[];
  operation?: string;
}

export type CustomizationItemList = CustomizationItem[];

export interface CloneCustomization {
  /**
   * The clone's effective items (its template, then the items added for it) and its variables,
   * kept in S3 (store/customizations.ts); absent until the first assign or customize, when the
   * effective items are the template.
   */
  document?: DocumentRef;
  /**
   * Records written before customization documents hold the clone's own items (after its template)
   * and its variables here instead; they are read as its document (store/customizations.ts) until
   * the next assign or customize writes one, and that commit drops them.
   */
  items?: CustomizationItem[];
  variables?: Record<string, string>;
  /** How many of the effective items (master's, then the clone's) are applied. */
  applied: number;
  changes: AppliedChange[];
}

export interface Clone extends Base, Partial<ImageFacts> {
  status: 'creating' | 'ready' | 'captured' | 'destroyed';
  master: string;
  repository: string;
  path: string;
  method?: string;
  /**
   * Linked clones (`overlay`): the path of the master image this clone reads through to, in the
   * master's repository (the clone's own until a relocation moves it elsewhere).
   */
  backing?: string;
  metastate: Metastate;
  binding: Binding;
  machine?: string;
  customization: CloneCustomization;
  /** Items of the master when the clone was made: later edits of the master do not change it. */
  template: CustomizationItem[];
  bootCount: number;
  /** The operation holding the clone, if any. */
  lock?: string;
  lastError?: { code: string; message: string; reason?: string; operation: string; at: string };
  capturedAs?: string;
  /** Its machine is `missing`: discoveries no longer find it (cleared when one does). */
  machineMissing?: { machine: string; since: string; discovery: string };
  /**
   * The images it was copied through, oldest first: its master's id, then the relays (clone ids) of a
   * deployment's tree down to the one it was copied from. Absent: copied from its master directly, by
   * a plain clone request.
   */
  lineage?: string[];
  /** A relay of this deployment's tree: an uncustomized copy of the master its clones are made from, removed when the deployment's phase ends. */
  relayOf?: string;
}

export type OperationStatus = 'running' | 'succeeded' | 'failed' | 'aborted';

/** One machine of a deployment and the clone made for it, as the chain moves. */
export interface DeploymentMember {
  index: number;
  /** The member's machine; absent for a migration of a clone bound to none (its image moves only). */
  machine?: string;
  machineName?: string;
  /** The clone's name, rendered at accept; its id once it exists. */
  clone: string;
  cloneId?: string;
  variables: Record<string, string>;
  /** Variables carried from the machine's old clone that the new master's template does not use: left out. */
  dropped?: string[];
  /** What the member's row says besides its outcome (which variables were dropped, and why). */
  message?: string;
  /** The step running or next: a deploy step, a teardown step, or where the member ended. */
  step: MemberStep;
  /** The operation of the step in hand. */
  operation?: string;
  /** Tries of the step in hand (a step cut short by a restart is tried again); 0 between steps. */
  attempts: number;
  /** Why the member is being torn down: it failed, the deployment rolls back, it is deleted, or (a staging clone) captured. */
  teardown?: 'failed' | 'rollback' | 'delete' | 'approve';
  /** Where the member's clones are to end, in order (a migration's, a reassignment's); a deployment's follow from it. */
  goals?: Goal[];
  /** Where they go back to when a goal cannot be reached (a migration's source machine). */
  compensation?: Goal[];
  /** The goals of a later phase, when they are not "destroy the member's clone" (a service update's rollback). */
  phases?: { rollback?: Goal[]; delete?: Goal[]; approve?: Goal[] };
  /** How many goals of the list in hand are reached. */
  reached?: number;
  outcome?: 'succeeded' | 'failed' | 'skipped' | 'rolled_back' | 'removed' | 'captured';
  error?: { code: string; message: string; step: string; operation?: string };
  /** Tried once the member's goals are reached, before it succeeds (rendered at accept). */
  healthCheck?: HealthCheck;
  /** What the health check found. */
  health?: { healthy: boolean; detail: string; at: string; operation: string };
  /** A tree's member: the relay (by name) its clone is copied from (absent: the master), where and how. */
  source?: string;
  repository?: string;
  method?: string;
  generation?: number;
}

/**
 * A deployment's clones as a tree (`fanout`): the master copies to the first generation of relays,
 * each relay to the next, and the last relays (or the master) to the members' clones. Relays live in
 * shared repositories; each is removed when the phase that made it ends (scenarios/relays.ts).
 */
export interface CloneTree {
  fanout: number;
  relays: Relay[];
}

export interface Relay {
  /** Its clone's name: `<deployment>-r<generation>-<n>`, unique, so two members never make it twice. */
  name: string;
  /** 1: copied from the master; g: from a relay of generation g - 1 (`parent`, by name). */
  generation: number;
  parent?: string;
  repository: string;
  method: string;
  /** The clone operation that makes it, and the clone once that succeeded. */
  operation?: string;
  cloneId?: string;
  attempts: number;
  /** Why it could not be made, or not removed. */
  error?: { code: string; message: string };
  /** The destroy operation that removes it; `removed` once it is gone. */
  removal?: string;
  removed?: boolean;
}

/** A state a clone is to reach: bound to `machine` with `binding`, or destroyed, or captured as a master version. */
export interface Goal {
  /** The clone; absent: the member's own, made by its `clone` step. */
  clone?: string;
  machine?: string;
  binding: Binding | 'destroyed' | 'captured';
  /** In maintenance (reconfigured), to be changed and captured. */
  metastate?: 'maintenance';
  /** A hook of the agent run once the binding is reached (a service update's change to its staging clone). */
  hook?: string;
  /** The repository the clone's image is to be in (a migration's storage); absent: wherever it is. */
  repository?: string;
  /** Variables for the assign of a clean clone. */
  variables?: Record<string, string>;
}

export type MemberStep =
  | 'pending'
  | 'clone'
  | 'assign'
  | 'attach'
  | 'activate'
  | 'deactivate'
  | 'detach'
  | 'unassign'
  | 'relocate'
  | 'destroy'
  | 'reconfigure'
  | 'hook'
  | 'capture'
  | 'health'
  | 'done';

export type Scenario = 'deployment' | 'migration' | 'reassignment' | 'service_update';

export interface FailurePolicy {
  maxFailures: number;
  onFailure: 'continue' | 'stop' | 'rollback';
}

export interface Deployment extends Base {
  /** What the record is: a deployment (the default), or a migration or reassignment of one member. */
  scenario?: Scenario;
  /** Members at once (a service update's wave size); by default the agent's slots. */
  concurrency?: number;
  /** A reassignment that keeps the old clone: it is listed on the machine as its standby. */
  standby?: { machine: string; clone: string };
  site: string;
  master: string;
  masterName: string;
  repository: string;
  method: string;
  activate: boolean;
  failurePolicy: FailurePolicy;
  /** The customization items added for every member (after the master's). */
  items: CustomizationItem[];
  clientToken?: string;
  /** sha256 of the request as accepted: the same clientToken with another body is refused. */
  requestHash: string;
  status: 'running' | 'prepared' | 'succeeded' | 'failed' | 'rolled_back' | 'deleting' | 'deleted' | 'finalized';
  /** The operation of the phase in hand (the deploy, then the delete). */
  operation: string;
  /** Members that failed so far; past `failurePolicy.maxFailures`, `onFailure` applies to the rest. */
  failures: number;
  members: DeploymentMember[];
  /** A service update's staging member (index 0): the clone the update is prepared on, then captured. */
  staging?: DeploymentMember;
  /** The clone plan as a tree, when the request gave a `fanout`. */
  tree?: CloneTree;
  actor: string;
}

export interface OperationStep {
  name: string;
  status: 'running' | 'succeeded' | 'failed';
  startedAt: string;
  endedAt?: string;
  message?: string;
}

export interface Operation {
  id: string;
  kind: string;
  resource: { kind: string; id: string; name: string };
  site: string;
  status: OperationStatus;
  progress: number;
  steps: OperationStep[];
  /** What was asked, as validated when the operation was accepted; the commit step applies it. */
  request: Record<string, unknown>;
  /** A lifecycle event's transition as planned at accept; its commit applies exactly this. */
  transition?: PlannedTransition;
  /**
   * When the outcome of a task with a release (statemachines/tasks.ts releaseTasks) was committed:
   * the records are switched and `result` is set, while the workflow still removes what they replaced.
   */
  switchedAt?: string;
  result?: Record<string, unknown>;
  /** `reason` says what cut it short, for `interrupted` and `agent_lost` (operations/failures.ts). */
  error?: { code: string; message: string; reason?: string };
  executionArn: string;
  /** The host whose agent it was routed to (a host-local repository, a machine's host); absent: any of the site's. */
  host?: string;
  /** The scenario operation (a deployment's) that started this one as one of its steps. */
  parent?: string;
  /** Where its time went (statemachines/timing.ts); operations accepted before it existed have none. */
  timing?: OperationTiming;
  actor: string;
  createdAt: string;
  updatedAt: string;
  rev: number;
}

export interface AuditEntry {
  id: string;
  at: string;
  actor: string;
  action: string;
  resource: { kind: string; id: string; name?: string };
  outcome: 'accepted' | 'succeeded' | 'failed' | 'denied';
  operation?: string;
  detail?: string;
}

export interface Token {
  id: string;
  role: Role;
  /** Agent tokens act for one site only. */
  site?: string;
  label?: string;
  createdAt: string;
  createdBy: string;
}
