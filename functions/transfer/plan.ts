/**
 * The plan of an import, made from its verified manifest and the site's records: per object what
 * happens (created, skipped because the site has it, renamed), every name conflict, every missing
 * rebinding, the clones left unassigned, and the images to copy. A dry run's result is this plan.
 */
import type { CloneObject, Manifest, MasterObject } from '../../statemachines/bundle';
import { machinesDocument } from '../../statemachines/bundle';
import { type MachineKind, machineKinds, missingSettingMessage, missingSettings } from '../../statemachines/kinds';
import { repoRef } from '../actions/views';
import type { Deps } from '../deps';
import { stateOf } from '../scenarios/machine-state';
import { newId } from '../store/ids';
import type { Repository } from '../store/records';
import type { Plan, PlannedMaster } from './plan-shape';
import type { ImportRecord } from './records';

class Planner {
  readonly plan: Plan;
  private readonly taken = new Set<string>();
  private readonly repos = new Map<string, Repository | undefined>();
  private readonly masterIds = new Map<string, PlannedMaster>();

  constructor(
    private readonly deps: Deps,
    private readonly rec: ImportRecord,
    private readonly manifest: Manifest,
  ) {
    this.plan = {
      dryRun: rec.dryRun,
      conflicts: [],
      missing: [],
      masters: [],
      clones: [],
      machines: [],
      unassigned: [],
      copy: { images: [], bytes: 0 },
    };
  }

  /** A name for a renamed master or clone: `<name>-<source site>`, then `-2`, `-3`, … until unused. */
  private async rename(kind: 'master' | 'clone', name: string): Promise<string> {
    const store = kind === 'master' ? this.deps.masters : this.deps.clones;
    for (let i = 1; ; i++) {
      const candidate = `${name}-${this.manifest.site.name}${i > 1 ? `-${i}` : ''}`;
      if (!this.taken.has(`${kind}:${candidate}`) && !(await store.find(candidate))) {
        this.taken.add(`${kind}:${candidate}`);
        return candidate;
      }
    }
  }

  private async repository(source: string, neededBy: string): Promise<Repository | undefined> {
    if (!this.repos.has(source)) {
      const target = this.rec.rebinding.repositories[source] ?? source;
      const r = await this.deps.repositories.find(target);
      this.repos.set(source, r && r.site === this.rec.site && r.kind === 'file' ? r : undefined);
    }
    const r = this.repos.get(source);
    if (!r && !this.plan.missing.some((m) => m.kind === 'repository' && m.name === source))
      this.plan.missing.push({ kind: 'repository', name: source, neededBy });
    return r;
  }

  private conflict(kind: 'master' | 'clone', name: string, reason: string, as?: string) {
    this.plan.conflicts.push({ kind, name, resolution: this.rec.onConflict, reason, ...(as ? { as } : {}) });
  }

  private copy(o: MasterObject | CloneObject, repo: Repository, path: string) {
    this.plan.copy.images.push({
      object: o.id,
      source: o.path,
      sizeBytes: o.sizeBytes,
      sha256: o.sha256,
      parts: o.parts,
      target: { repository: repoRef(repo), path },
    });
    this.plan.copy.bytes += o.sizeBytes;
  }

  /** One name's versions: all already here (skipped), the next ones (created), or a conflict. */
  async masterName(name: string, objects: MasterObject[]) {
    const here = await Promise.all(objects.map((o) => this.deps.masters.find(`${name}@${o.version}`)));
    const newest = await this.deps.masters.find(name);
    const fresh = objects.filter((_, i) => !here[i]);
    const differs = objects.find((o, i) => here[i] && here[i]!.sha256 !== o.sha256);
    const gap = newest && fresh.some((o, i) => o.version !== newest.version + 1 + i);
    let as = name;
    if (differs || gap) {
      const reason = differs
        ? `${name}@${differs.version} here has another sha256 than the bundle's`
        : `${name} here is at version ${newest!.version}; the bundle's versions do not follow it`;
      if (this.rec.onConflict !== 'rename') {
        this.conflict('master', name, reason);
        for (const o of objects) this.skip(o, `name conflict: ${reason}`);
        return;
      }
      as = await this.rename('master', name);
      this.conflict('master', name, reason, as);
    }
    for (const [i, o] of objects.entries()) {
      if (as === name && here[i]) {
        this.masterIds.set(o.id, {
          object: o.id,
          name,
          version: o.version,
          action: 'skip',
          id: here[i]!.id,
          reason: 'the site has it: same name, version and sha256',
        });
        continue;
      }
      const repo = await this.repository(o.repository, `master ${o.name}@${o.version}`);
      const path = `masters/${as}-v${o.version}.img`;
      this.masterIds.set(o.id, {
        object: o.id,
        name: as,
        version: o.version,
        action: 'create',
        id: newId('master'),
        ...(repo ? { repository: repo.id } : {}),
        path,
      });
      if (repo) this.copy(o, repo, path);
    }
  }

  private skip(o: MasterObject, reason: string) {
    this.masterIds.set(o.id, { object: o.id, name: o.name, version: o.version, action: 'skip', reason });
  }

  /** Parents map to the site's masters; a master whose parent is not imported is not either. */
  linkParents(objects: MasterObject[]) {
    for (const o of objects) {
      const p = this.masterIds.get(o.id)!;
      if (o.parent) {
        const parent = this.masterIds.get(o.parent);
        if (!parent)
          this.plan.missing.push({ kind: 'master', name: o.parent, neededBy: `master ${o.name}@${o.version}` });
        else if (!parent.id && p.action === 'create') {
          Object.assign(p, {
            action: 'skip',
            reason: `its parent ${parent.name}@${parent.version} is not imported`,
            id: undefined,
          });
          this.plan.copy.images = this.plan.copy.images.filter((i) => i.object !== o.id);
          this.plan.copy.bytes -= o.sizeBytes;
        } else if (parent.id) p.parent = parent.id;
      }
      this.plan.masters.push(p);
    }
  }

  async clone(o: CloneObject) {
    const master = this.masterIds.get(o.master);
    const base = { object: o.id, name: o.name };
    if (!master?.id) return this.plan.clones.push({ ...base, action: 'skip', reason: 'its master is not imported' });
    let as = o.name;
    const here = await this.deps.clones.find(o.name);
    if (here && here.status !== 'destroyed') {
      if (here.sha256 === o.sha256 && here.master === master.id)
        return this.plan.clones.push({
          ...base,
          action: 'skip',
          id: here.id,
          reason: 'the site has it: same name and sha256',
        });
      const reason = `clone ${o.name} here is another clone`;
      if (this.rec.onConflict !== 'rename') {
        this.conflict('clone', o.name, reason);
        return this.plan.clones.push({ ...base, action: 'skip', reason: `name conflict: ${reason}` });
      }
      as = await this.rename('clone', o.name);
      this.conflict('clone', o.name, reason, as);
    }
    const repo = await this.repository(o.repository, `clone ${o.name}`);
    const path = `clones/${as}.img`;
    const machine = o.machine ? await this.bind(as, o.machine) : undefined;
    this.plan.clones.push({
      ...base,
      name: as,
      action: 'create',
      id: newId('clone'),
      master: master.id,
      ...(repo ? { repository: repo.id } : {}),
      path,
      ...(machine ? { machine } : {}),
    });
    if (repo) this.copy(o, repo, path);
  }

  /** The site's machine a clone is bound to: only a rebinding target that is ready and carries no clone. */
  private async bind(clone: string, source: string): Promise<string | undefined> {
    const target = this.rec.rebinding.machines[source];
    const m = target ? await this.deps.machines.find(target) : undefined;
    const reason = !m
      ? `no rebinding target for machine ${source}`
      : m.clone
        ? `machine ${m.name} carries clone ${m.clone}`
        : stateOf(m) !== 'ready'
          ? `machine ${m.name} is ${stateOf(m)}`
          : undefined;
    if (!reason && !this.plan.clones.some((c) => c.machine === m!.id)) return m!.id;
    if (!m) this.plan.missing.push({ kind: 'machine', name: source, neededBy: `clone ${clone}` });
    this.plan.unassigned.push({
      clone,
      machine: source,
      reason: reason ?? `machine ${m!.name} gets another clone of this import`,
    });
    return undefined;
  }

  async machines(text: string) {
    for (const m of machinesDocument.parse(JSON.parse(text)).machines) {
      const base = { name: m.name, credentialsNeeded: m.credentialsNeeded };
      const target = this.rec.rebinding.machines[m.name];
      const skip = (reason: string) => this.plan.machines.push({ ...base, action: 'skip', reason });
      if (target)
        this.plan.machines.push({ ...base, action: 'rebind', id: (await this.deps.machines.find(target))?.id });
      else if (await this.deps.machines.find(m.name)) skip('the site has a machine of that name');
      else if (!(machineKinds as readonly string[]).includes(m.kind)) skip(`kind ${m.kind} is unknown here`);
      else {
        const kind = m.kind as MachineKind;
        const missing = missingSettings(kind, m.settings ?? {});
        if (missing.length)
          skip(
            `the bundle lacks ${missing.map(([key, what]) => `settings.${key} (${missingSettingMessage(kind, what)})`).join(' and ')}; register the machine by hand`,
          );
        else this.plan.machines.push({ ...base, action: 'create', id: newId('machine') });
      }
    }
  }
}

export async function planImport(
  deps: Deps,
  rec: ImportRecord,
  manifest: Manifest,
  documents: Record<string, string>,
): Promise<Plan> {
  const planner = new Planner(deps, rec, manifest);
  const masters = manifest.objects.filter((o): o is MasterObject => o.kind === 'master');
  const names = [...new Set(masters.map((m) => m.name))];
  for (const name of names)
    await planner.masterName(
      name,
      masters.filter((m) => m.name === name).sort((a, b) => a.version - b.version),
    );
  planner.linkParents(masters);
  for (const o of manifest.objects) if (o.kind === 'clone') await planner.clone(o);
  for (const o of manifest.objects)
    if (o.kind === 'metadata' && o.of === 'machines') await planner.machines(documents[o.path] ?? '{"machines":[]}');
  return planner.plan;
}
