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
  /** Asked every `aliveEveryMs`: a machine that went off will never print the marker. */
  stillOn?: () => Promise<boolean>;
  aliveEveryMs?: number;
  pollMs?: number;
}

export type MarkerOutcome = { found: true } | { found: false; reason: string };

/** Text kept between reads so a marker split across two reads is still found. */
const CARRY = 4096;
/** A long log is read a slice at a time. */
const READ_MAX = 1 << 20;

export async function waitForMarker(w: MarkerWait): Promise<MarkerOutcome> {
  const deadline = Date.now() + w.timeoutMs;
  const aliveEvery = w.aliveEveryMs ?? 2000;
  let nextAliveCheck = Date.now() + aliveEvery;
  let { ino, size: offset } = w.since;
  let decoder = new StringDecoder('utf8');
  let carry = '';
  for (;;) {
    const st = await fs.stat(w.file).catch(() => undefined);
    if (st) {
      if (st.ino !== ino || st.size < offset) {
        // Replaced or truncated since the mark: all of it is new output.
        ino = st.ino;
        offset = 0;
        decoder = new StringDecoder('utf8');
        carry = '';
      }
      if (st.size > offset) {
        const chunk = await readRange(w.file, offset, Math.min(st.size, offset + READ_MAX));
        offset += chunk.length;
        const text = carry + decoder.write(chunk);
        if (w.marker.test(text)) return { found: true };
        carry = text.slice(-CARRY);
        if (chunk.length > 0 && offset < st.size) continue;
      }
    }
    const now = Date.now();
    if (now >= deadline) {
      return {
        found: false,
        reason: `no output matching /${w.marker.source}/ in ${w.file} within ${Math.round(w.timeoutMs / 1000)} s`,
      };
    }
    if (w.stillOn && now >= nextAliveCheck) {
      nextAliveCheck = now + aliveEvery;
      if (!(await w.stillOn()))
        return { found: false, reason: `it powered off before ${w.file} showed /${w.marker.source}/` };
    }
    await sleep(Math.min(w.pollMs ?? 250, Math.max(0, deadline - now)));
  }
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
