/** What every agent task gets: its input (checked against its contract), the drivers, and a way to report progress. */

import type { ImageRef, TaskInput, TaskName, TaskOutcome } from '../../statemachines/tasks';
import type { HookConfig } from '../config';
import type { RepositoryRef } from '../drivers/storage/interface';
import type { ExportBook } from '../exports';
import type { Drivers } from '../registry';
import type { SecretResolver } from '../secrets';

export interface TaskContext {
  operation: string;
  /** The host this agent runs on (its configuration's `host`), as messages name it. */
  host: string;
  drivers: Drivers;
  /** Throttled progress report to the control plane (0..1), optionally naming the current step. */
  report(progress: number, step?: string, message?: string): void;
  signal: AbortSignal;
  /** Remembers a repository root so temp files left in it are cleaned at the next start. */
  seen(repo: RepositoryRef): void;
  /** What this agent has exported to machines, made again after a restart. */
  exports: ExportBook;
  /** Resolves the secret references a task carries (machine credentials), in memory only. */
  secrets: SecretResolver;
  /** The agent's site: whose template secrets (`${secret:NAME}`) it reads. */
  site?: string;
  /** The hooks of the agent's configuration, by name. */
  hooks: Readonly<Record<string, HookConfig>>;
}

/** An image as the control plane names it: a repository and a path inside it. */
export type ImageInput = ImageRef;

/** An agent task: its input and outcome are those of its contract in statemachines/tasks.ts. */
export type Task<T extends TaskName> = (input: TaskInput<T>, ctx: TaskContext) => Promise<TaskOutcome<T>>;
