/**
 * What the last check of each repository found: one record per repository with its orphans (image
 * files no record names), the records whose image is missing, and the stray output it removed. An
 * orphan being removed or adopted holds a lock item, so two requests never act on one file at once.
 */
import type { StoredImage } from '../../statemachines/tasks';
import { type Db, type Item, type Key, recordKey, type Write } from './db';
import { stripKeys } from './resources';

/** A record whose image the check did not find. */
export interface MissingImage {
  kind: 'master' | 'clone';
  id: string;
  name: string;
  path: string;
}

export interface RepositoryCheck {
  /** The repository's id. */
  id: string;
  operation: string;
  checkedAt: string;
  orphans: StoredImage[];
  /** More orphans were found than the check could report. */
  truncated: boolean;
  missing: MissingImage[];
  /** Stray output removed: temp files, partials and sidecars nothing claimed. */
  removed: string[];
}

const lockKey = (repository: string, path: string): Key => ({ pk: `orphan-lock#${repository}#${path}`, sk: 'lock' });

export class RepositoryChecks {
  constructor(private readonly db: Db) {}

  async get(repository: string): Promise<RepositoryCheck | undefined> {
    const item = await this.db.get<Item>(recordKey('repository-check', repository));
    return item ? stripKeys<RepositoryCheck>(item) : undefined;
  }

  saveWrite(check: RepositoryCheck): Write {
    return this.db.put({ ...check, ...recordKey('repository-check', check.id) });
  }

  deleteWrite(repository: string): Write {
    return this.db.delete(recordKey('repository-check', repository));
  }

  /** The last check without the orphan at `path`, which is gone or has a record now (undefined: nothing to write). */
  async withoutOrphanWrite(repository: string, path: string): Promise<Write | undefined> {
    const check = await this.get(repository);
    if (!check?.orphans.some((o) => o.path === path)) return undefined;
    return this.saveWrite({ ...check, orphans: check.orphans.filter((o) => o.path !== path) });
  }

  /** Holds the orphan at `path` for `operation`; fails the transaction (at its position) while another holds it. */
  lockWrite(repository: string, path: string, operation: string): Write {
    return this.db.putNew({ ...lockKey(repository, path), operation });
  }

  async lockHolder(repository: string, path: string): Promise<string | undefined> {
    return (await this.db.get<{ operation: string }>(lockKey(repository, path)))?.operation;
  }

  unlockWrite(repository: string, path: string): Write {
    return this.db.delete(lockKey(repository, path));
  }
}
