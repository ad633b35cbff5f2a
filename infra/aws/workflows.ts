/**
 * Step Functions resources: one role every site's state machines run as, and per site the
 * agent's activity plus the import, clone and transition state machines, built from the same
 * statemachines/*.asl.json files the local stack runs and filled in by the same `substitute`
 * the functions use when they provision a site at runtime.
 */
import { readFileSync } from 'node:fs';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import { activityName, stateMachineName, substitute, type Workflow, workflows } from '../../statemachines/names';

export const definitionFile = (wf: Workflow) => new URL(`../../statemachines/${wf}.asl.json`, import.meta.url);

/** The role of the site state machines: they call the functions for their bookkeeping steps. */
export class StateMachineRole extends Construct {
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: { stepsFunctionArn: string }) {
    super(scope, id);
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('states.amazonaws.com'),
      description: 'ENCOMPASS site state machines: invoke the functions for bookkeeping steps',
    });
    this.role.addToPolicy(
      new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [props.stepsFunctionArn] }),
    );
    NagSuppressions.addResourceSuppressions(
      this.role,
      [
        {
          id: 'AwsSolutions-IAM5',
          reason:
            'Added by CDK for execution logging and X-Ray: CloudWatch Logs log delivery (CreateLogDelivery, ' +
            'DescribeResourcePolicies, ...) and xray:PutTraceSegments support no resource-level permissions.',
          appliesTo: ['Resource::*'],
        },
      ],
      true,
    );
  }
}

export interface SiteWorkflowsProps {
  site: string;
  role: iam.IRole;
  stepsFunctionArn: string;
  /** Where alarms on failed executions send notifications. */
  alarmAction?: cloudwatch.IAlarmAction;
}

export class SiteWorkflows extends Construct {
  readonly activity: sfn.Activity;
  readonly stateMachines: Record<Workflow, sfn.StateMachine>;

  constructor(scope: Construct, id: string, props: SiteWorkflowsProps) {
    super(scope, id);
    const { site } = props;
    this.activity = new sfn.Activity(this, 'Activity', { activityName: activityName(site) });
    const logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `/aws/vendedlogs/states/encompass-${site}`,
      retention: logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const values = { AgentActivityArn: this.activity.activityArn, StepsFunctionArn: props.stepsFunctionArn };
    const machines = {} as Record<Workflow, sfn.StateMachine>;
    for (const wf of workflows) {
      const definition = JSON.parse(readFileSync(definitionFile(wf), 'utf8')) as unknown;
      const machine = new sfn.StateMachine(this, `${wf}StateMachine`, {
        stateMachineName: stateMachineName(site, wf),
        definitionBody: sfn.DefinitionBody.fromString(substitute(definition, values)),
        role: props.role,
        tracingEnabled: true,
        // Task inputs carry machine credentials: log every event, never the data.
        logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
      });
      const alarm = machine
        .metricFailed({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM })
        .createAlarm(this, `${wf}Failed`, {
          alarmName: `${stateMachineName(site, wf)}-failed`,
          alarmDescription: `An execution of ${stateMachineName(site, wf)} failed: read GET /v1/operations/<id> and the log group ${logGroup.logGroupName}`,
          threshold: 1,
          evaluationPeriods: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        });
      if (props.alarmAction) alarm.addAlarmAction(props.alarmAction);
      machines[wf] = machine;
    }
    this.stateMachines = machines;
  }
}
