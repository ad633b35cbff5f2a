/**
 * Asking one seed: the probe of its kind, timed, its failure turned into the seed's report instead of
 * the task's (one unreachable BMC must not hide what the others hold). Only an abort of the task
 * itself goes on up.
 */
import type { SeedKind, SeedReport } from '../../statemachines/discovery';
import { AgentError } from '../errors';
import type { TaskContext } from '../tasks/context';
import { askAmt } from './amt';
import { askBladeCenter } from './bladecenter';
import { SeedFailedError } from './errors';
import { askIpmi } from './ipmi';
import { askLibvirt } from './libvirt';
import { askRedfish } from './redfish';
import { type KnownDigest, type Observed, type Probe, redact, type Seed, seedSecrets } from './seed';
import { askStorage } from './storage';
import { askVsphere } from './vsphere';

export const probes: Record<SeedKind, Probe> = {
  ipmi: askIpmi,
  redfish: askRedfish,
  libvirt: askLibvirt,
  storage: askStorage,
  vsphere: askVsphere,
  bladecenter: askBladeCenter,
  amt: askAmt,
};

export interface SeedAnswer extends Observed {
  report: SeedReport;
}

export async function askSeed(
  seed: Seed,
  index: number,
  task: { digests: readonly KnownDigest[]; hash: boolean },
  ctx: TaskContext,
): Promise<SeedAnswer> {
  const started = performance.now();
  const given: string[] = [];
  const report = (o: Observed, error?: unknown): SeedAnswer => ({
    ...o,
    report: {
      seed: index,
      kind: seed.kind,
      address: seed.address,
      seconds: Math.round(performance.now() - started) / 1000,
      machines: o.machines.length,
      volumes: o.volumes.length,
      ...(error ? { error: errorOf(error, seed, given) } : {}),
    },
  });
  try {
    const observed = await probes[seed.kind]({
      seed,
      index,
      signal: ctx.signal,
      drivers: ctx.drivers,
      digests: task.digests,
      hash: task.hash,
      secret: seedSecrets(seed, ctx.secrets, given),
    });
    return report(observed);
  } catch (err) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    return report({ machines: [], volumes: [] }, err);
  }
}

function errorOf(err: unknown, seed: Seed, given: readonly string[]): { code: string; message: string } {
  const coded = err instanceof AgentError ? err : new SeedFailedError(seed.kind, seed.address, { cause: err });
  return { code: coded.code, message: redact(coded.message, given) };
}
