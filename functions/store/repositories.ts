/**
 * Repository records and their `status`, whose every change is made here: a check's accept, its
 * success and its failure each return the record to save, so nothing else writes the status.
 *
 *   create ──▶ checking ──(check succeeds)──▶ ready
 *                 │ ▲                          │
 *   (check fails) ▼ │ (check again)            │ (check fails)
 *              unreachable ◀───────────────────┘
 *
 * Only the check in hand (`operation`) moves the status: an older one that ends later changes nothing.
 * A check of a `ready` repository keeps it `ready` while it runs, so checking one in use stops no work.
 */
import type { RepositoryRoot } from '../../statemachines/tasks';
import { RepositoryNotReadyError } from '../errors';
import type { Item } from './db';
import type { Repository } from './records';
import { Resources, revise, stripKeys } from './resources';

type Reason = NonNullable<Repository['reason']>;

export class Repositories extends Resources<Repository> {
  /** Records written before repositories had a status were usable: they read as `ready`. */
  protected override read(item: Item): Repository {
    const r = stripKeys<Repository>(item);
    return r.status ? r : { ...r, status: 'ready' };
  }

  /**
   * The repository (a reference, or a record read already), if work may use it now; else
   * RepositoryNotReadyError (409) naming `use` (e.g. "an import").
   */
  async requireReady(ref: string | Repository, use: string): Promise<Repository> {
    const r = typeof ref === 'string' ? await this.require(ref) : ref;
    if (r.status === 'ready') return r;
    throw new RepositoryNotReadyError(r.name, r.status, use, r.reason?.message);
  }
}

const without = ({ reason: _, ...r }: Repository): Repository => r;

/** A new repository, waiting for its first check (`operation`), or for an agent to check it (`reason`). */
export function newRepository(r: Repository, check: { operation: string } | { reason: Reason }): Repository {
  return { ...r, status: 'checking', ...check };
}

/** `r` as a check `operation` accepted now leaves it: a ready one stays ready. */
export function checkStarted(r: Repository, operation: string, now: string): Repository {
  return revise(without(r), { status: r.status === 'ready' ? 'ready' : 'checking', operation }, now);
}

/** `r` once check `operation` reached it; undefined when a later check is in hand. */
export function checkSucceeded(
  r: Repository,
  operation: string,
  root: RepositoryRoot,
  now: string,
): Repository | undefined {
  if (r.operation !== operation) return undefined;
  return revise(without(r), { status: 'ready', root: { checkedAt: now, ...root } }, now);
}

/**
 * `r` once check `operation` failed with `error`; undefined when a later check is in hand, or when a
 * ready repository's check was only cut short (`error.reason`: the agent was lost or restarted).
 */
export function checkFailed(
  r: Repository,
  operation: string,
  error: { code: string; message: string; reason?: string },
  now: string,
): Repository | undefined {
  if (r.operation !== operation || (error.reason && r.status === 'ready')) return undefined;
  const again = `then check it again: POST /v1/repositories/${r.name}/check`;
  return revise(
    r,
    {
      status: 'unreachable',
      reason: { code: error.code, message: `${error.message}; ${again}`, operation, at: now },
    },
    now,
  );
}
