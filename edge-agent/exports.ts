/**
 * The exports this agent made (an image made reachable by a machine), kept on disk so that after a
 * restart, of the agent or of an iSCSI target that forgot its targets, they are made again.
 */
import { join } from 'node:path';
import type { Access, RepositoryRef } from './drivers/storage/interface';
import { readStateFile, writeStateFile } from './state-file';

export interface Export {
  repository: RepositoryRef;
  path: string;
  access: Access;
}

const keyOf = (e: Export) => `${e.repository.id}:${e.path}:${e.access.machine}`;

export class ExportBook {
  private chain: Promise<unknown> = Promise.resolve();
  constructor(private readonly dir: string) {}

  private get file() {
    return join(this.dir, 'exports.json');
  }

  async list(): Promise<Export[]> {
    return (await readStateFile<Export[]>(this.file)) ?? [];
  }

  /** Serialized read-modify-write, so concurrent tasks never lose each other's entries. */
  private update(change: (all: Export[]) => Export[]): Promise<void> {
    const next = this.chain.then(async () => {
      await writeStateFile(this.file, change(await this.list()));
    });
    this.chain = next.catch(() => undefined);
    return next;
  }

  add(e: Export): Promise<void> {
    return this.update((all) => [...all.filter((x) => keyOf(x) !== keyOf(e)), e]);
  }

  remove(e: Export): Promise<void> {
    return this.update((all) => all.filter((x) => keyOf(x) !== keyOf(e)));
  }
}
