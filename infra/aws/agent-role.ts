/**
 * The IAM role of one site's edge agent: it may take tasks from its own activity, answer them,
 * use its own prefix `sites/<site>/` in the bucket, and read the values of its own site's secrets
 * `encompass/<site>/*` (machine credentials it resolves when it acts); nothing else (uploaded
 * masters reach the agent through presigned URLs the functions hand out). API tokens never turn into AWS
 * credentials: the role trusts the account (an administrator decides who may assume it) or, with
 * a Roles Anywhere trust anchor, only certificates issued to `encompass-<site>-agent`.
 */
import { ArnFormat, Aws, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import { activityName } from '../../statemachines/names';
import { siteSecretsPrefix } from '../../statemachines/secrets';
import { SECRET_READ_ACTIONS, secretsArn } from './secrets';

export interface AgentRoleProps {
  site: string;
  activity: sfn.IActivity;
  bucket: s3.IBucket;
  /** IAM Roles Anywhere trust anchor the agent's certificate comes from; the account otherwise. */
  trustAnchorArn?: string;
}

/** The prefix of the bucket that belongs to a site's agent. */
export const agentPrefix = (site: string) => `sites/${site}/`;

/**
 * The task-token actions. The Service Authorization Reference for Step Functions lists no resource
 * type for SendTaskSuccess, SendTaskFailure or SendTaskHeartbeat, so IAM only accepts "*" for them.
 * A token is a secret the agent gets only from GetActivityTask, which is limited to its own activity.
 */
export const TASK_TOKEN_ACTIONS = ['states:SendTaskSuccess', 'states:SendTaskFailure', 'states:SendTaskHeartbeat'];

function trust(site: string, anchor?: string): iam.IPrincipal {
  if (!anchor) return new iam.AccountPrincipal(Aws.ACCOUNT_ID);
  return new iam.ServicePrincipal('rolesanywhere.amazonaws.com', {
    conditions: {
      ArnEquals: { 'aws:SourceArn': anchor },
      StringEquals: { 'aws:PrincipalTag/x509Subject/CN': activityName(site) },
    },
  }).withSessionTags();
}

export class AgentRole extends Construct {
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: AgentRoleProps) {
    super(scope, id);
    const { site, bucket } = props;
    const prefix = agentPrefix(site);
    const principal = trust(site, props.trustAnchorArn);
    this.role = new iam.Role(this, 'Role', {
      assumedBy: principal,
      description: `ENCOMPASS edge agent of site ${site}: its activity, its prefix in the bucket and its secrets`,
    });
    if (props.trustAnchorArn) {
      // Roles Anywhere also sets the source identity of the session.
      this.role.assumeRolePolicy?.addStatements(
        new iam.PolicyStatement({ actions: ['sts:SetSourceIdentity'], principals: [principal] }),
      );
    }
    const statements = [
      new iam.PolicyStatement({
        sid: 'TakeTasks',
        actions: ['states:GetActivityTask'],
        // Its site's activity, and its hosts' (created by the functions when an agent first reports).
        resources: [
          props.activity.activityArn,
          Stack.of(this).formatArn({
            service: 'states',
            resource: 'activity',
            resourceName: activityName(`${site}.*`),
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
      new iam.PolicyStatement({ sid: 'AnswerTasks', actions: TASK_TOKEN_ACTIONS, resources: ['*'] }),
      new iam.PolicyStatement({
        sid: 'ListOwnPrefix',
        actions: ['s3:ListBucket'],
        resources: [bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${prefix}*`] } },
      }),
      new iam.PolicyStatement({
        sid: 'UseOwnPrefix',
        actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'],
        resources: [bucket.arnForObjects(`${prefix}*`)],
      }),
      new iam.PolicyStatement({
        sid: 'ReadOwnSecrets',
        actions: SECRET_READ_ACTIONS,
        resources: [secretsArn(Stack.of(this), siteSecretsPrefix(site))],
      }),
    ];
    const policy = new iam.Policy(this, 'Policy', { statements });
    this.role.attachInlinePolicy(policy);
    NagSuppressions.addResourceSuppressions(policy, [
      {
        id: 'AwsSolutions-IAM5',
        reason:
          'SendTaskSuccess/Failure/Heartbeat support no resource-level permissions (Service Authorization Reference: no ' +
          'resource type), so IAM needs "*"; task tokens come only from GetActivityTask on this site\'s activity. The object ' +
          `wildcard stays inside the site's own prefix ${prefix}, the secret wildcard inside its own secrets ` +
          `${siteSecretsPrefix(site)} (names of machine credentials are made at runtime; the ARN ends in a random suffix). ` +
          `The activity wildcard covers this site's hosts' activities (${activityName(`${site}.<host>`)}), which the functions make when an agent of a new host first reports.`,
        appliesTo: [
          'Resource::*',
          `Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:activity:${activityName(`${site}.*`)}`,
          { regex: `/^Resource::<.*Bucket[0-9A-F]*\\.Arn>\\/sites\\/${site.replace(/\./g, '\\.')}\\/\\*$/` },
          `Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${siteSecretsPrefix(site)}*`,
        ],
      },
    ]);
  }
}
