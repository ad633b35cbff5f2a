/**
 * The end of a repository check, and of an orphan's removal. The check sets the repository's status
 * (store/repositories.ts): `ready`, or `unreachable` with the agent's reason. Its report replaces the last one:
 * its orphans compared once more with the records, since work may have ended while the agent looked.
 */
import { claimant, claimsOf } from '../actions/claims';
import { checkFailed, checkSucceeded } from '../store/repositories';
import type { OperationKind } from './kind';
import { outcomeOf } from './outcome';

export const checkKind: OperationKind = {
  async commit(deps, op, outcome, now) {
    const o = outcomeOf('check', outcome);
    const repository = op.request.repository as string;
    const repo = await deps.repositories.get(repository);
    const reached = repo && checkSucceeded(repo, op.id, o.root, now);
    const status = reached ? [deps.repositories.saveWrite(reached)] : [];
    // A first check looks at the root only: the orphan report of the last full check stays.
    if (op.request.scope === 'reach') return { writes: status, result: { repository, root: o.root } };
    // A repository deleted meanwhile keeps no report.
    const claims = repo ? await claimsOf(deps, repo) : { known: new Map(), pending: new Map() };
    const report = {
      id: repository,
      operation: op.id,
      checkedAt: now,
      orphans: o.orphans.filter((i) => !claimant(claims, i.path)),
      truncated: o.truncated,
      missing: o.missing.flatMap((p) => claims.known.get(p) ?? []),
      removed: o.removed,
    };
    const { id: _, ...result } = report;
    return {
      writes: repo ? [...status, deps.checks.saveWrite(report)] : [],
      result: { repository, root: o.root, ...result },
    };
  },
  /** The repository is unreachable, with the agent's reason (unless a later check is in hand). */
  async undo(deps, op, error, now) {
    const repo = await deps.repositories.get(op.request.repository as string);
    const failed = repo && checkFailed(repo, op.id, error, now);
    return failed ? [deps.repositories.saveWrite(failed)] : [];
  },
};

export const removeOrphanKind: OperationKind = {
  async commit(deps, op, outcome) {
    const o = outcomeOf('destroy', outcome);
    const repository = op.request.repository as string;
    const path = op.request.path as string;
    const dropped = await deps.checks.withoutOrphanWrite(repository, path);
    return {
      writes: [deps.checks.unlockWrite(repository, path), ...(dropped ? [dropped] : [])],
      result: { repository, removed: o.removed },
    };
  },
  async undo(deps, op) {
    return [deps.checks.unlockWrite(op.request.repository as string, op.request.path as string)];
  },
};
