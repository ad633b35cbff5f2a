/**
 * The ends of exports and imports. An import's plan step runs once its bundle is verified; its commit
 * writes every record of the plan in one transaction (masters, with their name and version entries,
 * clones, machines without credentials), so a failure leaves no record half-written. Nothing is
 * activated: a clone is at most `assigned`, to a rebinding target.
 */

import { type CloneObject, customizationDoc, type MasterObject } from '../../statemachines/bundle';
import type { BundleLocation, TaskOutcome } from '../../statemachines/tasks';
import type { Deps } from '../deps';
import { commit as commitOperation, recordFailure } from '../operations/end';
import type { OperationKind } from '../operations/kind';
import { outcomeOf } from '../operations/outcome';
import { nameKey, type Write } from '../store/db';
import type { Clone, Machine, Master } from '../store/records';
import { revise } from '../store/resources';
import { planImport } from './plan';
import { refusal } from './plan-shape';
import { exportsOf, type ImportRecord, importsOf } from './records';

/** The `transfer_plan` step: plans the verified bundle; `{copy}` is the bundle_copy input, `{ended}` when the plan ended the operation. */
export async function planStep(deps: Deps, id: string, bundle: BundleLocation, outcome: unknown) {
  const op = await deps.operations.get(id);
  if (op?.status !== 'running') return { ended: true };
  const o = outcomeOf('bundle_verify', outcome);
  const imports = importsOf(deps);
  const rec = (await imports.get(op.request.import as string))!;
  const plan = await planImport(deps, rec, o.manifest, o.documents);
  const m = o.manifest;
  const kept = Object.fromEntries(m.objects.filter((x) => x.kind !== 'metadata').map((x) => [x.id, x]));
  const machinesDoc = m.objects.find((x) => x.kind === 'metadata' && x.of === 'machines')?.path;
  const source = { export: m.export, exportedAt: m.exportedAt, site: m.site };
  await imports.save(
    revise(rec, { status: 'planned', plan, source, objects: kept, documents: o.documents, machinesDoc }, deps.now()),
  );
  const refused = refusal(plan);
  if (refused && !rec.dryRun) {
    await recordFailure(deps, id, { Error: refused.code, Cause: JSON.stringify(refused) });
    return { ended: true };
  }
  if (rec.dryRun || !plan.copy.images.length) {
    await commitOperation(deps, id, { images: [], seconds: 0 });
    return { ended: true };
  }
  return { copy: { bundle, partBytes: o.manifest.partBytes, images: plan.copy.images } };
}

type Copied = TaskOutcome<'bundle_copy'>['images'][number];

function masterWrites(deps: Deps, rec: ImportRecord, copied: Map<string, Copied>, now: string) {
  const writes: Write[] = [];
  const made: Master[] = [];
  const source = rec.source;
  for (const p of rec.plan!.masters.filter((m) => m.action === 'create')) {
    const c = copied.get(p.object)!;
    const o = objectOf(rec, p.object) as MasterObject;
    const m: Master = {
      id: p.id!,
      name: p.name,
      version: p.version,
      rev: 1,
      createdAt: now,
      updatedAt: now,
      status: 'ready',
      repository: p.repository!,
      path: p.path!,
      sizeBytes: c.sizeBytes,
      allocatedBytes: c.allocatedBytes,
      sha256: c.sha256,
      format: c.format,
      filesystem: c.filesystem,
      ...(p.parent ? { parent: p.parent } : {}),
      profile: o.profile,
      requirements: o.requirements,
      customization: o.customization,
      ...(source ? { importedFrom: { site: source.site.name, export: source.export, master: p.object } } : {}),
    };
    made.push(m);
    writes.push(deps.db.putNew(deps.masters.toItem(m)), deps.masters.nameWrite(`${m.name}@${m.version}`, m.id));
  }
  return { writes, made };
}

/** The manifest entries the plan step kept, by object id (the record keeps them for the commit). */
function objectOf(rec: ImportRecord, object: string) {
  return rec.objects![object];
}

/** Each name points at its newest version: moved from the one it pointed at, or taken if new. */
async function namePointers(deps: Deps, made: Master[]): Promise<Write[]> {
  const newest = new Map<string, Master>();
  for (const m of made) if ((newest.get(m.name)?.version ?? 0) < m.version) newest.set(m.name, m);
  const writes: Write[] = [];
  for (const m of newest.values()) {
    const previous = await deps.masters.find(m.name);
    if (previous && previous.version > m.version) continue;
    writes.push(
      previous
        ? {
            Put: {
              TableName: deps.db.table,
              Item: { ...nameKey('master', m.name), id: m.id, kind: 'master' },
              ConditionExpression: 'id = :prev',
              ExpressionAttributeValues: { ':prev': previous.id },
            },
          }
        : deps.masters.nameWrite(m.name, m.id),
    );
  }
  return writes;
}

async function cloneWrites(
  deps: Deps,
  rec: ImportRecord,
  copied: Map<string, Copied>,
  documents: Record<string, string>,
  now: string,
) {
  const writes: Write[] = [];
  for (const p of rec.plan!.clones.filter((c) => c.action === 'create')) {
    const c = copied.get(p.object)!;
    const o = objectOf(rec, p.object) as CloneObject;
    const docText = o.customization ? documents[o.customization] : undefined;
    const document = docText
      ? await deps.customizations.put(
          p.id!,
          await deps.customizations.encode(customizationDoc.parse(JSON.parse(docText))),
          o.template.length,
        )
      : undefined;
    const clone: Clone = {
      id: p.id!,
      name: p.name,
      rev: 1,
      createdAt: now,
      updatedAt: now,
      status: 'ready',
      master: p.master!,
      repository: p.repository!,
      path: p.path!,
      sizeBytes: c.sizeBytes,
      allocatedBytes: c.allocatedBytes,
      sha256: c.sha256,
      format: c.format,
      method: o.method ?? 'copy',
      metastate: o.metastate,
      binding: p.machine ? 'assigned' : 'unassigned',
      ...(p.machine ? { machine: p.machine } : {}),
      customization: { ...(document ? { document } : {}), applied: o.applied, changes: [] },
      template: o.template,
      bootCount: 0,
    };
    writes.push(...deps.clones.createWrites(clone));
    if (p.machine) {
      const m = (await deps.machines.get(p.machine))!;
      writes.push(deps.machines.saveWrite(revise(m, { clone: clone.id }, now)));
    }
  }
  return writes;
}

function machineWrites(deps: Deps, rec: ImportRecord, documents: Record<string, string>, now: string): Write[] {
  const bundled = rec.machinesDoc ? JSON.parse(documents[rec.machinesDoc] ?? '{"machines":[]}').machines : [];
  return rec
    .plan!.machines.filter((m) => m.action === 'create')
    .flatMap((p) => {
      const b = bundled.find((x: { name: string }) => x.name === p.name);
      const m: Machine = {
        id: p.id!,
        name: p.name,
        rev: 1,
        createdAt: now,
        updatedAt: now,
        site: (rec.source && rec.rebinding.sites[rec.source.site.name]) ?? rec.site,
        kind: b.kind,
        arch: b.arch ?? 'x86_64',
        cpus: b.cpus ?? 1,
        memoryMiB: b.memoryMiB ?? 1024,
        identity: b.identity ?? {},
        settings: b.settings ?? {},
        ...(b.tags ? { tags: b.tags } : {}),
        state: 'ready',
      };
      return deps.machines.createWrites(m);
    });
}

export const bundleImportKind: OperationKind = {
  async commit(deps, op, outcome, now) {
    const o = outcomeOf('bundle_copy', outcome);
    const imports = importsOf(deps);
    const rec = (await imports.get(op.request.import as string))!;
    const plan = rec.plan!;
    const done = revise(rec, { status: 'succeeded' }, now);
    if (rec.dryRun) return { writes: [imports.saveWrite(done)], result: { import: rec.id, dryRun: true, plan } };
    const copied = new Map(o.images.map((i) => [i.object, i]));
    const { writes, made } = masterWrites(deps, rec, copied, now);
    const documents = rec.documents ?? {};
    const all = [
      ...writes,
      ...(await namePointers(deps, made)),
      ...(await cloneWrites(deps, rec, copied, documents, now)),
      ...machineWrites(deps, rec, documents, now),
      imports.saveWrite(done),
    ];
    const summary = (list: { action: string; name: string }[], action: string) =>
      list.filter((x) => x.action === action).map((x) => x.name);
    return {
      writes: all,
      result: {
        import: rec.id,
        created: {
          masters: made.map((m) => `${m.name}@${m.version}`),
          clones: summary(plan.clones, 'create'),
          machines: summary(plan.machines, 'create'),
        },
        skipped: [...plan.masters, ...plan.clones, ...plan.machines]
          .filter((x) => x.action === 'skip')
          .map((x) => ({ name: 'version' in x ? `${x.name}@${x.version}` : x.name, reason: x.reason })),
        conflicts: plan.conflicts,
        unassigned: plan.unassigned,
        credentialsNeeded: plan.machines
          .filter((m) => m.action === 'create' && m.credentialsNeeded.length)
          .map((m) => ({ machine: m.name, fields: m.credentialsNeeded })),
        copiedBytes: o.images.reduce((n, i) => n + i.copiedBytes, 0),
        keptBytes: o.images.reduce((n, i) => n + i.keptBytes, 0),
        seconds: o.seconds,
      },
      after: async () => {
        for (const m of made) await deps.catalog.putMaster(m);
      },
    };
  },
  async undo(deps, op, error, now) {
    const imports = importsOf(deps);
    const rec = await imports.get(op.request.import as string);
    return rec
      ? [imports.saveWrite(revise(rec, { status: 'failed', error: { code: error.code, message: error.message } }, now))]
      : [];
  },
};

export const exportKind: OperationKind = {
  async commit(deps, op, outcome, now) {
    const o = outcomeOf('bundle_write', outcome);
    const store = exportsOf(deps);
    const rec = (await store.get(op.request.export as string))!;
    const done = revise(rec, { status: 'succeeded', objects: o.manifest.objects.length, bytes: o.bytes }, now);
    return {
      writes: [store.saveWrite(done)],
      result: {
        export: rec.id,
        to: rec.to,
        objects: o.manifest.objects.map((x) => ({
          kind: x.kind,
          id: x.id,
          ...('name' in x ? { name: x.name } : {}),
          path: x.path,
          sizeBytes: x.sizeBytes,
          sha256: x.sha256,
        })),
        notes: rec.notes,
        bytes: o.bytes,
        seconds: o.seconds,
      },
    };
  },
  async undo(deps, op, error, now) {
    const store = exportsOf(deps);
    const rec = await store.get(op.request.export as string);
    return rec
      ? [store.saveWrite(revise(rec, { status: 'failed', error: { code: error.code, message: error.message } }, now))]
      : [];
  },
};
