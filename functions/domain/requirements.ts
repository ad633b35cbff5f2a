/** Does a machine meet a master's requirements? The answer lists every unmet requirement. */
import type { Machine, Requirements } from '../store/records';

export function unmetRequirements(r: Requirements, m: Pick<Machine, 'arch' | 'cpus' | 'memoryMiB'>): string[] {
  const unmet: string[] = [];
  if (r.arch && r.arch !== m.arch) unmet.push(`architecture ${r.arch} needed, machine is ${m.arch}`);
  if (r.minCpus && m.cpus < r.minCpus) unmet.push(`at least ${r.minCpus} CPUs needed, machine has ${m.cpus}`);
  if (r.minMemoryMiB && m.memoryMiB < r.minMemoryMiB)
    unmet.push(`at least ${r.minMemoryMiB} MiB of memory needed, machine has ${m.memoryMiB}`);
  return unmet;
}
