/**
 * The functions bundle as one Lambda: it serves the HTTP API, runs the state machines'
 * bookkeeping steps (direct invocation) and receives upload events. Its role is written out by
 * hand so every grant is visible here; `stepsFunctionArn` is built from the fixed function name,
 * so the function can carry its own ARN in its environment without a circular reference.
 */
import { ArnFormat, Aws, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import { DISCOVERY_SCHEDULE_EVENT } from '../../functions/discovery/schedule';
import { SECRETS_PREFIX } from '../../statemachines/secrets';
import { bundleFunctions, LAMBDA_HANDLER } from './bundle';
import { SECRET_WRITE_ACTIONS, secretsArn } from './secrets';

export const FUNCTION_NAME = 'encompass-functions';

/** Exactly the calls the store makes: GetItem, Query, and TransactWriteItems of Put/Update/Delete/ConditionCheck. */
export const TABLE_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:Query',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:ConditionCheckItem',
];

/** The function's ARN, known before the function exists (its name is fixed). */
export const functionArn = (stack: Stack) =>
  stack.formatArn({
    service: 'lambda',
    resource: 'function',
    resourceName: FUNCTION_NAME,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });

export interface FunctionsProps {
  table: dynamodb.ITable;
  bucket: s3.IBucket;
  /** The role every site's state machines run as (also those the functions create at runtime). */
  stateMachineRole: iam.IRole;
  /** A directory holding the bundle; bundled from functions/entry/lambda.ts when omitted. */
  codeDir?: string;
}

export class Functions extends Construct {
  readonly function: lambda.Function;
  readonly stepsFunctionArn: string;

  constructor(scope: Construct, id: string, props: FunctionsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.stepsFunctionArn = functionArn(stack);
    const logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `/aws/lambda/${FUNCTION_NAME}`,
      retention: logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'ENCOMPASS functions: table, bucket, site workflows, machine credentials (write only)',
    });
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
    );

    this.function = new lambda.Function(this, 'Function', {
      functionName: FUNCTION_NAME,
      description: 'ENCOMPASS control plane: HTTP API, workflow steps, upload events',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      code: lambda.Code.fromAsset(props.codeDir ?? bundleFunctions()),
      handler: LAMBDA_HANDLER,
      memorySize: 1024,
      // API Gateway gives up on an integration after 30 s.
      timeout: Duration.seconds(29),
      role,
      logGroup,
      environment: {
        ENCOMPASS_TABLE: props.table.tableName,
        ENCOMPASS_BUCKET: props.bucket.bucketName,
        ENCOMPASS_STEPS_FUNCTION_ARN: this.stepsFunctionArn,
        ENCOMPASS_STATEMACHINE_ROLE_ARN: props.stateMachineRole.roleArn,
        ENCOMPASS_ACCOUNT_ID: Aws.ACCOUNT_ID,
        // Secrets Manager names of machine credentials: <prefix><site>/<id> (statemachines/secrets.ts).
        ENCOMPASS_SECRETS_PREFIX: SECRETS_PREFIX,
        NODE_OPTIONS: '--enable-source-maps',
      },
    });
    this.grant(role, props, stack);
    // Operations whose workflow ended without recording an outcome are ended as failed (reconcile).
    new events.Rule(this, 'Reconcile', {
      description: 'ENCOMPASS: end operations whose workflow is gone',
      schedule: events.Schedule.rate(Duration.minutes(5)),
      targets: [new targets.LambdaFunction(this.function)],
    });
    // Sites' discovery schedules (PUT /v1/sites/{id}/discovery): every minute, the due ones start.
    new events.Rule(this, 'DiscoverySchedules', {
      description: 'ENCOMPASS: start the discoveries of the sites that are due',
      schedule: events.Schedule.rate(Duration.minutes(1)),
      targets: [
        new targets.LambdaFunction(this.function, {
          event: events.RuleTargetInput.fromObject(DISCOVERY_SCHEDULE_EVENT),
        }),
      ],
    });
  }

  private grant(role: iam.Role, props: FunctionsProps, stack: Stack) {
    props.table.grant(role, ...TABLE_ACTIONS);
    role.addToPolicy(new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [props.bucket.bucketArn] }));
    role.addToPolicy(
      // AbortMultipartUpload: presigned multipart uploads that are given up are cleaned up.
      new iam.PolicyStatement({
        actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'],
        resources: [props.bucket.arnForObjects('*')],
      }),
    );
    const states = (resource: string, resourceName: string) =>
      stack.formatArn({ service: 'states', resource, resourceName, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['states:CreateActivity', 'states:DeleteActivity'],
        resources: [states('activity', 'encompass-*')],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: [
          'states:CreateStateMachine',
          'states:UpdateStateMachine',
          'states:DeleteStateMachine',
          'states:StartExecution',
        ],
        resources: [states('stateMachine', 'encompass-*')],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['states:DescribeExecution'],
        resources: [states('execution', 'encompass-*:*')],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({ actions: SECRET_WRITE_ACTIONS, resources: [secretsArn(stack, SECRETS_PREFIX)] }),
    );
    // The health check lists state machines; ListStateMachines has no resource-level permissions.
    role.addToPolicy(new iam.PolicyStatement({ actions: ['states:ListStateMachines'], resources: ['*'] }));
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [props.stateMachineRole.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'states.amazonaws.com' } },
      }),
    );
    NagSuppressions.addResourceSuppressions(
      role,
      [
        {
          id: 'AwsSolutions-IAM5',
          reason:
            'Scoped as far as the resources allow: the table indexes (queried by name at runtime); every object of the ' +
            "control plane's own bucket; activities, state machines and executions named encompass-* (sites are created " +
            'through the API after deployment, so their names are not known here); the secrets under encompass/ (every ' +
            "site's machine credentials, written and deleted, never read); ListStateMachines, which supports no " +
            'resource-level permissions.',
          appliesTo: [
            { regex: '/^Resource::<.*Table[0-9A-F]*\\.Arn>\\/index\\/\\*$/' },
            { regex: '/^Resource::<.*Bucket[0-9A-F]*\\.Arn>\\/\\*$/' },
            {
              regex:
                '/^Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:(activity|stateMachine|execution):encompass-\\*(:\\*)?$/',
            },
            `Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${SECRETS_PREFIX}*`,
            'Resource::*',
          ],
        },
      ],
      true,
    );
  }
}
