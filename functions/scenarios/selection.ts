/**
 * Which machines a deployment gets and what each member is called: the machines named in the
 * request, or the free ones that match its selector and the master's requirements (in name order),
 * and each member's clone name and variables rendered from the request's templates.
 */
import type { z } from 'zod';
import type { HealthCheck } from '../../statemachines/tasks';
import type { Deps } from '../deps';
import { renderTemplate, usedVariables } from '../domain/customization';
import { NAME_PATTERN, NAME_RULE } from '../domain/paths';
import { unmetRequirements } from '../domain/requirements';
import type { createDeployment } from '../domain/schemas';
import { checkReach, reachProblems } from '../domain/topology';
import { ConflictError, InvalidInputError } from '../errors';
import type { DeploymentMember, Machine, Master, Repository } from '../store/records';
import { checkMachineUsable, isFree } from './machine-state';

type Body = z.infer<typeof createDeployment>;

/** The values a member's templates may use, beside the request's own variables. */
export function builtins(index: number, m: Machine, master: Master, deployment: string): Record<string, string> {
  return {
    index: String(index),
    'machine.name': m.name,
    'machine.id': m.id,
    'machine.mac': m.identity.macs?.[0] ?? '',
    'machine.serial': m.identity.serial ?? '',
    master: master.name,
    deployment,
  };
}

const unknownVariable = (where: string) => (name: string) =>
  new InvalidInputError(
    `${where} uses \${${name}}, which is neither a variable of the request nor one of \${index}, \${machine.name}, \${machine.id}, \${machine.mac}, \${machine.serial}, \${master}, \${deployment}; check its spelling`,
    { problems: [`${where}: unknown variable ${name}`] },
  );

/** Each member's clone name and variables, rendered now: the agent gets plain values. */
export function renderMembers(body: Body, master: Master, machines: Machine[], id: string): DeploymentMember[] {
  const nameTemplate = body.name ?? `${master.name}-\${index}`;
  const used = usedVariables([...master.customization, ...(body.items ?? [])]);
  const members = machines.map((m, i): DeploymentMember => {
    const values = builtins(i + 1, m, master, id);
    // A variable may use the built-ins and the variables before it.
    const own: Record<string, string> = {};
    for (const [k, v] of Object.entries(body.variables ?? {}))
      own[k] = renderTemplate(v, { ...values, ...own }, unknownVariable(`body.variables.${k}`));
    const first = own;
    const clone = renderTemplate(nameTemplate, { ...values, ...first }, unknownVariable('body.name'));
    if (!NAME_PATTERN.test(clone))
      throw new InvalidInputError(
        `body.name renders "${clone}" for member ${i + 1}, which is not a name: ${NAME_RULE}`,
        {
          problems: [`body.name: renders an invalid name "${clone}"`],
        },
      );
    const healthCheck = renderHealthCheck(body.healthCheck, { ...values, ...first });
    return {
      index: i + 1,
      machine: m.id,
      machineName: m.name,
      clone,
      // The clone gets what its customization uses; a variable that only builds the name or another variable stays here.
      variables: Object.fromEntries(Object.entries(first).filter(([k]) => used.includes(k))),
      step: 'pending',
      attempts: 0,
      ...(healthCheck ? { healthCheck } : {}),
    };
  });
  const names = new Set<string>();
  for (const m of members) {
    if (names.has(m.clone))
      throw new InvalidInputError(
        `body.name gives two members the clone name "${m.clone}"; use \${index} or \${machine.name} in it`,
        { problems: ['body.name: renders the same name twice'] },
      );
    names.add(m.clone);
  }
  return members;
}

/**
 * A member's health check with its templates rendered (`\${hostname}` in a URL, `\${index}` in a
 * console marker): the agent gets plain values. A marker that does not compile is refused now.
 */
export function renderHealthCheck(check: HealthCheck | undefined, values: Record<string, string>) {
  if (!check) return undefined;
  const render = (field: string, v: string) => renderTemplate(v, values, unknownVariable(`body.healthCheck.${field}`));
  if (check.kind === 'tcp') return { ...check, host: render('host', check.host) };
  if (check.kind === 'http') return { ...check, url: render('url', check.url) };
  const marker = render('marker', check.marker);
  try {
    new RegExp(marker);
  } catch (e) {
    throw new InvalidInputError(`body.healthCheck.marker is not a regular expression: ${(e as Error).message}`, {
      problems: ['body.healthCheck.marker: does not compile'],
    });
  }
  return { ...check, marker };
}

/** Machines that match the request, and which of them are free. */
export async function candidates(deps: Deps, body: Body, master: Master, repo: Repository) {
  const sel = body.selector ?? {};
  const site = sel.site ? (await deps.sites.require(sel.site)).name : repo.site;
  if (site !== repo.site)
    throw new InvalidInputError(
      `selector.site is ${site} but the clones would be on site ${repo.site} (repository ${repo.name}); deploy within one site`,
    );
  const all = (await deps.machines.listAll()).filter(
    (m) =>
      m.site === site &&
      (!sel.kind || m.kind === sel.kind) &&
      (sel.tags ?? []).every((t) => m.tags?.includes(t)) &&
      unmetRequirements(master.requirements, m).length === 0 &&
      reachProblems(m, repo).length === 0,
  );
  all.sort((a, b) => a.name.localeCompare(b.name));
  const detail = [
    `site ${site}`,
    sel.kind ? `kind ${sel.kind}` : '',
    sel.tags?.length ? `tags ${sel.tags.join(', ')}` : '',
    "the master's requirements",
    `reaching repository ${repo.name}`,
  ]
    .filter(Boolean)
    .join(', ');
  return { matched: all, free: all.filter(isFree), detail };
}

/** The machines named in the request: each must exist, be on the site, meet the requirements and be free. */
export async function named(deps: Deps, refs: string[], master: Master, repo: Repository): Promise<Machine[]> {
  const machines: Machine[] = [];
  for (const ref of refs) {
    const m = await deps.machines.require(ref);
    if (machines.some((x) => x.id === m.id))
      throw new InvalidInputError(`machine ${m.name} is named twice in body.machines; name each machine once`);
    if (m.site !== repo.site)
      throw new InvalidInputError(`machine ${m.name} is on site ${m.site}, the clones would be on site ${repo.site}`);
    const unmet = unmetRequirements(master.requirements, m);
    if (unmet.length)
      throw new ConflictError(`machine ${m.name} does not meet the master's requirements: ${unmet.join('; ')}`, {
        machine: m.name,
        unmet,
      });
    checkMachineUsable(m);
    await checkReach(deps, m, repo);
    if (m.clone)
      throw new ConflictError(`machine ${m.name} already carries clone ${m.clone}; unassign it or pick another`, {
        machine: m.name,
        clone: m.clone,
      });
    machines.push(m);
  }
  return machines;
}
