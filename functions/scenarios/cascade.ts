/**
 * A deployment with a `fanout`: its members placed on the tree (tree.ts), the tree kept on the
 * record, and what a dry run shows of it, with an estimate of the cloning's wall time.
 */
import type { Deps } from '../deps';
import type { CloneTree, DeploymentMember, Machine, Master, Repository } from '../store/records';
import { type PlannedLeaf, planTree } from './tree';

/**
 * One generation of n clones takes about a + b·n seconds: the straight line through the wall times
 * of flat deployments (every clone from the master; n = 1, 2, 4, 8, 16 sim members, one run each;
 * sparse clones of a 1 GiB master holding 128 MiB, each in its machine's host-local repository, all
 * on one ext4 disk; one agent with 4 slots per repository; load average 12-19 on 2 cores from other
 * work), measured by `npm run bench:cascade` at 2026-12-02T17:56Z (bench-results/cascade.json;
 * r² 0.81, so a rough guide). The member chain (assign, attach, activate) is in `a` and `b`; another
 * disk, another master size, several agents or a quieter machine give other constants.
 */
export const GENERATION_FIT = {
  a: 7.82,
  b: 2.21,
  measured: 'bench:cascade 2026-12-02T17:56Z, flat runs n = 1-16, one agent, r² 0.81',
};

/** The estimate of a tree's wall time: one fitted generation after the other. */
export function estimate(generations: number[]) {
  const perGeneration = generations.map((n) => GENERATION_FIT.a + GENERATION_FIT.b * n);
  return {
    seconds: Number(perGeneration.reduce((s, t) => s + t, 0).toFixed(1)),
    perGeneration: perGeneration.map((t) => Number(t.toFixed(1))),
    model: `t = ${GENERATION_FIT.a} + ${GENERATION_FIT.b}·n s per generation of n copies, generations one after the other`,
    measured: GENERATION_FIT.measured,
  };
}

export interface Cascade {
  tree: CloneTree;
  members: DeploymentMember[];
  leaves: PlannedLeaf[];
  generations: number[];
}

/** Places the members on a tree of `fanout` over the site's repositories. */
export async function cascade(
  deps: Deps,
  a: {
    id: string;
    fanout: number;
    method: string;
    master: Master;
    masterRepo: Repository;
    /** The repository the request names, if it does. */
    repository?: Repository;
    machines: Machine[];
    members: DeploymentMember[];
  },
): Promise<Cascade> {
  const hosts = new Map(a.machines.map((m) => [m.id, m.host]));
  const repositories = (await deps.repositories.listAll()).filter((r) => r.site === a.masterRepo.site);
  const plan = planTree({
    deployment: a.id,
    site: a.masterRepo.site,
    fanout: a.fanout,
    method: a.method,
    masterName: a.master.name,
    masterRepo: a.masterRepo,
    repositories,
    repository: a.repository,
    members: a.members.map((m) => ({
      index: m.index,
      clone: m.clone,
      host: m.machine ? hosts.get(m.machine) : undefined,
    })),
  });
  const leaves = new Map(plan.leaves.map((l) => [l.index, l]));
  const members = a.members.map((m) => {
    const { source, repository, method, generation } = leaves.get(m.index)!;
    return { ...m, ...(source ? { source } : {}), repository, method, generation };
  });
  return {
    tree: { fanout: a.fanout, relays: plan.relays },
    members,
    leaves: plan.leaves,
    generations: plan.generations,
  };
}

/** What a dry run shows: every node with its parent, repository, method and generation, and the estimate. */
export async function treeView(deps: Deps, c: Cascade, master: Master, masterRepo: Repository) {
  const names = new Map((await deps.repositories.listAll()).map((r) => [r.id, r.name]));
  const repo = (id: string) => names.get(id) ?? id;
  const notes = new Map(c.leaves.map((l) => [l.index, l.note]));
  return {
    fanout: c.tree.fanout,
    generations: c.generations.map((copies, i) => ({ generation: i + 1, copies })),
    nodes: [
      { name: master.name, kind: 'master', generation: 0, repository: masterRepo.name },
      ...c.tree.relays.map((r) => ({
        name: r.name,
        kind: 'relay',
        generation: r.generation,
        parent: r.parent ?? master.name,
        repository: repo(r.repository),
        method: r.method,
      })),
      ...c.members.map((m) => ({
        name: m.clone,
        kind: 'member',
        index: m.index,
        machine: m.machineName,
        generation: m.generation,
        parent: m.source ?? master.name,
        repository: repo(m.repository!),
        method: m.method,
        ...(notes.get(m.index) ? { note: notes.get(m.index) } : {}),
      })),
    ],
    estimate: estimate(c.generations),
  };
}
