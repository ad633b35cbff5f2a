/**
 * Which machines can reach which repositories. A repository of a site is reached by the site's
 * machines, unless it says otherwise: a host-local repository (`host`) only by the machines on that
 * host; `reach` narrows it to named machines, hosts or fabrics (an iSCSI VLAN, a NAS export's
 * networks, a hypervisor's storage pools); an iSCSI repository only by machines with an initiator
 * name, which its LUNs' ACLs admit. Checked when an assign, a migration or a deployment is accepted.
 */
import type { Deps } from '../deps';
import { ConflictError } from '../errors';
import type { Machine, Repository } from '../store/records';

/** What keeps `machine` from reaching `repo`; empty when it can. */
export function reachProblems(machine: Machine, repo: Repository): string[] {
  const problems: string[] = [];
  if (machine.site !== repo.site) problems.push(`it is on site ${machine.site}, the repository on site ${repo.site}`);
  if (repo.host && machine.host !== repo.host)
    problems.push(
      `the repository is local to host ${repo.host} and the machine ${machine.host ? `is on host ${machine.host}` : 'names no host'}`,
    );
  const r = repo.reach;
  if (r) {
    const named = r.machines?.some((x) => x === machine.id || x === machine.name) ?? false;
    const onHost = machine.host !== undefined && (r.hosts?.includes(machine.host) ?? false);
    const onFabric = machine.fabrics?.some((f) => r.fabrics?.includes(f)) ?? false;
    if (!named && !onHost && !onFabric) {
      const ways = [
        r.machines?.length ? `machines ${r.machines.join(', ')}` : '',
        r.hosts?.length ? `hosts ${r.hosts.join(', ')}` : '',
        r.fabrics?.length ? `fabrics ${r.fabrics.join(', ')}` : '',
      ].filter(Boolean);
      problems.push(
        `the repository is reached only by ${ways.join(' or ') || 'no machine'}; the machine is on ${machine.fabrics?.length ? `fabrics ${machine.fabrics.join(', ')}` : 'no fabric'}${machine.host ? ` and host ${machine.host}` : ''}`,
      );
    }
  }
  if (repo.kind === 'iscsi' && !machine.identity.initiatorName)
    problems.push('the repository serves iSCSI LUNs and the machine has no identity.initiatorName for their ACL');
  return problems;
}

export class UnreachableRepositoryError extends ConflictError {
  override readonly code = 'unreachable_repository';
  constructor(machine: string, repository: string, missing: string[], reachable: string[]) {
    super(
      `machine ${machine} cannot reach repository ${repository}: ${missing.join('; ')}. ${
        reachable.length
          ? `Repositories it reaches: ${reachable.join(', ')}; clone or relocate there, or pick another machine`
          : 'It reaches no repository of its site: set its host or fabrics (PATCH /v1/machines/{id}) or pick another machine'
      }`,
      { machine, repository, missing, reachable },
    );
  }
}

/** Refuses (409) a machine that cannot reach `repo`, naming what is missing and the repositories that would do. */
export async function checkReach(deps: Deps, machine: Machine, repo: Repository): Promise<void> {
  const missing = reachProblems(machine, repo);
  if (!missing.length) return;
  const reachable = (await deps.repositories.listAll())
    .filter((r) => r.site === machine.site && !reachProblems(machine, r).length)
    .map((r) => r.name);
  throw new UnreachableRepositoryError(machine.name, repo.name, missing, reachable);
}
