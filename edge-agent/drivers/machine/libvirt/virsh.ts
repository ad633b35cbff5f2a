/**
 * virsh against one connection URI: one command per process, or with `shell`, every command in one
 * long-lived virsh of the URI (virsh-shell.ts), which libvirt's test:/// driver needs.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { PowerState } from '../interface';
import { VirshCommandError, VirshMissingError } from './errors';
import { virshShell } from './virsh-shell';

export class Virsh {
  constructor(
    private readonly binary: string,
    readonly uri: string,
    private readonly machineId: string,
    private readonly opts: { shell?: boolean } = {},
  ) {}

  run(args: readonly string[], timeoutMs = 120_000): Promise<string> {
    if (this.opts.shell) return this.inShell(args);
    return new Promise((resolve, reject) => {
      execFile(
        this.binary,
        ['-q', '-c', this.uri, ...args],
        { timeout: timeoutMs, maxBuffer: 16 << 20 },
        (err, stdout, stderr) => {
          if (!err) return resolve(String(stdout));
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') return reject(new VirshMissingError({ cause: err }));
          const detail =
            String(stderr)
              .trim()
              .replace(/\s*\n\s*/g, ' ') ||
            (err.killed ? `no answer within ${timeoutMs / 1000} s` : `exit code ${String(err.code)}`);
          reject(new VirshCommandError(this.machineId, args.join(' '), this.uri, detail, { cause: err }));
        },
      );
    });
  }

  private async inShell(args: readonly string[]): Promise<string> {
    const result = await virshShell(this.binary, this.uri)
      .run(args)
      .catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') throw new VirshMissingError({ cause: err });
        throw new VirshCommandError(this.machineId, args.join(' '), this.uri, err.message, { cause: err });
      });
    if (!result.failed) return result.stdout;
    const detail = result.stderr.trim().replace(/\s*\n\s*/g, ' ');
    throw new VirshCommandError(this.machineId, args.join(' '), this.uri, detail);
  }

  /** The domain's XML, or undefined when no such domain is defined. */
  async dumpxml(domain: string): Promise<string | undefined> {
    try {
      return await this.run(['dumpxml', '--', domain]);
    } catch (err) {
      if (isNoDomain(err)) return undefined;
      throw err;
    }
  }

  /** Running, paused, in shutdown… all hold the disk, so they count as on; no domain is off. */
  async power(domain: string): Promise<PowerState> {
    try {
      const state = (await this.run(['domstate', '--', domain])).trim();
      return state === 'shut off' || state === 'crashed' ? 'off' : 'on';
    } catch (err) {
      if (isNoDomain(err)) return 'off';
      throw err;
    }
  }

  /** `virsh define` reads a file; it is written beside the driver's state, readable by root only. */
  async define(xml: string, scratchDir: string): Promise<void> {
    await fs.mkdir(scratchDir, { recursive: true });
    const file = path.join(scratchDir, `.encompass-domain-${randomBytes(6).toString('hex')}.xml`);
    await fs.writeFile(file, xml, { mode: 0o600 });
    try {
      await this.run(['define', file]);
    } finally {
      await fs.rm(file, { force: true });
    }
  }

  /** Runs a power command, tolerating a domain that already reached the state it asks for. */
  async tolerant(args: readonly string[]): Promise<void> {
    try {
      await this.run(args);
    } catch (err) {
      if (err instanceof VirshCommandError && /is not running|already active|domain is not running/i.test(err.stderr))
        return;
      throw err;
    }
  }
}

function isNoDomain(err: unknown): boolean {
  return err instanceof VirshCommandError && /failed to get domain|Domain not found/i.test(err.stderr);
}
