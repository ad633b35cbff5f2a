/** Who may become a site's agent in AWS: the account by default, or only that site's certificates. */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { afterAll, describe, expect, it } from 'vitest';
import { AgentRole } from '../../../infra/aws/agent-role';
import { tempDir } from './helpers';

const anchor = 'arn:aws:rolesanywhere:eu-west-1:123456789012:trust-anchor/0a1b2c3d-4e5f-6789-abcd-ef0123456789';

const outdirs: (() => void)[] = [];
afterAll(() => {
  for (const remove of outdirs) remove();
});

function trustOf(trustAnchorArn?: string): any[] {
  const out = tempDir('cdk-out');
  outdirs.push(out.remove);
  const stack = new Stack(new App({ outdir: out.path }), 'Test');
  const activity = new sfn.Activity(stack, 'Activity', { activityName: 'encompass-lab-agent' });
  new AgentRole(stack, 'Agent', { site: 'lab', activity, bucket: new s3.Bucket(stack, 'Bucket'), trustAnchorArn });
  const roles = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Role'));
  expect(roles).toHaveLength(1);
  return (roles[0] as any).Properties.AssumeRolePolicyDocument.Statement;
}

describe('AgentRole trust', () => {
  it('lets the account decide who assumes the role when there is no trust anchor', () => {
    const statements = trustOf();
    expect(statements).toHaveLength(1);
    expect(statements[0].Action).toBe('sts:AssumeRole');
    expect(statements[0].Principal.AWS).toBeDefined();
  });

  it("with a Roles Anywhere trust anchor, trusts only certificates from it issued to the site's agent", () => {
    const statements = trustOf(anchor);
    const actions = statements.flatMap((s) => [s.Action].flat());
    expect(actions.sort()).toEqual(['sts:AssumeRole', 'sts:SetSourceIdentity', 'sts:TagSession']);
    for (const s of statements) {
      expect(s.Principal).toEqual({ Service: 'rolesanywhere.amazonaws.com' });
      expect(s.Condition).toEqual({
        ArnEquals: { 'aws:SourceArn': anchor },
        StringEquals: { 'aws:PrincipalTag/x509Subject/CN': 'encompass-lab-agent' },
      });
    }
  });
});
