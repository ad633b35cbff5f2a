/**
 * Load generators. Closed loop: N workers each send one request, wait for the whole answer, and send
 * the next, until the time is up (latency grows with the queue it builds). Open loop: requests go out
 * at a fixed rate whether or not earlier ones have answered, as independent clients send them.
 * Latency is measured per request, to the end of the body.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

export interface Sample {
  /** Requests that answered with the expected status. */
  requests: number;
  /** Requests that did not (any other status, or a network error). */
  errors: number;
  seconds: number;
  rps: number;
  p50: number;
  p99: number;
}

/** Sends one request; only its status and the whole body are looked at. */
export type Send = () => Promise<{ status: number; arrayBuffer(): Promise<ArrayBuffer> }>;

export interface LoadOptions {
  workers: number;
  seconds: number;
  expectStatus?: number;
}

/** A network error with what caused it (undici's `fetch failed` says nothing by itself). */
const failure = (e: unknown) => {
  const { message, cause } = e as Error & { cause?: Error & { code?: string } };
  return cause ? `${message}: ${cause.code ?? ''} ${cause.message}` : message;
};

/** The q-quantile (0..1) of ascending `sorted`, nearest rank. */
export function quantile(sorted: number[], q: number): number {
  if (!sorted.length) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export function summarize(latenciesMs: number[], errors: number, seconds: number): Sample {
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  return {
    requests: sorted.length,
    errors,
    seconds,
    rps: sorted.length / seconds,
    p50: quantile(sorted, 0.5),
    p99: quantile(sorted, 0.99),
  };
}

/** Runs `send` from `workers` loops for `seconds`; only answers with `expectStatus` count. */
export async function closedLoop(send: Send, o: LoadOptions): Promise<Sample & { firstError?: string }> {
  const t = tally(send, o.expectStatus ?? 200);
  const started = performance.now();
  const until = started + o.seconds * 1000;
  const worker = async () => {
    while (performance.now() < until) await t.one(performance.now());
  };
  await Promise.all(Array.from({ length: o.workers }, worker));
  return { ...summarize(t.latencies, t.errors(), (performance.now() - started) / 1000), firstError: t.firstError() };
}

/** Sends one request and counts it: its latency from `since` when it has the expected status, else an error. */
function tally(send: Send, expectStatus: number) {
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const one = async (since: number) => {
    try {
      const res = await send();
      const body = await res.arrayBuffer();
      if (res.status === expectStatus) latencies.push(performance.now() - since);
      else {
        errors++;
        firstError ??= `HTTP ${res.status}: ${Buffer.from(body).toString('utf8').slice(0, 200)}`;
      }
    } catch (e) {
      errors++;
      firstError ??= failure(e);
    }
  };
  return { one, latencies, errors: () => errors, firstError: () => firstError };
}

export interface RateOptions {
  /** Requests sent per second. */
  rps: number;
  seconds: number;
  expectStatus?: number;
}

/**
 * Sends `rps` requests a second for `seconds`, each at its appointed time (start + i / rps), however
 * many are still unanswered. Latency counts from the appointed time, not from when the timer fired,
 * so a generator that falls behind shows as latency instead of hiding it (coordinated omission).
 */
export async function openLoop(send: Send, o: RateOptions): Promise<Sample & { firstError?: string }> {
  const total = Math.round(o.rps * o.seconds);
  const t = tally(send, o.expectStatus ?? 200);
  const started = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / o.rps;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    inFlight.push(t.one(due));
  }
  await Promise.all(inFlight);
  return { ...summarize(t.latencies, t.errors(), (performance.now() - started) / 1000), firstError: t.firstError() };
}

/** The median of `xs` (mean of the middle two for an even count). */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
