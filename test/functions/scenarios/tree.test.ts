/** The tree planner on its own: shapes, placement and limits for many member counts, fanouts and limits. */
import { describe, expect, it } from 'vitest';
import { interleaved, planTree, type TreeInput } from '../../../functions/scenarios/tree';
import type { Repository } from '../../../functions/store/records';

const repo = (id: string, extra: Partial<Repository> = {}): Repository => ({
  id,
  name: id,
  rev: 1,
  createdAt: '',
  updatedAt: '',
  site: 'local',
  kind: 'file',
  path: `/${id}`,
  status: 'ready',
  ...extra,
});

function input(members: number, fanout: number, extra: Partial<TreeInput> = {}): TreeInput {
  const nas = repo('nas');
  return {
    deployment: 'dp-x',
    site: 'local',
    fanout,
    method: 'sparse',
    masterName: 'base',
    masterRepo: nas,
    repositories: [nas, repo('h1', { host: 'h1' }), repo('h2', { host: 'h2' }), repo('zz')],
    members: Array.from({ length: members }, (_, i) => ({
      index: i + 1,
      clone: `c${i + 1}`,
      host: ['h1', 'h2', undefined][i % 3],
    })),
    ...extra,
  };
}

/** Children per source: the master is ''. */
function children(plan: ReturnType<typeof planTree>) {
  const count = new Map<string, number>();
  for (const x of [...plan.relays.map((r) => r.parent), ...plan.leaves.map((l) => l.source)])
    count.set(x ?? '', (count.get(x ?? '') ?? 0) + 1);
  return count;
}

describe('planTree', () => {
  it('copies 64 members with fanout 4 through 4 and 16 relays, the paper’s cascade', () => {
    const plan = planTree(input(64, 4));
    expect(plan.generations).toEqual([4, 16, 64]);
    expect([...children(plan).values()].every((c) => c === 4)).toBe(true);
    expect(plan.leaves.every((l) => l.generation === 3)).toBe(true);
  });

  it('makes no relay when the master may serve every member', () => {
    const plan = planTree(input(16, 64));
    expect(plan.relays).toEqual([]);
    expect(plan.leaves.every((l) => l.source === undefined && l.generation === 1)).toBe(true);
  });

  it('never gives a node more children than the fanout or its repository’s limit, for any size', () => {
    for (const limit of [undefined, 2, 3, 7])
      for (const fanout of [2, 3, 4, 8, 64])
        for (const members of [1, 2, 5, 16, 17, 64, 100, 500]) {
          const masterRepo = repo('nas', limit ? { limits: { clonesPerSource: limit } } : {});
          const plan = planTree(
            input(members, fanout, { masterRepo, repositories: [masterRepo, repo('h1', { host: 'h1' })] }),
          );
          const cap = Math.min(fanout, limit ?? fanout);
          for (const c of children(plan).values()) expect(c).toBeLessThanOrEqual(cap);
          expect(plan.leaves).toHaveLength(members);
          expect(plan.generations.at(-1)).toBe(members);
          // As shallow as the cap allows.
          expect(plan.generations.length).toBe(Math.max(1, Math.ceil(Math.log(members) / Math.log(cap) - 1e-9)));
        }
  });

  it('puts relays in the master’s shared repository and each leaf in its machine’s host-local one, else the master’s', () => {
    const plan = planTree(input(9, 2));
    expect(new Set(plan.relays.map((r) => r.repository))).toEqual(new Set(['nas']));
    for (const l of plan.leaves) expect(l.repository).toBe(['h1', 'h2', 'nas'][(l.index - 1) % 3]);
  });

  it('puts every leaf in the repository a request names', () => {
    const plan = planTree(input(9, 2, { repository: repo('zz') }));
    expect(new Set(plan.leaves.map((l) => l.repository))).toEqual(new Set(['zz']));
  });

  it('copies across repositories with auto when a reflink is asked for, and says why', () => {
    const plan = planTree(input(3, 4, { method: 'reflink' }));
    for (const l of plan.leaves)
      if (l.repository === 'nas') expect(l).toMatchObject({ method: 'reflink' });
      else expect(l.note).toContain('across repositories');
    expect(plan.leaves.filter((l) => l.method === 'auto')).toHaveLength(2);
  });

  it('refuses a tree whose relays cannot fan out, or that has no shared repository for them', () => {
    const narrow = repo('nas', { limits: { clonesPerSource: 1 } });
    expect(() => planTree(input(3, 4, { masterRepo: narrow, repositories: [narrow] }))).toThrow(/clonesPerSource/);
    const local = repo('h1', { host: 'h1' });
    expect(() => planTree(input(8, 2, { masterRepo: local, repositories: [local] }))).toThrow(/shared repository/);
  });

  it('takes the members up round robin over their sources', () => {
    const plan = planTree(input(8, 2));
    const order = interleaved(plan.leaves);
    const sources = order.slice(0, 4).map((i) => plan.leaves.find((l) => l.index === i)!.source);
    expect(new Set(sources).size).toBe(4);
    expect([...order].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });
});
