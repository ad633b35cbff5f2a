/** An operation's steps move forward only: a late progress report opens no step it already ended. */
import { describe, expect, it } from 'vitest';
import { enterStep } from '../../../functions/store/operations';
import type { Operation } from '../../../functions/store/records';

const op = (steps: Operation['steps']) => ({ steps }) as Operation;

describe('operation steps', () => {
  it('end the running step and open the next', () => {
    const steps = enterStep(op([{ name: 'copy', status: 'running', startedAt: 't0' }]), 'verify', 't1');
    expect(steps.map((s) => [s.name, s.status])).toEqual([
      ['copy', 'succeeded'],
      ['verify', 'running'],
    ]);
  });

  it('keep the running step when it is named again, and take its message', () => {
    const steps = enterStep(op([{ name: 'copy', status: 'running', startedAt: 't0' }]), 'copy', 't1', '50%');
    expect(steps).toEqual([{ name: 'copy', status: 'running', startedAt: 't0', message: '50%' }]);
  });

  it('ignore a report of a step that already ended (it arrived after the next began)', () => {
    const before: Operation['steps'] = [
      { name: 'verify', status: 'succeeded', startedAt: 't0', endedAt: 't1' },
      { name: 'release', status: 'running', startedAt: 't1' },
    ];
    expect(enterStep(op(before), 'verify', 't2')).toEqual(before);
  });
});
