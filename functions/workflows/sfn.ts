/**
 * The functions' side of Step Functions: provisioning a site's activity and state machines, and
 * starting and inspecting executions. One execution per operation, named after the operation id,
 * so a retried start finds the execution it already started.
 */
import {
  CreateActivityCommand,
  CreateStateMachineCommand,
  DeleteActivityCommand,
  DeleteStateMachineCommand,
  DescribeExecutionCommand,
  ListStateMachinesCommand,
  SFNClient,
  StartExecutionCommand,
  UpdateStateMachineCommand,
} from '@aws-sdk/client-sfn';
import cloneAsl from '../../statemachines/clone.asl.json';
import deploymentAsl from '../../statemachines/deployment.asl.json';
import importAsl from '../../statemachines/import.asl.json';
import machineAsl from '../../statemachines/machine.asl.json';
import {
  activityArn,
  activityName,
  laneOf,
  stateMachineArn,
  stateMachineName,
  substitute,
  type Workflow,
  workflows,
} from '../../statemachines/names';
import repositoryAsl from '../../statemachines/repository.asl.json';
import transferAsl from '../../statemachines/transfer.asl.json';
import transitionAsl from '../../statemachines/transition.asl.json';
import type { Config } from '../config';

const definitions: Record<Workflow, unknown> = {
  import: importAsl,
  clone: cloneAsl,
  transition: transitionAsl,
  repository: repositoryAsl,
  machine: machineAsl,
  deployment: deploymentAsl,
  transfer: transferAsl,
};

export function sfnClient(config: Config): SFNClient {
  return new SFNClient({
    region: config.region,
    endpoint: config.endpoints.stepfunctions,
    credentials: config.stepFunctionsCredentials ?? config.credentials,
  });
}

export class Workflows {
  constructor(
    private readonly sfn: SFNClient,
    private readonly config: Config,
    /** IAM role the state machines run as (AWS only; the local endpoint ignores it). */
    private readonly roleArn = config.stateMachineRoleArn,
  ) {}

  /** Creates (or updates) the site's own lane: its activity and state machines. Idempotent. */
  provisionSite(site: string): Promise<void> {
    return this.provision(laneOf(site));
  }

  /** Creates (or updates) the lane of the agent on `host` of `site`. Idempotent. */
  provisionLane(site: string, host: string): Promise<void> {
    return this.provision(laneOf(site, host));
  }

  private async provision(lane: string): Promise<void> {
    await this.sfn.send(new CreateActivityCommand({ name: activityName(lane) }));
    const values = { AgentActivityArn: activityArn(this.config, lane), StepsFunctionArn: this.config.stepsFunctionArn };
    for (const wf of workflows) {
      const definition = substitute(definitions[wf], values);
      try {
        await this.sfn.send(
          new CreateStateMachineCommand({ name: stateMachineName(lane, wf), definition, roleArn: this.roleArn }),
        );
      } catch (e) {
        if ((e as Error).name !== 'StateMachineAlreadyExists') throw e;
        await this.sfn.send(
          new UpdateStateMachineCommand({ stateMachineArn: stateMachineArn(this.config, lane, wf), definition }),
        );
      }
    }
  }

  /** Deletes the state machines and activities of the site and of its agents' hosts; missing ones are not an error. */
  async removeSite(site: string, hosts: string[] = []): Promise<void> {
    for (const lane of [laneOf(site), ...hosts.map((h) => laneOf(site, h))]) await this.remove(lane);
  }

  removeLane(site: string, host: string): Promise<void> {
    return this.remove(laneOf(site, host));
  }

  private async remove(lane: string): Promise<void> {
    for (const wf of workflows)
      await this.sfn.send(new DeleteStateMachineCommand({ stateMachineArn: stateMachineArn(this.config, lane, wf) }));
    await this.sfn.send(new DeleteActivityCommand({ activityArn: activityArn(this.config, lane) }));
  }

  /** Starts the operation's execution on `lane` (a site's, or one of its hosts': names.ts). */
  async start(lane: string, wf: Workflow, operation: string, input: Record<string, unknown>): Promise<string> {
    const out = await this.sfn.send(
      new StartExecutionCommand({
        stateMachineArn: stateMachineArn(this.config, lane, wf),
        name: operation,
        input: JSON.stringify({ operation, ...input }),
      }),
    );
    return out.executionArn!;
  }

  /** The execution's status, or `missing` when the endpoint no longer knows it. */
  async status(executionArn: string): Promise<string> {
    try {
      const out = await this.sfn.send(new DescribeExecutionCommand({ executionArn }));
      return out.status ?? 'UNKNOWN';
    } catch (e) {
      if ((e as Error).name === 'ExecutionDoesNotExist') return 'missing';
      throw e;
    }
  }

  async ping(): Promise<void> {
    await this.sfn.send(new ListStateMachinesCommand({ maxResults: 1 }));
  }
}
