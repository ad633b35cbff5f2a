/**
 * The synthesized AWS template: data at rest protected, the workflows wired to each site's
 * activity, alarms on failed executions, least-privilege roles, and nothing cdk-nag's AwsSolutions
 * pack flags without a written reason. Synthesized once, with two sites; the Lambda code is a
 * stand-in (bundle.test.ts covers the real bundle).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tableSchema } from '../../../functions/store/schema';
import { TASK_TOKEN_ACTIONS } from '../../../infra/aws/agent-role';
import { buildApp } from '../../../infra/aws/build';
import { FUNCTION_NAME } from '../../../infra/aws/functions';
import { SECRET_READ_ACTIONS, SECRET_WRITE_ACTIONS } from '../../../infra/aws/secrets';
import { workflows } from '../../../statemachines/names';
import { SECRETS_PREFIX, secretName, siteSecretsPrefix } from '../../../statemachines/secrets';
import { asList, flatten, standInBundle, tempDir } from './helpers';

const sites = ['main', 'lab-2'];
let template: Template;
let annotations: Annotations;
let resources: Record<string, any>;
const cleanups: (() => void)[] = [];

const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const only = (type: string) => {
  const found = ofType(type);
  expect(found, type).toHaveLength(1);
  return found[0]![1].Properties;
};
const logicalIdOf = (type: string, test: (props: any) => boolean) =>
  ofType(type).find(([, r]) => test(r.Properties))?.[0];
const statementsOf = (policy: any): any[] => policy.Properties.PolicyDocument.Statement;
const policiesOfRole = (roleId: string) =>
  ofType('AWS::IAM::Policy').filter(([, p]) => asList(p.Properties.Roles).some((r: any) => r.Ref === roleId));

beforeAll(() => {
  const code = standInBundle();
  const out = tempDir('cdk-out');
  cleanups.push(code.remove, out.remove);
  const { stack } = buildApp({ outdir: out.path, context: { sites: JSON.stringify(sites) } }, code.dir);
  template = Template.fromStack(stack);
  annotations = Annotations.fromStack(stack);
  resources = template.toJSON().Resources;
}, 120_000);

afterAll(() => {
  for (const cleanup of cleanups) cleanup();
});

describe('the table', () => {
  it('is on demand, with point-in-time recovery, TTL on `ttl`, encryption and deletion protection', () => {
    const table = only('AWS::DynamoDB::Table');
    expect(table.BillingMode).toBe('PAY_PER_REQUEST');
    expect(table.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(table.TimeToLiveSpecification).toEqual({ AttributeName: 'ttl', Enabled: true });
    expect(table.SSESpecification.SSEEnabled).toBe(true);
    expect(table.DeletionProtectionEnabled).toBe(true);
  });

  it('has the keys and indexes of functions/store/schema.ts', () => {
    const table = only('AWS::DynamoDB::Table');
    expect(table.KeySchema.map((k: any) => k.AttributeName)).toEqual([tableSchema.partitionKey, tableSchema.sortKey]);
    const indexes = table.GlobalSecondaryIndexes.map((i: any) => [
      i.IndexName,
      ...i.KeySchema.map((k: any) => k.AttributeName),
    ]);
    expect(indexes).toEqual(tableSchema.indexes.map((i) => [i.name, i.partitionKey, i.sortKey]));
  });

  it('outlives the stack', () => {
    template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });
});

describe('the buckets', () => {
  it('are all encrypted, with every public access block on and ACLs off', () => {
    const buckets = ofType('AWS::S3::Bucket');
    expect(buckets.length).toBeGreaterThanOrEqual(2);
    for (const [id, b] of buckets) {
      expect(
        b.Properties.BucketEncryption?.ServerSideEncryptionConfiguration?.[0]?.ServerSideEncryptionByDefault
          ?.SSEAlgorithm,
        id,
      ).toBeTruthy();
      expect(b.Properties.PublicAccessBlockConfiguration, id).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      expect(b.Properties.OwnershipControls?.Rules, id).toEqual([{ ObjectOwnership: 'BucketOwnerEnforced' }]);
    }
  });

  it('all refuse requests without TLS', () => {
    for (const [id] of ofType('AWS::S3::Bucket')) {
      const policy = ofType('AWS::S3::BucketPolicy').find(([, p]) => p.Properties.Bucket.Ref === id);
      const denies = statementsOf(policy![1]).filter((s) => s.Effect === 'Deny');
      expect(
        denies.some((s) => s.Condition?.Bool?.['aws:SecureTransport'] === 'false'),
        id,
      ).toBe(true);
    }
  });

  it('keep versions of data objects, send events to EventBridge and log access', () => {
    const data = ofType('AWS::S3::Bucket').find(([, b]) => b.Properties.VersioningConfiguration)![1].Properties;
    expect(data.VersioningConfiguration.Status).toBe('Enabled');
    expect(data.NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled).toBe(true);
    expect(data.LoggingConfiguration.DestinationBucketName.Ref).toBeTruthy();
  });

  it('abort incomplete multipart uploads and expire old operation logs', () => {
    const data = ofType('AWS::S3::Bucket').find(([, b]) => b.Properties.VersioningConfiguration)![1].Properties;
    const rules: any[] = data.LifecycleConfiguration.Rules;
    expect(
      rules.find((r) => r.AbortIncompleteMultipartUpload && !r.Prefix)?.AbortIncompleteMultipartUpload
        .DaysAfterInitiation,
    ).toBeGreaterThan(0);
    expect(rules.find((r) => r.Prefix === 'operations/')?.ExpirationInDays).toBeGreaterThan(0);
  });
});

describe('uploads', () => {
  it('objects created under uploads/masters/ in the data bucket go to the function, with a dead-letter queue', () => {
    const rules = ofType('AWS::Events::Rule').map(([, r]) => r.Properties);
    const rule = rules.find((r) => r.EventPattern)!;
    expect(rules.filter((r) => r.EventPattern)).toHaveLength(1);
    expect(rule.EventPattern.source).toEqual(['aws.s3']);
    expect(rule.EventPattern['detail-type']).toEqual(['Object Created']);
    expect(rule.EventPattern.detail.object.key).toEqual([{ prefix: 'uploads/masters/' }]);
    expect(flatten(rule.Targets[0].Arn)).toMatch(/^<Functions\w+\.Arn>$/);
    expect(rule.Targets[0].DeadLetterConfig.Arn).toBeTruthy();
  });
});

describe('reconcile', () => {
  it('runs on a schedule, ending operations whose workflow is gone', () => {
    const rule = ofType('AWS::Events::Rule')
      .map(([, r]) => r.Properties)
      .find((r) => r.ScheduleExpression);
    expect(rule.ScheduleExpression).toBe('rate(5 minutes)');
    expect(flatten(rule.Targets[0].Arn)).toMatch(/^<Functions\w+\.Arn>$/);
  });
});

describe('the workflows', () => {
  const activityId = (site: string) =>
    logicalIdOf('AWS::StepFunctions::Activity', (a) => a.Name === `encompass-${site}-agent`);

  it('give each site exactly one activity, named after the site', () => {
    expect(
      ofType('AWS::StepFunctions::Activity')
        .map(([, a]) => a.Properties.Name)
        .sort(),
    ).toEqual(sites.map((s) => `encompass-${s}-agent`).sort());
  });

  it.each(sites.flatMap((site) => workflows.map((wf) => [site, wf] as const)))(
    '%s %s: named for the functions, every placeholder filled',
    (site, wf) => {
      const machine = ofType('AWS::StepFunctions::StateMachine').find(
        ([, m]) => m.Properties.StateMachineName === `encompass-${site}-${wf}`,
      );
      expect(machine).toBeDefined();
      const definition = flatten(machine![1].Properties.DefinitionString);
      expect(definition).not.toContain('${');
      expect(machine![1].Properties.DefinitionSubstitutions).toBeUndefined();
      // Every Task state, those inside a Map's item processor included.
      const tasksOf = (states: Record<string, any>): any[] =>
        Object.values(states).flatMap((s) =>
          s.Type === 'Task' ? [s] : s.Type === 'Map' ? tasksOf((s.ItemProcessor ?? s.Iterator).States) : [],
        );
      const tasks = tasksOf(JSON.parse(definition).States);
      expect(tasks.length).toBeGreaterThan(0);
      for (const task of tasks)
        expect([
          `<${activityId(site)}>`,
          `arn:<AWS::Partition>:lambda:<AWS::Region>:<AWS::AccountId>:function:${FUNCTION_NAME}`,
        ]).toContain(task.Resource);
      // A deployment only sequences operations; each of those runs the agent in its own workflow.
      expect(tasks.some((t) => t.Resource === `<${activityId(site)}>`)).toBe(wf !== 'deployment');
    },
  );

  it('log every event but no execution data (inputs carry machine credentials), and are traced', () => {
    for (const [id, m] of ofType('AWS::StepFunctions::StateMachine')) {
      expect(m.Properties.LoggingConfiguration.Level, id).toBe('ALL');
      expect(m.Properties.LoggingConfiguration.IncludeExecutionData, id).toBe(false);
      expect(m.Properties.TracingConfiguration.Enabled, id).toBe(true);
    }
  });

  it('raise an alarm on failed executions of every state machine', () => {
    const alarms = ofType('AWS::CloudWatch::Alarm')
      .map(([, a]) => a.Properties)
      .filter((a) => a.MetricName === 'ExecutionsFailed');
    const watched = alarms.map((a) => a.Dimensions.find((d: any) => d.Name === 'StateMachineArn').Value.Ref).sort();
    expect(watched).toEqual(
      ofType('AWS::StepFunctions::StateMachine')
        .map(([id]) => id)
        .sort(),
    );
    for (const a of alarms) expect(a.AlarmActions).toHaveLength(1);
  });
});

describe('the function', () => {
  it('gets the table, the bucket, its own ARN, the state machine role and the account in its environment', () => {
    const fn = only('AWS::Lambda::Function');
    const env = fn.Environment.Variables;
    expect(fn.FunctionName).toBe(FUNCTION_NAME);
    expect(env.ENCOMPASS_TABLE.Ref).toBe(logicalIdOf('AWS::DynamoDB::Table', () => true));
    expect(env.ENCOMPASS_BUCKET.Ref).toMatch(/^DataBucket/);
    expect(flatten(env.ENCOMPASS_STEPS_FUNCTION_ARN)).toBe(
      `arn:<AWS::Partition>:lambda:<AWS::Region>:<AWS::AccountId>:function:${FUNCTION_NAME}`,
    );
    expect(flatten(env.ENCOMPASS_STATEMACHINE_ROLE_ARN)).toMatch(/^<StateMachineRole\w+\.Arn>$/);
    expect(env.ENCOMPASS_ACCOUNT_ID).toEqual({ Ref: 'AWS::AccountId' });
    expect(env.ENCOMPASS_SECRETS_PREFIX).toBe(SECRETS_PREFIX);
  });

  it('is granted every AWS call the functions make', () => {
    const fnRole = only('AWS::Lambda::Function').Role['Fn::GetAtt'][0];
    const granted = new Set(
      policiesOfRole(fnRole).flatMap(([, p]) => statementsOf(p).flatMap((s) => asList<string>(s.Action))),
    );
    for (const command of sdkCommandsUsedBy(join(import.meta.dirname, '../../../functions'))) {
      const needs = actionsFor[command];
      expect(
        needs,
        `${command} is sent by the functions: grant its IAM action in infra/aws/functions.ts, then map it here`,
      ).toBeDefined();
      for (const action of needs!) expect(granted.has(action), `${command} needs ${action}`).toBe(true);
    }
  });

  it('may pass the state machine role to Step Functions only', () => {
    const passes = ofType('AWS::IAM::Policy')
      .flatMap(([, p]) => statementsOf(p))
      .filter((s) => asList(s.Action).includes('iam:PassRole'));
    expect(passes).toHaveLength(1);
    expect(flatten(passes[0].Resource)).toMatch(/^<StateMachineRole\w+\.Arn>$/);
    expect(passes[0].Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'states.amazonaws.com' } });
  });
});

describe('the agent roles', () => {
  const agentRoles = () => ofType('AWS::IAM::Role').filter(([id]) => id.startsWith('Agent'));

  it('exist once per site, and nothing in the stack may assume them but the account', () => {
    expect(agentRoles()).toHaveLength(sites.length);
    for (const [, role] of agentRoles()) {
      const [trust] = role.Properties.AssumeRolePolicyDocument.Statement;
      expect(flatten(trust.Principal.AWS)).toBe('arn:<AWS::Partition>:iam::<AWS::AccountId>:root');
    }
    const assumes = ofType('AWS::IAM::Policy')
      .flatMap(([, p]) => statementsOf(p))
      .filter((s) => asList<string>(s.Action).some((a) => a.startsWith('sts:')));
    expect(assumes).toEqual([]);
  });

  it.each(sites)('%s: no wildcard action; "*" only for the task-token actions IAM cannot scope', (site) => {
    const [roleId] = agentRoles().find(([, r]) => r.Properties.Description.includes(`site ${site}:`))!;
    const statements = policiesOfRole(roleId).flatMap(([, p]) => statementsOf(p));
    for (const s of statements) {
      for (const action of asList<string>(s.Action)) expect(action).not.toContain('*');
      if (s.Resource === '*') expect(asList(s.Action).sort()).toEqual([...TASK_TOKEN_ACTIONS].sort());
    }
    const take = statements.find((s) => s.Action === 'states:GetActivityTask');
    // Its site's activity, and the activities of its hosts (`encompass-<site>.<host>-agent`), no other site's.
    expect(take.Resource[0].Ref).toBe(
      logicalIdOf('AWS::StepFunctions::Activity', (a) => a.Name === `encompass-${site}-agent`),
    );
    expect(flatten(take.Resource[1])).toBe(
      `arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:activity:encompass-${site}.*-agent`,
    );
    const objects = statements.filter((s) =>
      asList<string>(s.Action).some((a) => a.startsWith('s3:') && a !== 's3:ListBucket'),
    );
    for (const s of objects)
      expect(flatten(s.Resource)).toMatch(new RegExp(`^<DataBucket\\w+\\.Arn>/sites/${site}/\\*$`));
    const list = statements.find((s) => s.Action === 's3:ListBucket');
    expect(list.Condition).toEqual({ StringLike: { 's3:prefix': [`sites/${site}/*`] } });
  });
});

describe('machine credentials in Secrets Manager', () => {
  const secretArnPattern = (namePrefix: string) =>
    `arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${namePrefix}*`;
  const secretStatements = (roleId: string) =>
    policiesOfRole(roleId)
      .flatMap(([, p]) => statementsOf(p))
      .filter((s) => asList<string>(s.Action).some((a) => a.startsWith('secretsmanager:')));
  const agentRoleOf = (site: string) =>
    ofType('AWS::IAM::Role').find(
      ([id, r]) => id.startsWith('Agent') && r.Properties.Description.includes(`site ${site}:`),
    )![0];
  /** A concrete secret ARN as AWS makes it: the name, "-" and six random characters. */
  const arnOf = (name: string) => `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${name}-AbC123`;

  it('may be written and deleted by the functions under encompass/ only, and never read by them', () => {
    const fnRole = only('AWS::Lambda::Function').Role['Fn::GetAtt'][0];
    const statements = secretStatements(fnRole);
    expect(statements).toHaveLength(1);
    expect(asList<string>(statements[0].Action).sort()).toEqual([...SECRET_WRITE_ACTIONS].sort());
    expect(flatten(statements[0].Resource)).toBe(secretArnPattern(SECRETS_PREFIX));
    expect(statements[0].Effect).toBe('Allow');
  });

  it.each(sites)('%s: may be read by its agent, only GetSecretValue, only under encompass/<site>/', (site) => {
    const statements = secretStatements(agentRoleOf(site));
    expect(statements).toHaveLength(1);
    expect(statements[0].Action).toBe(SECRET_READ_ACTIONS[0]);
    expect(SECRET_READ_ACTIONS).toEqual(['secretsmanager:GetSecretValue']);
    expect(flatten(statements[0].Resource)).toBe(secretArnPattern(siteSecretsPrefix(site)));
  });

  it.each(sites.flatMap((a) => sites.filter((b) => b !== a).map((b) => [a, b] as const)))(
    "%s's agent cannot read a secret of %s, and can read its own (resource ARNs matched as IAM does)",
    (site, other) => {
      const grants = policiesOfRole(agentRoleOf(site))
        .flatMap(([, p]) => statementsOf(p))
        .filter((s) => s.Effect === 'Allow' && asList<string>(s.Action).includes('secretsmanager:GetSecretValue'))
        .flatMap((s) => asList(s.Resource).map(flatten));
      const matches = (arn: string) => grants.some((pattern) => iamMatches(pattern, arn));
      expect(matches(arnOf(secretName({ site, id: 'machines/blade-1/bmc' })))).toBe(true);
      expect(matches(arnOf(secretName({ site: other, id: 'machines/blade-1/bmc' })))).toBe(false);
      expect(matches(arnOf(`${SECRETS_PREFIX}${site}-x/bmc`))).toBe(false);
      expect(matches(arnOf(`other/${site}/bmc`))).toBe(false);
    },
  );

  it('are read by no role of the stack but the agent roles', () => {
    const readers = ofType('AWS::IAM::Policy')
      .filter(([, p]) =>
        statementsOf(p).some((s) => asList<string>(s.Action).includes('secretsmanager:GetSecretValue')),
      )
      .flatMap(([, p]) => asList<any>(p.Properties.Roles).map((r) => r.Ref));
    expect(readers.sort()).toEqual(sites.map(agentRoleOf).sort());
  });

  it('are granted for every Secrets Manager call the agent makes', () => {
    const granted = new Set(
      sites.flatMap((site) => secretStatements(agentRoleOf(site)).flatMap((s) => asList<string>(s.Action))),
    );
    const agentDir = join(import.meta.dirname, '../../../edge-agent');
    for (const command of sdkCommandsUsedBy(agentDir, '@aws-sdk/client-secrets-manager')) {
      const needs = actionsFor[command];
      expect(needs, `${command} is sent by the agent: map it here, grant it in infra/aws/agent-role.ts`).toBeDefined();
      for (const action of needs!) expect(granted.has(action), `${command} needs ${action}`).toBe(true);
    }
    expect(granted).toEqual(new Set(SECRET_READ_ACTIONS));
  });
});

describe('the stack', () => {
  it('has no IAM policy with a wildcard action', () => {
    for (const [id, p] of ofType('AWS::IAM::Policy'))
      for (const s of statementsOf(p))
        for (const action of asList<string>(s.Action)) expect(action, id).not.toContain('*');
  });

  it('has no finding of cdk-nag AwsSolutions that is not acknowledged with a reason', () => {
    const findings = [
      ...annotations.findError('*', Match.stringLikeRegexp('AwsSolutions-.*')),
      ...annotations.findWarning('*', Match.stringLikeRegexp('AwsSolutions-.*')),
    ].map((m) => `${m.id}: ${String(m.entry.data).split(':')[0]}`);
    expect(findings).toEqual([]);
  });

  it('outputs the API URL, the table, the bucket, and per site the activity and the agent role', () => {
    const outputs = Object.keys(template.toJSON().Outputs);
    expect(outputs).toEqual(
      expect.arrayContaining([
        'ApiUrl',
        'TableName',
        'BucketName',
        'ActivityArnMain',
        'AgentRoleArnMain',
        'ActivityArnLab2',
        'AgentRoleArnLab2',
      ]),
    );
  });
});

/** IAM actions each AWS SDK command needs (the Document client's commands included). */
const actionsFor: Record<string, string[]> = {
  GetCommand: ['dynamodb:GetItem'],
  QueryCommand: ['dynamodb:Query'],
  TransactWriteCommand: [
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:DeleteItem',
    'dynamodb:ConditionCheckItem',
  ],
  GetObjectCommand: ['s3:GetObject'],
  PutObjectCommand: ['s3:PutObject'],
  DeleteObjectCommand: ['s3:DeleteObject'],
  CreateMultipartUploadCommand: ['s3:PutObject'],
  UploadPartCommand: ['s3:PutObject'],
  CompleteMultipartUploadCommand: ['s3:PutObject'],
  AbortMultipartUploadCommand: ['s3:AbortMultipartUpload'],
  CreateActivityCommand: ['states:CreateActivity'],
  DeleteActivityCommand: ['states:DeleteActivity'],
  DeleteStateMachineCommand: ['states:DeleteStateMachine'],
  CreateStateMachineCommand: ['states:CreateStateMachine', 'iam:PassRole'],
  UpdateStateMachineCommand: ['states:UpdateStateMachine'],
  StartExecutionCommand: ['states:StartExecution'],
  DescribeExecutionCommand: ['states:DescribeExecution'],
  ListStateMachinesCommand: ['states:ListStateMachines'],
  CreateSecretCommand: ['secretsmanager:CreateSecret'],
  PutSecretValueCommand: ['secretsmanager:PutSecretValue'],
  DescribeSecretCommand: ['secretsmanager:DescribeSecret'],
  DeleteSecretCommand: ['secretsmanager:DeleteSecret'],
  GetSecretValueCommand: ['secretsmanager:GetSecretValue'],
};

/** The SDK commands the `.ts` files under `dir` send (only those of files importing `fromPackage`, if given). */
function sdkCommandsUsedBy(dir: string, fromPackage?: string): Set<string> {
  const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
  const sources = files.map((f) => readFileSync(join(dir, f), 'utf8'));
  const source = sources.filter((text) => !fromPackage || text.includes(`'${fromPackage}'`)).join('\n');
  return new Set([...source.matchAll(/new (\w+Command)\(/g)].map((m) => m[1]!));
}

/** IAM's ARN matching: `*` is any run of characters, `?` one character, everything else itself. */
function iamMatches(pattern: string, arn: string): boolean {
  const concrete = pattern
    .replace('<AWS::Partition>', 'aws')
    .replace('<AWS::Region>', 'eu-west-1')
    .replace('<AWS::AccountId>', '123456789012');
  const regex = concrete
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${regex}$`).test(arn);
}
