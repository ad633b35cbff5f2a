/**
 * ENCOMPASS in AWS: the HTTP API and the functions, the table and the bucket, and per site the
 * agent's activity, the workflows and the agent's role (which reads only that site's secrets).
 * Names of the Step Functions resources and of the function are fixed (the functions compute ARNs
 * from them), so one stack per account and region.
 */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { SECRETS_PREFIX } from '../../statemachines/secrets';
import { AgentRole } from './agent-role';
import { Alarms } from './alarms';
import { Api } from './api';
import { Data } from './data';
import { Functions, functionArn } from './functions';
import { outputSuffix, type Settings } from './settings';
import { Uploads } from './uploads';
import { SiteWorkflows, StateMachineRole } from './workflows';

export interface EncompassStackProps extends StackProps {
  settings: Settings;
  /** A directory holding an already bundled functions/entry/lambda.ts (`index.mjs`); bundled at synth otherwise. */
  functionsCodeDir?: string;
}

export class EncompassStack extends Stack {
  constructor(scope: Construct, id: string, props: EncompassStackProps) {
    super(scope, id, props);
    const { settings } = props;
    const data = new Data(this, 'Data', { operationLogDays: settings.operationLogDays });
    const stepsFunctionArn = functionArn(this);
    const stateMachineRole = new StateMachineRole(this, 'StateMachineRole', { stepsFunctionArn }).role;
    const functions = new Functions(this, 'Functions', {
      table: data.table,
      bucket: data.bucket,
      stateMachineRole,
      codeDir: props.functionsCodeDir,
    });
    const api = new Api(this, 'Api', { function: functions.function });
    const uploads = new Uploads(this, 'Uploads', { bucket: data.bucket, function: functions.function });
    const alarms = new Alarms(this, 'Alarms', { email: settings.alarmEmail });
    alarms.watchFunction(functions.function);
    alarms.watchDeadLetters(uploads.deadLetters);

    new CfnOutput(this, 'ApiUrl', { value: api.url, description: 'Base URL of the HTTP API (the agent config "api")' });
    new CfnOutput(this, 'TableName', { value: data.table.tableName });
    new CfnOutput(this, 'BucketName', { value: data.bucket.bucketName });
    new CfnOutput(this, 'AlarmTopicArn', { value: alarms.topic.topicArn });
    new CfnOutput(this, 'SecretsPrefix', {
      value: SECRETS_PREFIX,
      description:
        'Secrets Manager names of machine credentials start with this, then <site>/ (ENCOMPASS_SECRETS_PREFIX)',
    });

    for (const site of settings.sites) {
      const suffix = outputSuffix(site);
      const workflows = new SiteWorkflows(this, `Site-${site}`, {
        site,
        role: stateMachineRole,
        stepsFunctionArn,
        alarmAction: alarms.action,
      });
      // The state machines call the function: create it first.
      for (const machine of Object.values(workflows.stateMachines)) machine.node.addDependency(functions.function);
      const agent = new AgentRole(this, `Agent-${site}`, {
        site,
        activity: workflows.activity,
        bucket: data.bucket,
        trustAnchorArn: settings.agentTrustAnchorArn,
      });
      new CfnOutput(this, `ActivityArn${suffix}`, {
        value: workflows.activity.activityArn,
        description: `Activity the agent of site ${site} polls`,
      });
      new CfnOutput(this, `AgentRoleArn${suffix}`, {
        value: agent.role.roleArn,
        description: `IAM role of the agent of site ${site}`,
      });
    }
  }
}
