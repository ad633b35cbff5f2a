/** What every agent task gets: its input, the drivers, and a way to report progress. */
import type { RepositoryRef } from '../drivers/storage/interface';
import type { ExportBook } from '../exports';
import type { Drivers } from '../registry';

export interface TaskContext {
  operation: string;
  drivers: Drivers;
  /** Throttled progress report to the control plane (0..1), optionally naming the current step. */
  report(progress: number, step?: string, message?: string): void;
  signal: AbortSignal;
  /** Remembers a repository root so temp files left in it are cleaned at the next start. */
  seen(repo: RepositoryRef): void;
  /** What this agent has exported to machines, made again after a restart. */
  exports: ExportBook;
}

/** An image as the control plane names it: a repository and a path inside it. */
export interface ImageInput {
  repository: RepositoryRef;
  path: string;
  format?: 'raw' | 'qcow2';
}

export type Task = (input: Record<string, unknown>, ctx: TaskContext) => Promise<Record<string, unknown>>;
