/** What claims an image while work is in hand: a relocation claims both places of its image until it ends. */
import { describe, expect, it } from 'vitest';
import { claimant, claimsOf } from '../../../functions/actions/claims';
import { Api } from '../../support/api';
import { makeRepository, unique } from '../../support/fixtures';
import { stackDeps } from '../../support/store';

const api = Api.admin();

describe('claims of a relocation', () => {
  it('keep the copy and the old image from being orphans while it runs, and only then', async () => {
    const deps = stackDeps();
    const [from, to] = [(await makeRepository(api)).repo, (await makeRepository(api)).repo];
    const path = `clones/${unique('moving')}.img`;
    const op = deps.operations.create(
      {
        kind: 'relocate',
        resource: { kind: 'clone', id: unique('cl'), name: 'moving' },
        site: 'local',
        actor: 'test',
        request: { from: { repository: from.id, path }, to: { repository: to.id, path } },
      },
      deps.now(),
      'relocate',
      (id) => `arn:aws:states:us-east-1:000000000000:execution:none:${id}`,
    );
    await deps.db.transact([deps.operations.newWrite(op)]);
    for (const repo of [from, to]) expect(claimant(await claimsOf(deps, repo), path)).toBe('an operation in hand');
    expect(claimant(await claimsOf(deps, to), 'clones/other.img')).toBeUndefined();

    await deps.operations.save({ ...op, status: 'failed', rev: op.rev + 1 });
    for (const repo of [from, to]) expect(claimant(await claimsOf(deps, repo), path)).toBeUndefined();
  });
});
