/**
 * The health check after an activation: the agent tries it until it passes or its time is up. A
 * console check reads what the machine printed since its power-on; a tcp check connects; an http
 * check expects a status. Each try is short, so a cancelled task stops within a second.
 */
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { HealthCheck } from '../../statemachines/tasks';
import { NoConsoleError, UnhealthyError } from '../drivers/machine/errors';
import { hasConsole, type MachineRef } from '../drivers/machine/interface';
import type { Task, TaskContext } from './context';
import { onMachine } from './machines';

const TRY_MS = 1000;

/** One try: undefined when it passed, else what it saw. */
type Probe = () => Promise<string | undefined>;

function tcpProbe(host: string, port: number): Probe {
  return () =>
    new Promise((resolve) => {
      const socket = connect({ host, port, timeout: TRY_MS });
      const done = (why: string | undefined) => {
        socket.destroy();
        resolve(why);
      };
      socket.once('connect', () => done(undefined));
      socket.once('timeout', () => done(`no answer from ${host}:${port}`));
      socket.once('error', (e) => done(`${host}:${port}: ${(e as NodeJS.ErrnoException).code ?? e.message}`));
    });
}

function httpProbe(url: string, status: number): Probe {
  return async () => {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(TRY_MS * 3), redirect: 'manual' });
      await res.body?.cancel();
      return res.status === status ? undefined : `${url} answered ${res.status}, not ${status}`;
    } catch (e) {
      const cause = (e as { cause?: { code?: string } }).cause?.code;
      return `${url}: ${cause ?? (e as Error).message}`;
    }
  };
}

async function probeOf(check: HealthCheck, ref: MachineRef, ctx: TaskContext): Promise<Probe> {
  if (check.kind === 'tcp') return tcpProbe(check.host, check.port);
  if (check.kind === 'http') return httpProbe(check.url, check.status);
  const { driver, machine } = await onMachine(ref, ctx);
  if (!hasConsole(driver)) throw new NoConsoleError(machine.id, machine.kind);
  const marker = new RegExp(check.marker);
  return async () =>
    marker.test(await driver.console(machine)) ? undefined : `the console did not show /${check.marker}/`;
}

export const health: Task<'health'> = async ({ machine, check }, ctx) => {
  const started = Date.now();
  const end = started + check.timeoutSeconds * 1000;
  const probe = await probeOf(check, machine, ctx);
  for (;;) {
    const why = await probe();
    const seconds = (Date.now() - started) / 1000;
    if (why === undefined) return { healthy: true, detail: `${check.kind} check passed`, seconds };
    if (Date.now() >= end || ctx.signal.aborted)
      throw new UnhealthyError(machine.id, `${why} within ${check.timeoutSeconds} s`);
    ctx.report(Math.min(0.95, seconds / check.timeoutSeconds), 'health');
    await sleep(Math.min(TRY_MS, Math.max(0, end - Date.now())));
  }
};
