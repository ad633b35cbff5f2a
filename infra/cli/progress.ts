/**
 * Following an operation to its end. The end is learned by long polls (`?wait=20`: the API answers
 * once the operation ended, or after 20 s); while one is out, the progress display re-reads the
 * operation once a second. On a terminal the display is a bar on stderr, redrawn in place; otherwise
 * a line on stderr per step as it starts and ends.
 */
import { at, type Client, type Json } from './client';

const LONG_POLL_SECONDS = 20;
const DISPLAY_EVERY_MS = 1000;

/** `[#########...........]  45%  copy` */
export function bar(progress: number, step: string, width = 30): string {
  const p = Math.max(0, Math.min(1, progress));
  const filled = Math.round(p * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.round(p * 100)).padStart(3)}%  ${step}`;
}

/** Shows how an operation (or an upload) goes. */
export interface Display {
  /** The operation as last read. */
  update(op: Json): void;
  /** It ended (or the display is left). */
  done(op: Json): void;
}

/** A bar on a terminal, redrawn in place. */
export class Bar implements Display {
  constructor(private readonly write: (s: string) => void = (s) => process.stderr.write(s)) {}
  update(op: Json) {
    this.write(`\r${bar(op.progress ?? 0, op.steps?.at(-1)?.name ?? op.kind ?? '')}\x1b[K`);
  }
  done(op: Json) {
    this.update(op);
    this.write('\n');
  }
}

/** A line per step as it starts and ends, for logs and pipes. */
export class StepLines implements Display {
  private readonly seen = new Set<string>();
  constructor(private readonly line: (s: string) => void = (s) => process.stderr.write(`${s}\n`)) {}
  update(op: Json) {
    ((op.steps ?? []) as Json[]).forEach((s, i) => {
      const status = s.status ?? 'running';
      if (this.seen.has(`${i} ${status}`)) return;
      this.seen.add(`${i} ${status}`);
      this.line(`${op.id}  ${s.name}  ${status}${s.message ? `  ${s.message}` : ''}`);
    });
  }
  done(op: Json) {
    this.update(op);
    this.line(`${op.id}  ${op.kind ?? 'operation'}  ${op.status}`);
  }
}

export const quiet: Display = { update() {}, done() {} };

/** The display for stderr: a bar on a terminal, step lines otherwise, nothing when quiet. */
export function displayFor(isQuiet: boolean): Display {
  if (isQuiet) return quiet;
  return process.stderr.isTTY ? new Bar() : new StepLines();
}

/** Follows operation `id` until it ends; answers its final record. */
export async function follow(client: Client, id: string, display: Display): Promise<Json> {
  const path = at('/v1/operations', id);
  let op = await client.get(path);
  display.update(op);
  while (op.status === 'running') {
    let polling = true;
    const ended = client.get(`${path}?wait=${LONG_POLL_SECONDS}`).finally(() => {
      polling = false;
    });
    const timer = setInterval(() => {
      client.get(path).then(
        (now) => polling && now.status === 'running' && display.update(now),
        () => {},
      );
    }, DISPLAY_EVERY_MS);
    try {
      op = await ended;
    } finally {
      clearInterval(timer);
    }
    if (op.status === 'running') display.update(op);
  }
  display.done(op);
  return op;
}
