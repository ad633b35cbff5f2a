/** How the error that stopped a workflow becomes the operation's error. */
import { describe, expect, it } from 'vitest';
import { userError } from '../../../functions/operations/failures';

describe('userError', () => {
  it("keeps an agent's code and message", () => {
    const cause = JSON.stringify({ code: 'disk_full', message: 'repository /srv is full' });
    expect(userError({ Error: 'disk_full', Cause: cause }, 'lab')).toEqual({
      code: 'disk_full',
      message: 'repository /srv is full',
    });
  });

  it("reads a failed Lambda step's errorMessage instead of showing its JSON", () => {
    const cause = JSON.stringify({ errorType: 'StaleRecordError', errorMessage: 'clone cl-1 changed', trace: [] });
    expect(userError({ Error: 'StaleRecordError', Cause: cause }, 'lab')).toEqual({
      code: 'stalerecorderror',
      message: 'clone cl-1 changed',
    });
  });

  it('names a lost agent and a timeout', () => {
    expect(userError({ Error: 'States.HeartbeatTimeout' }, 'lab')).toMatchObject({ code: 'agent_lost' });
    expect(userError({ Error: 'States.Timeout' }, 'lab').code).toBe('timeout');
  });

  it('says whether a lost agent went silent or restarted while the operation ran', () => {
    const since = '2026-01-01T10:00:00.000Z';
    const silent = userError({ Error: 'States.HeartbeatTimeout' }, 'lab', {
      since,
      agentStartedAt: '2026-01-01T09:00:00.000Z',
    });
    expect(silent).toMatchObject({ code: 'agent_lost', reason: 'agent_lost' });
    const restarted = userError({ Error: 'States.HeartbeatTimeout' }, 'lab', {
      since,
      agentStartedAt: '2026-01-01T10:00:05.000Z',
    });
    expect(restarted).toMatchObject({ code: 'agent_lost', reason: 'agent_restarted' });
    expect(restarted.message).toContain('restarted');
  });

  it("keeps the reason an agent's failure gives, and drops one it does not know", () => {
    const cut = JSON.stringify({ code: 'interrupted', message: 'cut short 3 times', reason: 'agent_restarted' });
    expect(userError({ Error: 'interrupted', Cause: cut }, 'lab')).toEqual({
      code: 'interrupted',
      message: 'cut short 3 times',
      reason: 'agent_restarted',
    });
    const odd = JSON.stringify({ code: 'disk_full', message: 'full', reason: 'a free-text reason' });
    expect(userError({ Error: 'disk_full', Cause: odd }, 'lab')).toEqual({ code: 'disk_full', message: 'full' });
  });

  it('keeps a plain-text cause as the message', () => {
    expect(userError({ Error: 'States.TaskFailed', Cause: 'boom' }, 'lab')).toEqual({
      code: 'taskfailed',
      message: 'boom',
    });
  });
});
