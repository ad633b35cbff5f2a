/**
 * Discovery: the agent asks each seed what it holds (edge-agent/discovery/) and reports what it saw.
 * Matching that against the records is the functions' (functions/discovery/): the agent reports
 * every identifier it sees, normalized, and decides nothing.
 *
 * A few seeds are asked at once: BMCs answer slowly and a silent address waits out its timeout, but
 * too many ipmitool or virsh children at once would crowd the agent's host. A seed that fails has its
 * error in its report; the task fails only when it is aborted. Observations beyond MAX_OBSERVED (of
 * machines, and of volumes) are left out in seed order, and each seed that lost some says so in its
 * report's error, so the functions do not read its silence as machines gone.
 */
import { MAX_OBSERVED, type SeedReport } from '../../statemachines/discovery';
import { TooManyObservedError } from '../discovery/errors';
import { askSeed, type SeedAnswer } from '../discovery/index';
import type { Task } from './context';

/** Seeds asked at the same time. */
export const SEED_CONCURRENCY = 4;

export const discover: Task<'discover'> = async (input, ctx) => {
  const { seeds } = input;
  const answers: SeedAnswer[] = new Array(seeds.length);
  let next = 0;
  let done = 0;
  ctx.report(0, `seed 0/${seeds.length}`);
  const worker = async () => {
    while (next < seeds.length) {
      if (ctx.signal.aborted) throw ctx.signal.reason;
      const i = next++;
      answers[i] = await askSeed(seeds[i]!, i, input, ctx);
      done++;
      ctx.report(done / seeds.length, `seed ${done}/${seeds.length}`);
    }
  };
  await untilAborted(Promise.all(Array.from({ length: Math.min(SEED_CONCURRENCY, seeds.length) }, worker)), ctx.signal);
  return collect(answers);
};

/** The outcome: observations in seed order, each list capped at MAX_OBSERVED. */
function collect(answers: readonly SeedAnswer[]) {
  const machines: SeedAnswer['machines'] = [];
  const volumes: SeedAnswer['volumes'] = [];
  const seeds: SeedReport[] = [];
  for (const a of answers) {
    const m = a.machines.slice(0, MAX_OBSERVED - machines.length);
    const v = a.volumes.slice(0, MAX_OBSERVED - volumes.length);
    machines.push(...m);
    volumes.push(...v);
    const seen = Math.max(a.seen ?? 0, a.machines.length + a.volumes.length);
    const kept = m.length + v.length;
    const report = { ...a.report, machines: m.length, volumes: v.length };
    if (kept < seen && !report.error) {
      const { code, message } = new TooManyObservedError(kept, seen, MAX_OBSERVED);
      report.error = { code, message };
    }
    seeds.push(report);
  }
  return { machines, volumes, seeds };
}

/** Rejects with the abort's reason as soon as `signal` fires; seeds still being asked end on their own timeouts. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
