/** Deployment settings read from CDK context: sites, log retention, alarm address, trust anchor. */
import { describe, expect, it } from 'vitest';
import { settingsFromContext } from '../../../infra/aws/settings';

const from = (context: Record<string, unknown>) => settingsFromContext((key) => context[key]);

describe('settingsFromContext', () => {
  it('defaults to the one site "main" and no optional extras', () => {
    expect(from({})).toEqual({
      sites: ['main'],
      operationLogDays: 400,
      alarmEmail: undefined,
      agentTrustAnchorArn: undefined,
    });
  });

  it('reads sites as a comma list, a JSON list or an array', () => {
    expect(from({ sites: 'main, lab' }).sites).toEqual(['main', 'lab']);
    expect(from({ sites: '["main","lab"]' }).sites).toEqual(['main', 'lab']);
    expect(from({ sites: ['main', 'lab'] }).sites).toEqual(['main', 'lab']);
  });

  it.each([
    ['a name the API would refuse', 'main,../etc'],
    ['an empty list', '[]'],
    ['a name too long for Step Functions', 'x'.repeat(60)],
    ['a site twice', 'main,main'],
    ['two sites whose output names clash', 'lab-2,lab2'],
  ])('refuses %s with a typed error', (_, sites) => {
    expect(() => from({ sites })).toThrow(
      expect.objectContaining({ name: 'InvalidContextError', code: 'invalid_context', key: 'sites' }),
    );
  });

  it('accepts the longest site name that still fits every state machine name', () => {
    expect(from({ sites: 'x'.repeat(59) }).sites).toEqual(['x'.repeat(59)]);
  });

  it('reads the operation log retention, and refuses a non-number', () => {
    expect(from({ operationLogDays: '30' }).operationLogDays).toBe(30);
    expect(() => from({ operationLogDays: 'soon' })).toThrow(expect.objectContaining({ key: 'operationLogDays' }));
  });

  it('takes a Roles Anywhere trust anchor ARN and refuses anything else there', () => {
    const arn = 'arn:aws:rolesanywhere:eu-west-1:123456789012:trust-anchor/0a1b2c3d-4e5f-6789-abcd-ef0123456789';
    expect(from({ agentTrustAnchorArn: arn }).agentTrustAnchorArn).toBe(arn);
    expect(() => from({ agentTrustAnchorArn: 'arn:aws:iam::123456789012:role/x' })).toThrow(
      expect.objectContaining({ key: 'agentTrustAnchorArn' }),
    );
  });
});
