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

  it('keeps a plain-text cause as the message', () => {
    expect(userError({ Error: 'States.TaskFailed', Cause: 'boom' }, 'lab')).toEqual({
      code: 'taskfailed',
      message: 'boom',
    });
  });
});
