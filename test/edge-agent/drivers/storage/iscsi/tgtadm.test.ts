import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isAddressEntry, parseTargets } from '../../../../../edge-agent/drivers/storage/iscsi/tgtadm';

/** `tgtadm --op show --mode target` of tgt 1.0.85 with a logged-in session, a name ACL and an address ACL. */
const SHOWN = readFileSync(new URL('./show-target.txt', import.meta.url), 'utf8');

describe('tgtadm output', () => {
  it('parses targets with their LUN backing files, sessions and ACL entries', () => {
    expect(parseTargets(SHOWN)).toEqual([
      {
        tid: 1,
        name: 'iqn.2026-11.io.encompass:clones:c1:disk.img',
        luns: [
          { lun: 0, type: 'controller', backingPath: null },
          { lun: 1, type: 'disk', backingPath: '/tmp/iscsi-sample/b.img' },
        ],
        sessions: [{ nexus: 1, initiator: 'iqn.2026-11.io.example:alice', addresses: ['127.0.0.1'] }],
        acl: ['ALL', 'iqn.2026-11.io.example:alice'],
      },
      {
        tid: 3,
        name: 'iqn.2026-11.io.encompass:empty',
        luns: [{ lun: 0, type: 'controller', backingPath: null }],
        sessions: [],
        acl: [],
      },
    ]);
  });

  it('parses no targets from empty output', () => {
    expect(parseTargets('')).toEqual([]);
  });

  it('tells address ACL entries from initiator names', () => {
    for (const a of ['ALL', '10.0.0.1', '192.168.0.0/24', '::1', 'fe80::1/64']) expect(isAddressEntry(a), a).toBe(true);
    for (const n of ['iqn.2026-11.io.example:alice', 'eui.02004567A425678D', 'naa.52004567BA64678D'])
      expect(isAddressEntry(n), n).toBe(false);
  });
});
