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

  /** Creates (or updates) the site's activity and state machines. Idempotent. */
  async provisionSite(site: string): Promise<void> {
    await this.sfn.send(new CreateActivityCommand({ name: activityName(site) }));
    const values = { AgentActivityArn: activityArn(this.config, site), StepsFunctionArn: this.config.stepsFunctionArn };
    for (const wf of workflows) {
      const definition = substitute(definitions[wf], values);
      try {
        await this.sfn.send(
          new CreateStateMachineCommand({ name: stateMachineName(site, wf), definition, roleArn: this.roleArn }),
        );
      } catch (e) {
        if ((e as Error).name !== 'StateMachineAlreadyExists') throw e;
        await this.sfn.send(
          new UpdateStateMachineCommand({ stateMachineArn: stateMachineArn(this.config, site, wf), definition }),
        );
      }
    }
  }

  /** Deletes the site's state machines and activity; missing ones are not an error. */
  async removeSite(site: string): Promise<void> {
    for (const wf of workflows)
      await this.sfn.send(new DeleteStateMachineCommand({ stateMachineArn: stateMachineArn(this.config, site, wf) }));
    await this.sfn.send(new DeleteActivityCommand({ activityArn: activityArn(this.config, site) }));
  }

  async start(site: string, wf: Workflow, operation: string, input: Record<string, unknown>): Promise<string> {
    const out = await this.sfn.send(
      new StartExecutionCommand({
        stateMachineArn: stateMachineArn(this.config, site, wf),
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
