/**
 * reconfigure starts preparing a new master version from an operational clone; capture, the only
 * way out of maintenance, makes the clone a new master version. Lineage is kept: the new master
 * names its parent master and the clone it came from, in DynamoDB and in the catalog.
 */
import { z } from 'zod';
import { name } from '../domain/schemas';
import { NameTakenError } from '../errors';
import { newId } from '../store/ids';
import type { Master } from '../store/records';
import type { EventEntry } from './entry';
import { tableOnly } from './entry';

export const reconfigure: EventEntry<'reconfigure'> = tableOnly;

/** The master the capture makes: its name, version, id, and the version it follows. */
interface CapturePlan {
  name: string;
  version: number;
  previous?: string;
  master: string;
}

/** Where the master a capture makes is written in the clone's repository. */
export const captureTarget = (plan: { name: string; version: number }) => `masters/${plan.name}-v${plan.version}.img`;

const captureBody = z.object({ name: name.optional() }).strict();

export const capture: EventEntry<'capture', CapturePlan, z.infer<typeof captureBody>> = {
  body: captureBody,
  async accept({ deps, clone, image }, body) {
    const parent = await deps.masters.require(clone.master);
    const wanted = body.name ?? parent.name;
    const latest = await deps.masters.find(wanted);
    if (latest && wanted !== parent.name) throw new NameTakenError('master', wanted);
    const version = latest ? latest.version + 1 : 1;
    return {
      request: { name: wanted, version, previous: latest?.id, master: newId('master') },
      input: { image, target: captureTarget({ name: wanted, version }) },
    };
  },
  async commit({ deps, clone, request, now }, outcome) {
    const parent = (await deps.masters.get(clone.master))!;
    const master: Master = {
      id: request.master,
      name: request.name,
      version: request.version,
      rev: 1,
      createdAt: now,
      updatedAt: now,
      status: 'ready',
      repository: clone.repository,
      path: outcome.path,
      sizeBytes: outcome.sizeBytes,
      allocatedBytes: outcome.allocatedBytes,
      sha256: outcome.sha256,
      format: outcome.format,
      filesystem: outcome.filesystem ?? parent.filesystem,
      parent: parent.id,
      sourceClone: clone.id,
      profile: parent.profile,
      requirements: parent.requirements,
      customization: parent.customization,
    };
    await deps.catalog.putMaster(master);
    return {
      changes: { capturedAs: master.id },
      writes: request.previous
        ? deps.masters.nextVersionWrites(master, request.previous)
        : deps.masters.createWrites(master),
      result: { clone: clone.id, master: master.id, version: master.version },
    };
  },
};
