import { describe, expect, it } from 'vitest';
import type { RepositoryRef } from '../../../../../edge-agent/drivers/storage/interface';
import {
  initiatorOf,
  lunIdentity,
  parseSettings,
  targetName,
} from '../../../../../edge-agent/drivers/storage/iscsi/settings';

const PREFIX = 'iqn.2026-11.io.encompass';
const repo = (settings: Record<string, unknown>): RepositoryRef => ({
  id: 'r1',
  kind: 'iscsi',
  path: '/srv/san',
  settings,
});

describe('iscsi repository settings', () => {
  it('reads portal and prefix, defaulting to control port 0 and an unmanaged target', () => {
    expect(parseSettings(repo({ portal: '127.0.0.1:3260', iqnPrefix: PREFIX }))).toEqual({
      portal: '127.0.0.1:3260',
      iqnPrefix: PREFIX,
      controlPort: 0,
      manageTarget: false,
    });
  });

  it.each([
    [{ iqnPrefix: PREFIX }, /portal/],
    [{ portal: 'san.example:3260', iqnPrefix: PREFIX }, /portal/],
    [{ portal: '127.0.0.1:70000', iqnPrefix: PREFIX }, /portal/],
    [{ portal: '127.0.0.1:3260', iqnPrefix: 'IQN.2026-11.IO.X' }, /iqnPrefix/],
    [{ portal: '127.0.0.1:3260', iqnPrefix: PREFIX, controlPort: -1 }, /controlPort/],
    [{ portal: '127.0.0.1:3260', iqnPrefix: PREFIX, manageTarget: 'yes' }, /manageTarget/],
  ])('refuses %j, naming the bad setting', (settings, field) => {
    const err = (() => {
      try {
        parseSettings(repo(settings));
      } catch (e) {
        return e as Error & { code: string; repoId: string };
      }
    })();
    expect(err).toMatchObject({ name: 'IscsiSettingsError', code: 'iscsi_settings_invalid', repoId: 'r1' });
    expect(err?.message).toMatch(field);
  });
});

describe('target names', () => {
  it('are the prefix and the image path with / as :', () => {
    expect(targetName(PREFIX, '/srv/san', '/srv/san/clones/c-1/disk.img')).toBe(`${PREFIX}:clones:c-1:disk.img`);
  });

  it('stay apart when characters an IQN cannot hold had to be replaced', () => {
    const names = ['clones/A/disk.img', 'clones/a/disk.img', 'clones/a_b.img', 'clones/a-b.img'].map((p) =>
      targetName(PREFIX, '/srv/san', `/srv/san/${p}`),
    );
    expect(new Set(names).size).toBe(4);
    for (const n of names) expect(n).toMatch(/^[a-z0-9.:-]+$/);
  });

  it('are shortened to 223 bytes, kept unique by a hash', () => {
    const long = (c: string) => targetName(PREFIX, '/srv/san', `/srv/san/${'d'.repeat(300)}/${c}.img`);
    expect(long('x').length).toBeLessThanOrEqual(223);
    expect(long('x')).not.toBe(long('y'));
  });

  it('give a LUN the same SCSI identity every time', () => {
    expect(lunIdentity(`${PREFIX}:a`)).toEqual(lunIdentity(`${PREFIX}:a`));
    expect(lunIdentity(`${PREFIX}:a`)).not.toEqual(lunIdentity(`${PREFIX}:b`));
  });
});

describe('initiator names', () => {
  it('are taken from the access', () => {
    expect(initiatorOf({ machine: 'm1', initiatorName: 'iqn.2026-11.io.example:m1' })).toBe(
      'iqn.2026-11.io.example:m1',
    );
  });

  it('must be present', () => {
    expect(() => initiatorOf({ machine: 'm1' })).toThrow(
      expect.objectContaining({ code: 'initiator_name_required', machine: 'm1' }),
    );
  });

  it.each(['10.0.0.1', 'ALL', 'iqn.x y', `iqn.${'x'.repeat(230)}`])(
    'refuses %j, which is no initiator name',
    (name) => {
      expect(() => initiatorOf({ machine: 'm1', initiatorName: name })).toThrow(
        expect.objectContaining({ code: 'initiator_name_invalid' }),
      );
    },
  );
});
