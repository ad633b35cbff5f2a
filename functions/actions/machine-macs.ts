/**
 * A burned-in MAC names one NIC in the world: two machine records that both claim one are a mistake
 * (and would make discovery's evidence worthless), so a second registration of it is refused. A locally
 * administered MAC (a VM's, a bond's) is unique only on its network and may repeat across sites' networks.
 */
import type { Deps } from '../deps';
import { isEvidenceMac, normalizeMac } from '../discovery/evidence';
import { MacTakenError } from '../errors';
import type { Machine } from '../store/records';

export async function checkMacsFree(deps: Deps, m: Pick<Machine, 'id' | 'name' | 'identity'>): Promise<void> {
  const mine = new Set((m.identity.macs ?? []).flatMap((x) => normalizeMac(x) ?? []).filter(isEvidenceMac));
  if (!mine.size) return;
  for (const other of await deps.machines.listAll()) {
    if (other.id === m.id) continue;
    const shared = (other.identity.macs ?? []).map((x) => normalizeMac(x)).find((x) => x && mine.has(x));
    if (shared) throw new MacTakenError(shared, other.name);
  }
}
