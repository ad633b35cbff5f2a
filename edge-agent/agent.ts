/**
 * The edge agent: long-polls its site's activity and its host's (statemachines/names.ts lanes), runs
 * each task with heartbeats, and answers with the task's outcome. Tasks are idempotent by operation id
 * (see journal.ts), so a task another agent of the site started before it died is taken over safely.
 */

import { mkdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  GetActivityTaskCommand,
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { activityArn, laneOf } from '../statemachines/names';
import { checkEnvelope, undoInput, undoOf } from '../statemachines/tasks';
import { withAgentTiming } from '../statemachines/timing';
import type { AgentConfig } from './config';
import { ControlPlane } from './control-plane';
import type { RepositoryRef } from './drivers/storage/interface';
import { failureOf, MalformedTaskError, NotReachedError, ResumedTooOftenError } from './errors';
import { ExportBook } from './exports';
import { type Delivery, Journal, type JournalEntry } from './journal';
import { KeyedSemaphore } from './queue';
import { createDrivers, type Drivers } from './registry';
import { type SecretResolver, secretResolver } from './secrets';
import { readStateFile, writeStateFile } from './state-file';
import type { TaskContext } from './tasks/context';
import { type Prepared, prepare } from './tasks/prepare';

export const AGENT_VERSION = '0.1.0';
/** Long polls kept open at once; tasks themselves run concurrently, bounded per repository. */
const POLLERS = 2;
/**
 * How often a task cut short by an agent restart is run again. A task that kills its agent every time
 * (a crash, the OOM killer) would otherwise be resumed by every restart until its time limit.
 */
export const MAX_RESUMES = 2;

/** Step Functions' answer for a task token whose workflow no longer waits: ended, timed out, or unknown. */
const workflowGone = (e: unknown) => ['TaskDoesNotExist', 'TaskTimedOut', 'InvalidToken'].includes((e as Error).name);
/**
 * The token is unknown: the workflow endpoint forgot the execution (the control plane restarted).
 * Only then is a task undone. A token that timed out is not enough: its workflow may have delivered
 * the task again (to this agent or another), and that run must not be undone under it.
 */
const workflowForgotten = (e: unknown) => ['TaskDoesNotExist', 'InvalidToken'].includes((e as Error).name);

export class Agent {
  private readonly sfn: SFNClient;
  private readonly journal: Journal;
  private readonly drivers: Drivers;
  private readonly plane: ControlPlane;
  private readonly stopping = new AbortController();
  private readonly running = new Set<Promise<void>>();
  private readonly slots: KeyedSemaphore;
  private readonly exports: ExportBook;
  private readonly secrets: SecretResolver;
  private loops: Promise<void>[] = [];
  private remembering: Promise<unknown> = Promise.resolve();
  /** When each task in hand was handed out, by token: reported beside its outcome (statemachines/timing.ts). */
  private readonly handedOut = new Map<string, string>();
  private aliveTimer?: NodeJS.Timeout;
  /** The site's activity (work any agent of the site can do) and its host's (work only it can). */
  readonly activityArns: string[];

  constructor(
    private readonly config: AgentConfig,
    private readonly log: (line: string) => void = (l) => console.log(`[agent ${config.site}] ${l}`),
  ) {
    this.sfn = new SFNClient({
      region: config.region,
      endpoint: config.stepFunctionsEndpoint,
      credentials: config.credentials,
      // GetActivityTask holds the request for up to 60 s.
      requestHandler: { requestTimeout: 70_000 },
    });
    const lanes = [...(config.sharedWork === false ? [] : [laneOf(config.site)]), laneOf(config.site, config.host)];
    this.activityArns = lanes.map((l) => activityArn(config, l));
    this.journal = new Journal(join(config.stateDir, 'journal'));
    this.drivers = createDrivers({ stateDir: config.stateDir, ...config.drivers });
    this.plane = new ControlPlane(config, log);
    this.slots = new KeyedSemaphore(config.concurrency);
    this.exports = new ExportBook(config.stateDir);
    this.secrets = secretResolver(config);
  }

  async start(): Promise<void> {
    await mkdir(this.config.stateDir, { recursive: true, mode: 0o700 });
    await this.cleanup();
    await this.reexport();
    await this.resume();
    const startedAt = new Date().toISOString();
    const alive = () =>
      this.plane.alive(this.config.host, {
        version: AGENT_VERSION,
        machine: hostname(),
        startedAt,
        slots: this.config.concurrency,
        hooks: Object.entries(this.config.hooks ?? {}).map(([name, h]) => ({
          name,
          on: h.on,
          ...(h.doc ? { doc: h.doc } : {}),
        })),
        ...(this.config.repositories ? { repositories: this.config.repositories } : {}),
      });
    // The first report creates the host's lane, which the loops then poll.
    await alive();
    this.aliveTimer = setInterval(alive, 10_000);
    this.loops = this.activityArns.flatMap((arn, lane) =>
      Array.from({ length: POLLERS }, (_, i) => this.pollLoop(arn, `${this.config.host}-${process.pid}-${lane}${i}`)),
    );
    this.log(
      `polling ${this.activityArns.join(' and ')} as host ${this.config.host}; ${this.config.concurrency} storage tasks per repository at once`,
    );
  }

  /**
   * Stops polling and aborts every task in hand: each task's signal fires, storage removes what it had
   * half written, and a task cut short is neither journaled as failed nor reported, so the next start
   * of the agent resumes it under its old token if its workflow still waits for it. A task that
   * finished meanwhile is reported as usual.
   */
  async stop(): Promise<void> {
    this.stopping.abort();
    clearInterval(this.aliveTimer);
    await Promise.allSettled([...this.loops, ...this.running]);
  }

  /** Removes temp files that an interrupted run left in the repositories it had used. */
  private async cleanup(): Promise<void> {
    await this.journal.prune();
    for (const repo of await this.knownRepositories()) {
      try {
        const removed = await this.drivers.storage(repo.kind).cleanupTemp(repo);
        if (removed.length) this.log(`removed ${removed.length} temp file(s) in ${repo.path}: ${removed.join(', ')}`);
      } catch (e) {
        this.log(`cleanup of ${repo.path} failed: ${(e as Error).message}`);
      }
    }
  }

  /** Makes every export again: an iSCSI target restarted meanwhile has forgotten its targets. */
  private async reexport(): Promise<void> {
    for (const e of await this.exports.list()) {
      try {
        await this.drivers.storage(e.repository.kind).export(e.repository, e.path, e.access);
      } catch (err) {
        this.log(`could not export ${e.path} to ${e.access.machine} again: ${(err as Error).message}`);
      }
    }
  }

  private get repositoriesFile() {
    return join(this.config.stateDir, 'repositories.json');
  }

  private async knownRepositories(): Promise<RepositoryRef[]> {
    return (await readStateFile<RepositoryRef[]>(this.repositoriesFile).catch(() => undefined)) ?? [];
  }

  /** Serialized read-modify-write, so tasks seeing repositories at once never lose each other's. */
  private remember(repo: RepositoryRef): Promise<void> {
    const next = this.remembering.then(async () => {
      const known = await this.knownRepositories();
      if (known.some((r) => r.id === repo.id && r.path === repo.path)) return;
      await writeStateFile(this.repositoriesFile, [...known.filter((r) => r.id !== repo.id), repo]);
    });
    this.remembering = next.catch(() => undefined);
    return next;
  }

  /** The first shared repository of a task that this agent's configuration says it does not reach. */
  private unreached(input: unknown): string | undefined {
    const shared = this.config.repositories?.shared;
    if (!shared) return undefined;
    const refs: { id?: unknown; name?: unknown; host?: unknown }[] = [];
    const walk = (v: unknown, key?: string) => {
      if (Array.isArray(v)) for (const x of v) walk(x, key);
      else if (v && typeof v === 'object') {
        if (key === 'repository') refs.push(v as (typeof refs)[number]);
        for (const [k, x] of Object.entries(v)) walk(x, k);
      }
    };
    walk(input);
    const miss = refs.find((r) => r.host === undefined && !shared.some((x) => x === r.id || x === r.name));
    return miss ? String(miss.name ?? miss.id) : undefined;
  }

  private async pollLoop(activityArn: string, workerName: string): Promise<void> {
    let backoff = 1000;
    while (!this.stopping.signal.aborted) {
      try {
        const out = await this.sfn.send(new GetActivityTaskCommand({ activityArn, workerName }), {
          abortSignal: this.stopping.signal,
        });
        backoff = 1000;
        if (!out.taskToken) continue;
        const handedOutAt = new Date().toISOString();
        const envelope = checkEnvelope(out.input);
        if (!envelope.ok) {
          const { field, problem } = envelope.violation;
          await this.refuse(out.taskToken, new MalformedTaskError('(unreadable)', field, problem));
          continue;
        }
        const unreached = this.unreached(envelope.value.input);
        if (unreached) {
          await this.refuse(out.taskToken, new NotReachedError(envelope.value.task, unreached, this.config.host));
          continue;
        }
        this.handedOut.set(out.taskToken, handedOutAt);
        this.track(this.handle({ taskToken: out.taskToken, ...envelope.value }));
        // Hold at most maxTasks; tasks past the per-repository limit wait inside the agent, heartbeating.
        while (this.running.size >= this.config.maxTasks && !this.stopping.signal.aborted)
          await Promise.race(this.running);
      } catch (e) {
        if (this.stopping.signal.aborted) return;
        this.log(`poll failed (${(e as Error).name}: ${(e as Error).message}); retrying in ${backoff / 1000} s`);
        // The back-off ends with a stop, so a stopping agent never waits it out.
        await sleep(backoff, undefined, { signal: this.stopping.signal }).catch(() => undefined);
        backoff = Math.min(backoff * 2, 30_000);
      }
    }
  }

  private track(run: Promise<void>): void {
    // A task's own failure is journaled and reported in handle(); what lands here is the agent's (its journal unwritable).
    const settled = run.catch((e: Error) => this.log(`a task broke off: ${e.message}`));
    this.running.add(settled);
    void settled.finally(() => this.running.delete(settled));
  }

  /** Runs a delivered task to its end and reports it; `resumes` counts the agent restarts it has survived. */
  private async handle(d: Delivery, resumes = 0): Promise<void> {
    const abort = new AbortController();
    const heartbeat = setInterval(() => {
      this.sfn.send(new SendTaskHeartbeatCommand({ taskToken: d.taskToken })).catch((e: Error) => {
        // The workflow gave up on this task (timeout or stop): stop working on it.
        if (e.name === 'TaskTimedOut' || e.name === 'TaskDoesNotExist') abort.abort(e);
      });
    }, this.config.heartbeatSeconds * 1000);
    const signal = AbortSignal.any([abort.signal, this.stopping.signal]);
    const task = prepare(d.task, d.input);
    const key = task.slot;
    let release: (() => void) | undefined;
    try {
      const done = await this.journal.get(d.operation, d.task);
      if (done?.status === 'succeeded') {
        this.log(`${d.task} ${d.operation}: already done, returning the journaled result`);
        await this.report(d, { ...done, delivery: d });
        return;
      }
      // Journaled at once, queued or not, so a restart knows every task this agent had in hand.
      const startedAt = new Date().toISOString();
      await this.journal.put(d.operation, d.task, { status: 'running', startedAt, delivery: d, resumes });
      if (key) {
        if (this.slots.full(key))
          this.plane.progress(d.operation, 0, 'queued', `waiting for a free slot on repository ${key}`);
        release = await this.slots.acquire(key);
      }
      if (this.stopping.signal.aborted) return;
      const entry = await this.execute(d, task, signal, startedAt, resumes);
      if (entry) await this.report(d, entry);
    } finally {
      release?.();
      clearInterval(heartbeat);
      this.plane.forget(d.operation);
      this.handedOut.delete(d.taskToken);
    }
  }

  private context(operation: string, signal: AbortSignal, quiet = false): TaskContext {
    return {
      operation,
      host: this.config.host,
      drivers: this.drivers,
      report: quiet ? () => undefined : (p, step, message) => this.plane.progress(operation, p, step, message),
      signal,
      seen: (repo) => void this.remember(repo).catch(() => undefined),
      exports: this.exports,
      secrets: this.secrets,
      site: this.config.site,
      hooks: this.config.hooks ?? {},
    };
  }

  /**
   * A task whose workflow no longer waits for it (the control plane restarted and ended its operation
   * as interrupted, or the task timed out): what it changed, or may have changed before it was cut
   * short, is undone as its workflow would have (undoTasks), so the failed operation leaves no change.
   */
  private async abandon(d: Delivery, entry: JournalEntry): Promise<void> {
    const spec = undoOf(d.task);
    let outcome = 'it changes nothing that needs undoing';
    if (spec) {
      const undo = prepare(spec.task, undoInput(spec, d.input as Record<string, unknown>));
      outcome = await undo.run(this.context(d.operation, this.stopping.signal, true)).then(
        () => `${spec.undoes} undone (${spec.task})`,
        (e: Error) => `undoing it (${spec.task}) failed: ${e.message}`,
      );
    }
    this.log(`${d.task} ${d.operation}: its workflow no longer waits for it; ${outcome}`);
    await this.journal.put(d.operation, d.task, { ...entry, reported: true });
  }

  /** Fails a task that cannot even be journaled (no operation to file it under). */
  private async refuse(taskToken: string, e: Error): Promise<void> {
    this.log(`refused a task: ${e.message}`);
    await this.sfn.send(new SendTaskFailureCommand({ taskToken, ...failureOf(e) })).catch(() => undefined);
  }

  /**
   * Sends a journaled outcome to Step Functions. It is marked reported once it arrived, or once Step
   * Functions says the workflow no longer waits for it. At the agent's start (`atStart`, when this
   * agent runs nothing else), a success whose workflow was forgotten is undone: nobody will commit it.
   * An outcome that could not be sent (the control plane unreachable) stays unreported, so the next
   * start sends it again; meanwhile the workflow's heartbeat timeout delivers the task anew.
   */
  private async report(d: Delivery, entry: JournalEntry, atStart = false): Promise<void> {
    try {
      if (entry.status === 'succeeded') {
        // The outcome carries the steps its progress reports entered, so it need not wait for them.
        // A task resumed after a restart has no hand-out of this run: its journaled start stands in.
        const handedOutAt = this.handedOut.get(d.taskToken) ?? entry.startedAt;
        const steps = this.plane.steps(d.operation);
        // Reports not sent yet would only race the commit of this end: they are dropped.
        this.plane.forget(d.operation);
        const timing = { handedOutAt, agentDoneAt: new Date().toISOString(), ...(steps.length ? { steps } : {}) };
        const output = JSON.stringify(withAgentTiming(entry.result ?? {}, timing));
        await this.sfn.send(new SendTaskSuccessCommand({ taskToken: d.taskToken, output }));
      } else {
        // A failure carries nothing beside its error: its progress reports reach the operation first.
        await this.plane.settled(d.operation);
        await this.sfn.send(new SendTaskFailureCommand({ taskToken: d.taskToken, ...entry.error }));
      }
      this.log(`${d.task} ${d.operation}: ${entry.status}${entry.error ? `: ${entry.error.error}` : ''}`);
    } catch (e) {
      this.log(`${d.task} ${d.operation}: could not report ${entry.status}: ${(e as Error).message}`);
      if (!workflowGone(e)) return;
      if (atStart && entry.status === 'succeeded' && workflowForgotten(e)) return this.abandon(d, entry);
    }
    await this.journal.put(d.operation, d.task, { ...entry, reported: true });
  }

  /**
   * Runs a task once and journals its outcome. A task cut short by the agent's stop has no outcome
   * (undefined): its journal entry stays `running`, for the next start to resume.
   */
  private async execute(
    d: Delivery,
    task: Prepared,
    signal: AbortSignal,
    startedAt: string,
    resumes: number,
  ): Promise<JournalEntry | undefined> {
    let entry: JournalEntry;
    try {
      const result = await task.run(this.context(d.operation, signal));
      entry = { status: 'succeeded', startedAt, endedAt: new Date().toISOString(), delivery: d, result, resumes };
    } catch (e) {
      if (this.stopping.signal.aborted) {
        this.log(`${d.task} ${d.operation}: cut short by the agent's stop; the next start resumes it`);
        return undefined;
      }
      this.log(`${d.task} ${d.operation}: ${(e as Error).message}`);
      entry = {
        status: 'failed',
        startedAt,
        endedAt: new Date().toISOString(),
        delivery: d,
        error: failureOf(e),
        resumes,
      };
    }
    await this.journal.put(d.operation, d.task, entry);
    return entry;
  }

  /**
   * Tasks an earlier run of this agent had in hand: an outcome that never reached Step Functions is
   * sent now; a task cut short is run again under its old token, if the workflow still waits for it.
   */
  private async resume(): Promise<void> {
    for (const entry of await this.journal.unreported()) {
      const d = entry.delivery!;
      if (entry.status !== 'running') {
        await this.report(d, entry, true);
        continue;
      }
      const heartbeat = await this.sfn.send(new SendTaskHeartbeatCommand({ taskToken: d.taskToken })).then(
        () => 'alive' as const,
        (e: unknown) => (workflowForgotten(e) ? 'forgotten' : workflowGone(e) ? 'timed out' : 'alive'),
      );
      if (heartbeat === 'forgotten') {
        await this.abandon(d, entry);
        continue;
      }
      if (heartbeat === 'timed out') {
        this.log(`${d.task} ${d.operation}: its workflow no longer waits for this delivery (timed out); left as it is`);
        await this.journal.put(d.operation, d.task, { ...entry, reported: true });
        continue;
      }
      const resumes = (entry.resumes ?? 0) + 1;
      if (resumes > MAX_RESUMES) {
        const error = new ResumedTooOftenError(d.task, MAX_RESUMES);
        this.log(`${d.task} ${d.operation}: ${error.message}`);
        const failed: JournalEntry = {
          ...entry,
          status: 'failed',
          endedAt: new Date().toISOString(),
          error: failureOf(error),
          resumes,
        };
        await this.journal.put(d.operation, d.task, failed);
        await this.report(d, failed);
        continue;
      }
      this.log(`${d.task} ${d.operation}: interrupted by the last stop; running it again (resume ${resumes})`);
      this.track(this.handle(d, resumes));
    }
  }
}
