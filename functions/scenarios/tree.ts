/**
 * A deployment's clone plan as a tree (the paper's "cascading" cloning, section 5): the master copies
 * to a first generation of relays, each relay to the next generation, and the last relays (or the
 * master itself, when it may serve every member) to the members' clones.
 *
 * Glossary: a *node* is an image a copy is read from (the master, a relay); a *relay* is an inner
 * node, an uncustomized full copy of the master; a *leaf* is a member's clone. A node's *generation*
 * is its depth: the master 0, its copies 1, and so on; every leaf is in the last generation.
 *
 * Rules:
 * - A leaf goes to the repository its request names, else its machine's host-local repository (one
 *   whose `host` is the machine's), else a shared one (the master's when it is shared).
 * - Relays live in a shared repository (no `host`): every agent of the site reads it, while a
 *   host-local copy is read by its own host only. It is the master's repository when that is shared,
 *   else the request's when that is, else the first shared one by name: one place, predictable, whose
 *   limit and space the operator sets.
 * - A node never has more children than the fanout, nor than its repository's `limits.clonesPerSource`.
 * - The tree is as shallow as those caps allow, and children are spread evenly over their generation.
 * - Relays are full copies (`sparse`, or `copy` when asked): sharing blocks with the master would not
 *   take reads off it. A leaf in another repository than its source cannot share blocks with it
 *   either: a `reflink` or `overlay` asked for becomes `auto` there, and the plan says so.
 */
import type { Relay, Repository } from '../store/records';
import { NoSharedRepositoryError, TreeTooNarrowError } from './errors';

export interface TreeMember {
  index: number;
  clone: string;
  machineName?: string;
  /** The host of the member's machine, if it names one. */
  host?: string;
}

export interface TreeInput {
  deployment: string;
  site: string;
  fanout: number;
  method: string;
  masterName: string;
  masterRepo: Repository;
  /** The site's repositories. */
  repositories: Repository[];
  /** The repository the request names for every member. */
  repository?: Repository;
  members: TreeMember[];
}

export interface PlannedLeaf {
  index: number;
  /** The relay it is copied from; absent: the master. */
  source?: string;
  repository: string;
  method: string;
  generation: number;
  /** Why the method is not the one asked for. */
  note?: string;
}

export interface TreePlan {
  relays: Relay[];
  leaves: PlannedLeaf[];
  /** How many copies each generation makes, from generation 1 on. */
  generations: number[];
}

const SHARES_BLOCKS = new Set(['reflink', 'overlay']);

/** The most children a node in `repo` may have. */
const capOf = (repo: Repository, fanout: number) => Math.min(fanout, repo.limits?.clonesPerSource ?? fanout);

/** The site's shared repositories: the master's first when it is one of them, then the request's, then by name. */
function sharedOf(t: TreeInput): Repository[] {
  const shared = t.repositories
    .filter((r) => r.site === t.site && !r.host)
    .sort((a, b) => a.name.localeCompare(b.name));
  for (const first of [t.repository, t.masterRepo]) {
    const at = shared.findIndex((r) => r.id === first?.id);
    if (at > 0) shared.unshift(...shared.splice(at, 1));
  }
  return shared;
}

/** The repository closest to a member's machine. */
function leafRepository(t: TreeInput, m: TreeMember, shared: Repository[]): Repository {
  if (t.repository) return t.repository;
  const local = t.repositories
    .filter((r) => r.site === t.site && r.host !== undefined && r.host === m.host)
    .sort((a, b) => a.name.localeCompare(b.name))[0];
  const chosen = local ?? shared[0];
  if (!chosen) throw new NoSharedRepositoryError(t.site, t.members.length, t.fanout);
  return chosen;
}

/** The sizes of the relay generations (1 first) that bring the members within the master's cap. */
function relayGenerations(t: TreeInput, relayRepo: Repository | undefined): number[] {
  const master = capOf(t.masterRepo, t.fanout);
  const sizes: number[] = [];
  let below = t.members.length;
  if (below <= master) return sizes;
  if (!relayRepo) throw new NoSharedRepositoryError(t.site, t.members.length, t.fanout);
  const relay = capOf(relayRepo, t.fanout);
  if (relay < 2) throw new TreeTooNarrowError(relayRepo.name, relay);
  while (below > master) {
    below = Math.ceil(below / relay);
    sizes.unshift(below);
  }
  return sizes;
}

/** Child `i` of `count` children of `parents` nodes: contiguous blocks, no parent with more than ceil(count / parents). */
const parentOf = (i: number, count: number, parents: number) => Math.floor((i * parents) / count);

const relayName = (deployment: string, generation: number, i: number) => `${deployment}-r${generation}-${i + 1}`;

export function planTree(t: TreeInput): TreePlan {
  const shared = sharedOf(t);
  const sizes = relayGenerations(t, shared[0]);
  const relayMethod = t.method === 'copy' ? 'copy' : 'sparse';
  const relays: Relay[] = [];
  const repoOfRelay = new Map<string, string>();
  sizes.forEach((size, g) => {
    for (let i = 0; i < size; i++) {
      const repository = shared[0]!.id;
      const name = relayName(t.deployment, g + 1, i);
      const parent = g === 0 ? undefined : relayName(t.deployment, g, parentOf(i, size, sizes[g - 1]!));
      relays.push({
        name,
        generation: g + 1,
        ...(parent ? { parent } : {}),
        repository,
        method: relayMethod,
        attempts: 0,
      });
      repoOfRelay.set(name, repository);
    }
  });
  // Members of one repository sit side by side, so a relay feeds few repositories.
  const placed = t.members
    .map((m) => ({ m, repo: leafRepository(t, m, shared) }))
    .sort((a, b) => a.repo.name.localeCompare(b.repo.name) || a.m.index - b.m.index);
  const last = sizes.length;
  const leaves = placed.map(({ m, repo }, i): PlannedLeaf => {
    const source = last ? relayName(t.deployment, last, parentOf(i, placed.length, sizes[last - 1]!)) : undefined;
    const sourceRepo = source ? repoOfRelay.get(source)! : t.masterRepo.id;
    const note =
      sourceRepo !== repo.id && SHARES_BLOCKS.has(t.method)
        ? `${t.method} shares blocks with its source, so it stays within one repository; across repositories the copy is auto`
        : source && t.method === 'overlay'
          ? 'an overlay would read through its relay, which goes when the deployment ends; the copy is auto'
          : undefined;
    return {
      index: m.index,
      ...(source ? { source } : {}),
      repository: repo.id,
      method: note ? 'auto' : t.method,
      generation: last + 1,
      ...(note ? { note } : {}),
    };
  });
  leaves.sort((a, b) => a.index - b.index);
  return { relays, leaves, generations: [...sizes, t.members.length] };
}

/**
 * The order in which the deployment's workflow takes the members up: round robin over their
 * sources, so the members running at once wait on different relays and the generations overlap.
 */
export function interleaved(leaves: { index: number; source?: string }[]): number[] {
  const bySource = new Map<string, number[]>();
  for (const l of leaves) bySource.set(l.source ?? '', [...(bySource.get(l.source ?? '') ?? []), l.index]);
  const queues = [...bySource.values()];
  const out: number[] = [];
  for (let i = 0; out.length < leaves.length; i++) for (const q of queues) if (i < q.length) out.push(q[i]!);
  return out;
}
