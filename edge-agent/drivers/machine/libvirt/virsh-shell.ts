/**
 * One long-lived interactive virsh per connection URI, fed commands on stdin: libvirt's test:///
 * driver keeps its domains in the virsh process, so a process per command would forget them.
 * Each command is followed by `echo` markers on stdout and stderr; what the command printed before
 * them is its output, and an `error:` line on stderr is its failure. Commands run one at a time.
 * virsh prompts and echoes each command even on a pipe (`virsh # list`): that text is dropped.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface ShellResult {
  stdout: string;
  stderr: string;
  failed: boolean;
}

const shells = new Map<string, VirshShell>();
/** virsh's prompt (`#` read-write, `>` read-only), printed before each command it reads. */
const PROMPT = /virsh [#>] /;

/** The shell for `binary` on `uri`, started on first use. */
export function virshShell(binary: string, uri: string): VirshShell {
  const key = `${binary}\n${uri}`;
  let shell = shells.get(key);
  if (!shell || shell.exited) {
    shell = new VirshShell(binary, uri);
    shells.set(key, shell);
  }
  return shell;
}

/** Ends every shell (their test:/// state with them). */
export async function closeVirshShells(): Promise<void> {
  const all = [...shells.values()];
  shells.clear();
  await Promise.all(all.map((s) => s.close()));
}

/** virsh's own quoting: double quotes, with `"` and `\` escaped. */
function quote(arg: string): string {
  return `"${arg.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

export class VirshShell {
  private readonly proc: ChildProcessWithoutNullStreams;
  private queue: Promise<unknown> = Promise.resolve();
  private seq = 0;
  private readonly out: string[] = [];
  private readonly err: string[] = [];
  private waiters: (() => void)[] = [];
  exited = false;
  /** Why the shell could not start or ended (ENOENT when virsh is missing). */
  failure?: Error;

  constructor(binary: string, uri: string) {
    this.proc = spawn(binary, ['-q', '-c', uri], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.unref();
    for (const [stream, lines] of [
      [this.proc.stdout, this.out],
      [this.proc.stderr, this.err],
    ] as const) {
      createInterface({ input: stream }).on('line', (l) => {
        // The prompt follows output that ends without a newline: what is before it is output.
        const cut = l.search(PROMPT);
        const kept = cut < 0 ? l : l.slice(0, cut);
        if (cut < 0 || kept !== '') lines.push(kept);
        this.wake();
      });
    }
    this.proc.on('error', (e) => {
      this.failure = e;
      this.exited = true;
      this.wake();
    });
    this.proc.on('exit', () => {
      this.exited = true;
      this.wake();
    });
  }

  run(args: readonly string[]): Promise<ShellResult> {
    const next = this.queue.then(() => this.exchange(args));
    this.queue = next.catch(() => undefined);
    return next;
  }

  async close(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise((resolve) => this.proc.once('exit', resolve));
    this.proc.stdin.end('quit\n');
    await gone;
  }

  private async exchange(args: readonly string[]): Promise<ShellResult> {
    const marker = `ENCOMPASS-END-${++this.seq}`;
    this.proc.stdin.write(`${args.map(quote).join(' ')}\necho ${marker}\necho --err ${marker}\n`);
    const stdout = await this.until(this.out, marker);
    // `echo --err` prints its text as an error line.
    const stderr = await this.until(this.err, `error: ${marker}`);
    return { stdout, stderr, failed: /^error:/m.test(stderr) };
  }

  /** The lines of `lines` before `marker`, taken out of it once the marker arrived. */
  private async until(lines: string[], marker: string): Promise<string> {
    for (;;) {
      const at = lines.indexOf(marker);
      if (at >= 0)
        return lines
          .splice(0, at + 1)
          .slice(0, at)
          .join('\n');
      if (this.exited) throw this.failure ?? new Error(`virsh exited: ${lines.join(' ')}`);
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}
