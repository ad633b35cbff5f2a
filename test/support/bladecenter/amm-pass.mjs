#!/usr/bin/env node
/**
 * An AMM's blade MIB for Debian snmpd, as a `pass_persist` script (snmpd.conf:
 * `pass_persist .1.3.6.1.4.1.2.3.51.2 /usr/bin/node amm-pass.mjs CHASSIS.json`). snmpd starts it once
 * and writes requests on its stdin, a line each: `PING`; `get` or `getnext` and an OID; `set`, an
 * OID and `TYPE VALUE`. It answers `PONG`; `OID`, `TYPE`, `VALUE` lines or `NONE`; `DONE` or an
 * SNMP error word. It ends when snmpd closes its stdin.
 *
 * CHASSIS.json is the chassis: `{ "blades": { "<slot>": { serial, type, macs: [..4], bootSequence:
 * [..4], start: [argv…], console, pid? } } }`. A blade is on while the process its power-on started
 * (`start`, detached, its output appended to `console`) runs; power off kills that process group.
 * snmpd runs one script at a time, so the file needs no lock.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

const MIB = '.1.3.6.1.4.1.2.3.51.2';
const SLOTS = 14;
const file = process.argv[2];

const load = () => JSON.parse(readFileSync(file, 'utf8'));
const save = (chassis) => {
  writeFileSync(`${file}.tmp`, JSON.stringify(chassis, null, 2));
  renameSync(`${file}.tmp`, file);
};

function alive(pid) {
  if (!pid) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return false;
  }
}

const powered = (blade) => alive(blade.pid);

function powerOn(blade) {
  if (powered(blade)) return;
  const out = openSync(blade.console, 'a');
  const child = spawn(blade.start[0], blade.start.slice(1), { detached: true, stdio: ['ignore', out, out] });
  closeSync(out);
  child.unref();
  blade.pid = child.pid;
}

function powerOff(blade) {
  if (powered(blade)) {
    try {
      process.kill(-blade.pid, 'SIGKILL');
    } catch {
      // It ended on its own just now.
    }
  }
  delete blade.pid;
}

/** Every object the chassis holds, as [oid, type, value], in OID order. */
function objects(chassis) {
  const rows = [];
  const column = (prefix, make) => {
    for (let slot = 1; slot <= SLOTS; slot++) {
      const blade = chassis.blades[slot];
      const v = make(blade, slot);
      if (v) rows.push([`${MIB}.${prefix}.${slot}`, ...v]);
    }
  };
  column('2.21.4.1.1.6', (b) => b && ['string', b.serial]);
  column('2.21.4.1.1.7', (b) => b && ['string', b.type]);
  for (let n = 0; n < 4; n++) column(`2.21.4.2.1.${n + 2}`, (b) => b && ['string', b.macs[n] ?? 'Not available']);
  for (let n = 0; n < 4; n++) column(`22.1.3.1.${n + 7}`, (b) => b && ['integer', String(b.bootSequence[n] ?? 0)]);
  column('22.1.5.1.1.3', (b) => ['integer', b ? '1' : '0']);
  column('22.1.5.1.1.4', (b) => ['integer', b && powered(b) ? '1' : '0']);
  column('22.1.6.1.1.7', (b) => b && ['integer', powered(b) ? '1' : '0']);
  column('22.1.6.1.1.8', (b) => b && ['integer', '0']);
  const key = (o) => o.slice(1).split('.').map(Number);
  const cmp = (a, b) => {
    const x = key(a);
    const y = key(b);
    for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
    return x.length - y.length;
  };
  return { rows: rows.sort((a, b) => cmp(a[0], b[0])), cmp };
}

const answer = (row) => process.stdout.write(row ? `${row[0]}\n${row[1]}\n${row[2]}\n` : 'NONE\n');

function set(chassis, oid, type, value) {
  const m = /^\.1\.3\.6\.1\.4\.1\.2\.3\.51\.2\.22\.1\.(6\.1\.1\.7|6\.1\.1\.8|3\.1\.(7|8|9|10))\.(\d+)$/.exec(oid);
  const blade = m && chassis.blades[m[3]];
  if (!blade) return 'not-writable';
  if (type !== 'integer') return 'wrong-type';
  const n = Number(value);
  if (m[1] === '6.1.1.7') n === 1 ? powerOn(blade) : powerOff(blade);
  else if (m[1] === '6.1.1.8') {
    powerOff(blade);
    powerOn(blade);
  } else blade.bootSequence[Number(m[2]) - 7] = n;
  save(chassis);
  return 'DONE';
}

const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const next = async () => ((await lines.next()).value ?? '').trim();
for (;;) {
  const { value: command, done } = await lines.next();
  if (done) break;
  const op = command.trim();
  if (op === 'PING') process.stdout.write('PONG\n');
  else if (op === 'get' || op === 'getnext') {
    const oid = await next();
    const { rows, cmp } = objects(load());
    answer(op === 'get' ? rows.find((r) => r[0] === oid) : rows.find((r) => cmp(r[0], oid) > 0));
  } else if (op === 'set') {
    const oid = await next();
    const [type, ...value] = (await next()).split(' ');
    process.stdout.write(`${set(load(), oid, type, value.join(' '))}\n`);
  }
}
