/**
 * Boot detection from a serial console log: a boot counts once the operating system prints the boot
 * marker after power on. Only output written after `markConsole` counts, so a marker left by an
 * earlier boot never passes for this one. The log should be appended to (conserver, `-chardev
 * file,append=on`); a log that is replaced or truncated is read again from its start.
 */
import { promises as fs } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { setTimeout as sleep } from 'node:timers/promises';

export const DEFAULT_BOOT_MARKER = 'ENCOMPASS-BOOTED|login:';

/** Where the log stood before power on. */
export interface ConsoleMark {
  ino: number;
  size: number;
}

export async function markConsole(file: string): Promise<ConsoleMark> {
  const st = await fs.stat(file).catch(() => undefined);
  return st ? { ino: st.ino, size: st.size } : { ino: 0, size: 0 };
}

export interface MarkerWait {
  file: string;
  since: ConsoleMark;
  marker: RegExp;
  timeoutMs: number;
  /** When the boot began (ms since the epoch; now by default): a resumed wait keeps its first deadline. */
  startedAt?: number;
  /** Asked every `aliveEveryMs`: a machine that went off will never print the marker. */
  stillOn?: () => Promise<boolean>;
  aliveEveryMs?: number;
  pollMs?: number;
  /** Why the wait failed, in the machine's own words, instead of the general ones. */
  reasons?: { stopped: string; silent: string };
}

export type MarkerOutcome = { found: true } | { found: false; reason: string };

/** Text kept between reads so a marker split across two reads is still found. */
const CARRY = 4096;
/** A long log is read a slice at a time. */
const READ_MAX = 1 << 20;

export async function waitForMarker(w: MarkerWait): Promise<MarkerOutcome> {
  const deadline = (w.startedAt ?? Date.now()) + w.timeoutMs;
  const aliveEvery = w.aliveEveryMs ?? 2000;
  let nextAliveCheck = Date.now() + aliveEvery;
  const log = new LogReader(w.file, w.since);
  for (;;) {
    const now = Date.now();
    // Asked before the log is read, so a machine that printed the marker and then went off has booted.
    let stopped = false;
    if (w.stillOn && now >= nextAliveCheck) {
      nextAliveCheck = now + aliveEvery;
      stopped = !(await w.stillOn());
    }
    if (await log.shows(w.marker)) return { found: true };
    if (stopped)
      return {
        found: false,
        reason: w.reasons?.stopped ?? `it powered off before ${w.file} showed /${w.marker.source}/`,
      };
    if (now >= deadline) {
      const silent = `no output matching /${w.marker.source}/ in ${w.file} within ${Math.round(w.timeoutMs / 1000)} s`;
      return { found: false, reason: w.reasons?.silent ?? silent };
    }
    await sleep(Math.min(w.pollMs ?? 250, Math.max(0, deadline - now)));
  }
}

/** Reads what was added to a log since the mark, a slice at a time, keeping the tail of the last slice. */
class LogReader {
  private ino: number;
  private offset: number;
  private decoder = new StringDecoder('utf8');
  private carry = '';

  constructor(
    private readonly file: string,
    since: ConsoleMark,
  ) {
    this.ino = since.ino;
    this.offset = since.size;
  }

  /** True when the output added since the last call (or the kept tail before it) matches `marker`. */
  async shows(marker: RegExp): Promise<boolean> {
    const st = await fs.stat(this.file).catch(() => undefined);
    if (!st) return false;
    if (st.ino !== this.ino || st.size < this.offset) {
      // Replaced or truncated since the mark: all of it is new output.
      this.ino = st.ino;
      this.offset = 0;
      this.decoder = new StringDecoder('utf8');
      this.carry = '';
    }
    while (st.size > this.offset) {
      const chunk = await readRange(this.file, this.offset, Math.min(st.size, this.offset + READ_MAX));
      if (chunk.length === 0) return false;
      this.offset += chunk.length;
      const text = this.carry + this.decoder.write(chunk);
      if (marker.test(text)) return true;
      this.carry = text.slice(-CARRY);
    }
    return false;
  }
}

/** What the log holds since the mark (all of it when it was replaced or truncated since), at most the last `max` bytes. */
export async function readSince(file: string, since: ConsoleMark, max = READ_MAX): Promise<string> {
  const st = await fs.stat(file).catch(() => undefined);
  if (!st) return '';
  const from = st.ino === since.ino && st.size >= since.size ? since.size : 0;
  return (await readRange(file, Math.max(from, st.size - max), st.size)).toString('utf8');
}

async function readRange(file: string, from: number, to: number): Promise<Buffer> {
  const fh = await fs.open(file, 'r');
  try {
    const buf = Buffer.alloc(to - from);
    const { bytesRead } = await fh.read(buf, 0, buf.length, from);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}
