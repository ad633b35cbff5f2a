/**
 * bench:discover, reconciliation: `reconcile()` (pure, in-process) on 2000 synthetic ipmi observations
 * against 2000 machine records, beside the simplest exact-match reconciliation (a Map from serial to
 * record, one lookup per observation). Observations 0-999 carry record j's serial (from another BMC
 * address, so each match also changes settings.host), 1000-1499 only record j's MAC, 1500-1999 a
 * serial and MAC no record has.
 */
import { performance } from 'node:perf_hooks';
import { reconcile } from '../../functions/discovery/reconcile';
import { DEFAULT_SETTINGS } from '../../functions/discovery/settings';
import type { Machine } from '../../functions/store/records';
import type { MachineObservation } from '../../statemachines/discovery';
import { alternate, type Figure } from './discover-common';

const N = 2000;
const BY_SERIAL = N / 2;
const BY_MAC = N / 4;
const AT = '2026-12-01T00:00:00.000Z';

/** A globally administered MAC (00:1b:21 is an Intel OUI), so it counts as evidence. */
const mac = (group: number, i: number) =>
  `00:1b:21:${group.toString(16).padStart(2, '0')}:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
const host = (net: number, i: number) => `10.${net}.${i >> 8}.${i & 255}`;

function records(): Machine[] {
  return Array.from({ length: N }, (_, i) => ({
    id: `mc-${i}`,
    name: `blade-${i}`,
    rev: 1,
    createdAt: AT,
    updatedAt: AT,
    site: 'bench',
    kind: 'ipmi',
    arch: 'x86_64',
    cpus: 8,
    memoryMiB: 16384,
    identity: { serial: `SN-${i}`, macs: [mac(1, i)] },
    settings: { host: host(0, i), port: 623 },
  }));
}

function observations(): MachineObservation[] {
  return Array.from({ length: N }, (_, j) => {
    const identifiers =
      j < BY_SERIAL
        ? { serial: `SN-${j}`, model: 'LS21', macs: [] }
        : j < BY_SERIAL + BY_MAC
          ? { macs: [mac(1, j)] }
          : { serial: `SN-NEW-${j}`, model: 'LS21', macs: [mac(2, j)] };
    return {
      seed: j % 64,
      kind: 'ipmi',
      identifiers: { ...identifiers, bmcAddress: `${host(1, j)}:623` },
      facts: { power: 'off' },
      settings: { host: host(1, j), port: 623 },
    } satisfies MachineObservation;
  });
}

export interface ReconcileResult {
  figures: Figure[];
  counts: { matched: number; changed: number; new: number; conflicts: number };
  peerCounts: { matched: number; new: number };
}

export async function measureReconcile(runs: number): Promise<ReconcileResult> {
  const machines = records();
  const observed = observations();
  const input = {
    observations: observed,
    // No seed's records are expected back, so no misses are counted: the figure is matching alone.
    answered: new Map<number, string>(),
    machines,
    bindings: new Map(),
    ignored: new Set<string>(),
    settings: DEFAULT_SETTINGS,
  };
  const bare = () => {
    const bySerial = new Map(machines.map((m) => [m.identity.serial, m]));
    let matched = 0;
    for (const o of observed) if (o.identifiers.serial && bySerial.has(o.identifiers.serial)) matched++;
    return { matched, new: observed.length - matched };
  };
  const ours: number[] = [];
  const peer: number[] = [];
  let last: ReturnType<typeof reconcile> | undefined;
  let peerCounts = { matched: 0, new: 0 };
  await alternate(
    runs,
    async () => {
      const t0 = performance.now();
      last = reconcile(input);
      ours.push(performance.now() - t0);
    },
    async () => {
      const t0 = performance.now();
      peerCounts = bare();
      peer.push(performance.now() - t0);
    },
    (r) =>
      console.log(
        `reconcile run ${r}/${runs}: reconcile() ${ours.at(-1)!.toFixed(0)} ms, Map by serial ${peer.at(-1)!.toFixed(3)} ms`,
      ),
    // Only the peer warms up: its first call would time compiling it, reconcile() runs for seconds.
    async () => {
      bare();
    },
  );
  const counts = {
    matched: last!.matched.length,
    changed: last!.changed.length,
    new: last!.new.length,
    conflicts: last!.conflicts.length,
  };
  if (counts.matched !== BY_SERIAL + BY_MAC || counts.new !== N - BY_SERIAL - BY_MAC || counts.conflicts)
    throw new Error(
      `reconcile() should match ${BY_SERIAL + BY_MAC} and make ${N - BY_SERIAL - BY_MAC} new: ${JSON.stringify(counts)}`,
    );
  return {
    figures: [
      { key: 'reconcile', what: `reconcile() ${N} observations x ${N} records`, unit: 'ms', runs: ours },
      { key: 'reconcile-peer', what: 'peer: Map serial -> record, one lookup each', unit: 'ms', runs: peer },
    ],
    counts,
    peerCounts,
  };
}
