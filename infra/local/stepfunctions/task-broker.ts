import { randomBytes } from 'node:crypto';
import { ExecutionClosedError, StateTaskError, TaskDoesNotExistError, TaskTimedOutError } from './errors';
import { jsonText } from './history';

export interface ScheduleRequest {
  activityArn: string;
  executionArn: string;
  input: unknown;
  heartbeatSeconds?: number;
  /** The task's TimeoutSeconds; the runner enforces it, the broker only closes the token when it passes. */
  timeoutSeconds: number;
  /** When the runner invoked the task (epoch ms): its timeout clock starts there. */
  invokedAt: number;
}

export interface HandedOutTask {
  taskToken: string;
  input: string;
}

/** Records an activity event (ActivityScheduled, ActivityStarted, ...) in the history of an execution. */
export type ActivityEventSink = (executionArn: string, type: string, details: Record<string, unknown>) => void;

interface ParkedTask extends ScheduleRequest {
  token: string;
  resolve: (output: unknown) => void;
  reject: (error: Error) => void;
  heartbeatTimer?: NodeJS.Timeout;
  timeoutTimer: NodeJS.Timeout;
  workerName?: string;
}

interface Poller {
  deliver(task: ParkedTask | undefined): void;
}

/**
 * Parks activity task inputs until GetActivityTask hands them out, and settles them on SendTask*.
 * Also enforces HeartbeatSeconds, which the runner does not: the clock starts when the task is scheduled and
 * is reset when it is handed out and by every heartbeat.
 */
export class ActivityTaskBroker {
  private readonly queues = new Map<string, ParkedTask[]>();
  private readonly pollers = new Map<string, Poller[]>();
  private readonly open = new Map<string, ParkedTask>();
  private readonly closed = new Set<string>();

  constructor(private readonly record: ActivityEventSink) {}

  schedule(request: ScheduleRequest): Promise<unknown> {
    let settle!: Pick<ParkedTask, 'resolve' | 'reject'>;
    const promise = new Promise<unknown>((resolve, reject) => {
      settle = { resolve, reject };
    });
    const token = randomBytes(48).toString('base64url');
    const task: ParkedTask = {
      ...request,
      ...settle,
      token,
      // Fires together with the runner's own timer, which is what raises States.Timeout.
      timeoutTimer: setTimeout(
        () => this.timeOut(task, 'States.Timeout'),
        request.invokedAt + request.timeoutSeconds * 1000 - Date.now(),
      ),
    };
    this.open.set(token, task);
    this.record(request.executionArn, 'ActivityScheduled', {
      resource: request.activityArn,
      input: jsonText(request.input),
      inputDetails: { truncated: false },
      timeoutInSeconds: request.timeoutSeconds,
      heartbeatInSeconds: request.heartbeatSeconds,
    });
    this.armHeartbeat(task);
    const poller = this.pollers.get(request.activityArn)?.shift();
    if (poller) poller.deliver(task);
    else this.queueOf(request.activityArn).push(task);
    return promise;
  }

  /** Long poll: resolves with a task, or undefined after `waitMs` or when `signal` aborts (client gone). */
  poll(
    activityArn: string,
    workerName: string | undefined,
    waitMs: number,
    signal: AbortSignal,
  ): Promise<HandedOutTask | undefined> {
    const queued = this.queues.get(activityArn)?.shift();
    if (queued) return Promise.resolve(this.handOut(queued, workerName));
    return new Promise((resolve) => {
      const poller: Poller = {
        deliver: (task) => {
          clearTimeout(timer);
          signal.removeEventListener('abort', leave);
          resolve(task ? this.handOut(task, workerName) : undefined);
        },
      };
      const leave = () => {
        const waiting = this.pollers.get(activityArn) ?? [];
        const index = waiting.indexOf(poller);
        if (index >= 0) waiting.splice(index, 1);
        poller.deliver(undefined);
      };
      const timer = setTimeout(leave, waitMs);
      signal.addEventListener('abort', leave, { once: true });
      if (signal.aborted) {
        leave();
        return;
      }
      const waiting = this.pollers.get(activityArn) ?? [];
      waiting.push(poller);
      this.pollers.set(activityArn, waiting);
    });
  }

  heartbeat(token: string): void {
    this.armHeartbeat(this.openTask(token));
  }

  succeed(token: string, output: unknown): void {
    const task = this.openTask(token);
    this.close(task);
    this.record(task.executionArn, 'ActivitySucceeded', {
      output: jsonText(output),
      outputDetails: { truncated: false },
    });
    task.resolve(output);
  }

  fail(token: string, error: string | undefined, cause: string | undefined): void {
    const task = this.openTask(token);
    this.close(task);
    this.record(task.executionArn, 'ActivityFailed', { error, cause });
    task.reject(new StateTaskError(error ?? '', cause ?? ''));
  }

  /**
   * Drops the open tasks of a finished or stopped execution: their tokens answer TaskTimedOut from now on, and
   * their promises settle so the runner releases its task timers.
   */
  dropExecution(executionArn: string): void {
    for (const task of this.open.values()) if (task.executionArn === executionArn) this.drop(task);
  }

  /** Ends every long poll with no task and drops every open task (endpoint shutdown). */
  closeAll(): void {
    for (const waiting of this.pollers.values()) for (const poller of waiting.splice(0)) poller.deliver(undefined);
    for (const task of this.open.values()) this.drop(task);
  }

  private drop(task: ParkedTask): void {
    this.close(task);
    task.reject(new ExecutionClosedError(task.executionArn));
  }

  private handOut(task: ParkedTask, workerName: string | undefined): HandedOutTask {
    task.workerName = workerName;
    this.armHeartbeat(task);
    this.record(task.executionArn, 'ActivityStarted', { workerName });
    return { taskToken: task.token, input: jsonText(task.input) };
  }

  private armHeartbeat(task: ParkedTask): void {
    if (!task.heartbeatSeconds) return;
    clearTimeout(task.heartbeatTimer);
    task.heartbeatTimer = setTimeout(() => {
      this.timeOut(task, 'States.HeartbeatTimeout');
      task.reject(new StateTaskError('States.HeartbeatTimeout', `No heartbeat for ${task.heartbeatSeconds} s`));
    }, task.heartbeatSeconds * 1000);
  }

  private timeOut(task: ParkedTask, error: string): void {
    this.close(task);
    this.record(task.executionArn, 'ActivityTimedOut', { error, cause: undefined });
  }

  private openTask(token: string): ParkedTask {
    const task = this.open.get(token);
    if (task) return task;
    throw this.closed.has(token) ? new TaskTimedOutError(token) : new TaskDoesNotExistError(token);
  }

  private close(task: ParkedTask): void {
    clearTimeout(task.heartbeatTimer);
    clearTimeout(task.timeoutTimer);
    this.open.delete(task.token);
    this.closed.add(task.token);
    const queue = this.queues.get(task.activityArn) ?? [];
    const index = queue.indexOf(task);
    if (index >= 0) queue.splice(index, 1);
  }

  private queueOf(activityArn: string): ParkedTask[] {
    const queue = this.queues.get(activityArn) ?? [];
    this.queues.set(activityArn, queue);
    return queue;
  }
}
