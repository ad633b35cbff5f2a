/**
 * An operation whose commit switched its records and whose workflow then releases what they replaced
 * (a relocation's old image): it ends succeeded, saying whether the release ran, and a late retry of
 * its commit answers that it is switched without writing anything.
 */
import { describe, expect, it } from 'vitest';
import { commit, recordFailure, recordRelease } from '../../../functions/operations/end';
import type { Operation } from '../../../functions/store/records';
import { unique } from '../../support/fixtures';
import { stackDeps } from '../../support/store';

/** A relocation of a clone that has no record, whose commit switched it at `switchedAt`. */
async function switchedRelocation(): Promise<Operation> {
  const deps = stackDeps();
  const now = deps.now();
  const created = deps.operations.create(
    {
      kind: 'relocate',
      resource: { kind: 'clone', id: unique('cl'), name: 'moved' },
      site: 'local',
      actor: 'test',
      request: { from: { repository: 'rp-a', path: 'clones/c.img' }, to: { repository: 'rp-b', path: 'clones/c.img' } },
      transition: { event: 'relocate', to: {}, task: 'relocate' },
    },
    now,
    'release',
    (id) => `arn:aws:states:us-east-1:000000000000:execution:none:${id}`,
  );
  const op = { ...created, switchedAt: now, result: { clone: created.resource.id, from: created.request.from } };
  await deps.db.transact([deps.operations.newWrite(op)]);
  return op;
}

describe('a switched operation', () => {
  it('ends succeeded once the release ran', async () => {
    const op = await switchedRelocation();
    await recordRelease(stackDeps(), op.id, { removed: 'clones/c.img' });
    const ended = (await stackDeps().operations.get(op.id))!;
    expect(ended).toMatchObject({ status: 'succeeded', progress: 1, result: { ...op.result, released: true } });
    expect(ended.steps.every((s) => s.status === 'succeeded')).toBe(true);
  });

  it('ends succeeded when the release failed, naming what is left and what to do', async () => {
    const op = await switchedRelocation();
    await recordRelease(stackDeps(), op.id, { Error: 'States.HeartbeatTimeout' });
    const ended = (await stackDeps().operations.get(op.id))!;
    expect(ended.status).toBe('succeeded');
    expect(ended.result).toMatchObject({ released: false, releaseError: { code: 'agent_lost' } });
    expect((ended.result!.releaseError as { message: string }).message).toMatch(
      /^the image at its old place could not be removed \(.*\); no record names it now: check its repository and remove it as an orphan$/,
    );
  });

  it('is not failed by a failure recorded after the switch (a control plane restart): its outcome is in the records', async () => {
    const op = await switchedRelocation();
    const cause = JSON.stringify({ code: 'interrupted', message: 'the control plane restarted' });
    await recordFailure(stackDeps(), op.id, { Error: 'interrupted', Cause: cause });
    expect((await stackDeps().operations.get(op.id))!).toMatchObject({
      status: 'succeeded',
      result: { released: false, releaseError: { code: 'interrupted' } },
    });
  });

  it('answers a retried commit that it is switched, running or ended, and writes nothing', async () => {
    const op = await switchedRelocation();
    expect(await commit(stackDeps(), op.id, { anything: true })).toEqual({ operation: op.id, status: 'switched' });
    expect((await stackDeps().operations.get(op.id))!.rev).toBe(op.rev);
    await recordRelease(stackDeps(), op.id, { removed: 'clones/c.img' });
    expect(await commit(stackDeps(), op.id, {})).toEqual({ operation: op.id, status: 'switched' });
  });
});
