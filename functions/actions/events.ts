/**
 * `POST /v1/clones/{id}/{event}`: checks the event against the lifecycle table and the request
 * against the world (machine free, requirements met, variables given), then locks the clone and
 * starts the transition workflow. Nothing changes unless all checks pass.
 */
import type { Principal } from '../auth/principal';
import type { Deps } from '../deps';
import { effectiveItems, invalidPatterns, missingVariables } from '../domain/customization';
import { plan, type Transition } from '../domain/lifecycle';
import { unmetRequirements } from '../domain/requirements';
import { BusyError, InvalidInputError, MachineTakenError, NameTakenError, RequirementsNotMetError } from '../errors';
import { TransactionConflict, type Write } from '../store/db';
import { newId } from '../store/ids';
import type { Clone, CustomizationItemList, Machine, Repository } from '../store/records';
import { revise } from '../store/resources';
import { accept } from './accept';
import { cloneState } from './commits';
import { repoRef } from './views';

type Body = Record<string, unknown> & {
  machine?: string;
  customization?: { items?: CustomizationItemList; variables?: Record<string, string> };
  items?: CustomizationItemList;
  variables?: Record<string, string>;
  to?: number;
  name?: string;
};

interface Prepared {
  request: Record<string, unknown>;
  input: Record<string, unknown>;
  machine?: Machine;
}

const imageRef = (repo: Repository, c: Clone) => ({
  repository: repoRef(repo),
  path: c.path,
  format: c.format ?? 'raw',
});

export const machineRef = (m: Machine) => ({
  id: m.id,
  name: m.name,
  kind: m.kind,
  identity: m.identity,
  settings: m.settings,
  credentials: m.credentials ?? {},
});

function checkCustomization(items: CustomizationItemList, variables: Record<string, string>) {
  const missing = missingVariables(items, variables);
  if (missing.length)
    throw new InvalidInputError(
      `customization uses variables that are not given: ${missing.join(', ')}; add them to "variables"`,
      { missing },
    );
  const bad = invalidPatterns(items);
  if (bad.length)
    throw new InvalidInputError(`invalid regular expression: ${bad.join('; ')}; fix the pattern`, { problems: bad });
}

async function prepare(deps: Deps, clone: Clone, repo: Repository, t: Transition, body: Body): Promise<Prepared> {
  const image = imageRef(repo, clone);
  const items = effectiveItems(clone.template, clone.customization.items);
  const applied = clone.customization.applied;
  switch (t.event) {
    case 'assign': {
      const machine = await deps.machines.require(body.machine!);
      if (machine.site !== repo.site)
        throw new InvalidInputError(
          `machine ${machine.name} is on site ${machine.site}, the clone on site ${repo.site}; pick a machine of the clone's site`,
        );
      if (machine.clone) throw new MachineTakenError(machine.name, machine.clone);
      const master = await deps.masters.require(clone.master);
      const unmet = unmetRequirements(master.requirements, machine);
      if (unmet.length) throw new RequirementsNotMetError(machine.name, unmet);
      const extra = body.customization?.items ?? [];
      const variables = { ...clone.customization.variables, ...(body.customization?.variables ?? {}) };
      const all = [...items, ...extra];
      checkCustomization(all.slice(applied), variables);
      return {
        machine,
        request: {
          machine: machine.id,
          items: extra,
          variables: body.customization?.variables ?? {},
          from: applied,
          to: all.length,
        },
        input: { image, items: all, variables, from: applied, to: all.length },
      };
    }
    case 'customize': {
      const extra = body.items ?? [];
      const variables = { ...clone.customization.variables, ...(body.variables ?? {}) };
      const all = [...items, ...extra];
      const to = body.to ?? all.length;
      if (to < applied)
        throw new InvalidInputError(
          `"to" (${to}) is below the ${applied} applied items; use the rollback event to move back`,
        );
      if (to > all.length) throw new InvalidInputError(`"to" (${to}) is past the last item (${all.length} items)`);
      checkCustomization(all.slice(applied, to), variables);
      return {
        request: { items: extra, variables: body.variables ?? {}, from: applied, to },
        input: { image, items: all, variables, from: applied, to },
      };
    }
    case 'rollback': {
      if (body.to! > applied)
        throw new InvalidInputError(
          `"to" (${body.to}) is past the ${applied} applied items; use customize to move forward`,
        );
      return { request: { from: applied, to: body.to }, input: { image, from: applied, to: body.to } };
    }
    case 'capture':
      return prepareCapture(deps, clone, image, body.name);
    case 'destroy':
      return { request: {}, input: { image } };
    case 'unassign':
    case 'reconfigure':
      return { request: {}, input: {} };
    default: {
      const machine = await deps.machines.require(clone.machine!);
      if (t.event === 'attach' && repo.kind === 'iscsi' && !machine.identity.initiatorName)
        throw new InvalidInputError(
          `machine ${machine.name} has no identity.initiatorName, and the clone is on iSCSI storage, which lets in one initiator name; set it with PATCH /v1/machines/${machine.name}`,
        );
      return { request: { machine: machine.id }, input: { image, machine: machineRef(machine) } };
    }
  }
}

async function prepareCapture(
  deps: Deps,
  clone: Clone,
  image: ReturnType<typeof imageRef>,
  wanted?: string,
): Promise<Prepared> {
  const parent = await deps.masters.require(clone.master);
  const name = wanted ?? parent.name;
  const latest = await deps.masters.find(name);
  if (latest && name !== parent.name) throw new NameTakenError('master', name);
  const version = latest ? latest.version + 1 : 1;
  const master = newId('master');
  return {
    request: { name, version, previous: latest?.id, master },
    input: { image, target: `masters/${name}-v${version}.img` },
  };
}

export async function cloneEvent(deps: Deps, p: Principal | undefined, ref: string, event: string, body: Body) {
  const clone = await deps.clones.require(ref);
  if (clone.lock) throw new BusyError('clone', clone.id, clone.lock);
  const t = plan(cloneState(clone), event);
  const repo = await deps.repositories.require(clone.repository);
  const prepared = await prepare(deps, clone, repo, t, body);
  const now = deps.now();
  const machineWrite = (): Write[] =>
    prepared.machine ? [deps.machines.saveWrite(revise<Machine>(prepared.machine, { clone: clone.id }, now))] : [];
  try {
    return await accept(
      deps,
      p,
      {
        workflow: 'transition',
        kind: t.event,
        resource: { kind: 'clone', id: clone.id, name: clone.name },
        site: repo.site,
        request: prepared.request,
        firstStep: t.task ?? t.event,
        input: { event: t.event, input: prepared.input },
      },
      (op) => [deps.clones.saveWrite(revise(clone, { lock: op.id }, now)), ...machineWrite()],
    );
  } catch (e) {
    if (e instanceof TransactionConflict) {
      if (e.failed.includes(1) && prepared.machine)
        throw new MachineTakenError(prepared.machine.name, '(another request)');
      throw new BusyError('clone', clone.id, '(another request)');
    }
    throw e;
  }
}
