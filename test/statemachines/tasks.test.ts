/** The task contracts: every task the workflows run has one, and each names the field at fault. */
import { describe, expect, it } from 'vitest';
import { transitions } from '../../statemachines/lifecycle';
import { checkEnvelope, checkInput, checkOutcome, slotOf, taskContracts, taskNames } from '../../statemachines/tasks';

const repository = { id: 'rp-1', kind: 'file', path: '/srv/images' };
const image = { repository, path: 'clones/web-1.img' };
const copied = {
  object: 'ms-1',
  source: 'images/ms-1.img',
  sizeBytes: 1,
  sha256: 'a'.repeat(64),
  parts: ['a'.repeat(64)],
  target: { repository: { ...repository, id: 'rp-2' }, path: 'masters/a-v1.img' },
};
const machine = { id: 'mc-1', name: 'blade-1', kind: 'ipmi', identity: {}, settings: {} };

describe('task contracts', () => {
  it('cover every agent task of the lifecycle table, import, clone, the repository check, discovery, the machine work and site bundles', () => {
    const used = new Set([
      ...transitions.flatMap((t) => (t.task ? [t.task] : [])),
      'import',
      'clone',
      'check',
      'health',
      'hook',
      'discover',
      'bundle_write',
      'bundle_verify',
      'bundle_copy',
      'bundle_discard',
    ]);
    expect([...used].sort()).toEqual([...taskNames].sort());
  });

  it('give storage tasks their repository as slot, and machine tasks none', () => {
    const inputs = {
      import: { repository, path: 'masters/a.img' },
      clone: { source: image, target: { ...image, repository: { ...repository, id: 'rp-2' } }, method: 'auto' },
      customize: {
        image,
        customization: {
          key: 'customizations/cl-1/a.json',
          url: 'http://127.0.0.1:9000/b/customizations/cl-1/a.json',
          sha256: 'a'.repeat(64),
          sizeBytes: 26,
          items: 0,
        },
        from: 0,
        to: 0,
      },
      rollback: { image, from: 1, to: 0 },
      capture: { image, target: 'masters/a-v2.img' },
      relocate: { source: image, target: { ...image, repository: { ...repository, id: 'rp-2' } } },
      destroy: { image },
      check: { repository, known: ['masters/a.img'], pending: [] },
      attach: { image, machine },
      detach: { image, machine },
      power_on: { image, machine },
      power_off: { image, machine },
      health: { machine, check: { kind: 'tcp', host: '127.0.0.1', port: 22 } },
      hook: { hook: 'apply-update', image },
      discover: { seeds: [{ kind: 'storage', address: 'rp-1', repository }] },
      bundle_write: {
        destination: { kind: 'file', repository, path: 'exports/a' },
        header: {
          format: 'encompass-bundle',
          version: 1,
          export: 'ex-1',
          exportedAt: '2026-01-01T00:00:00Z',
          site: { name: 'local' },
          algorithm: 'sha256',
          credentials: 'not included',
        },
        objects: [],
      },
      bundle_verify: { bundle: { kind: 's3', urls: { 'manifest.json': 'http://127.0.0.1:9000/b/m' } } },
      bundle_copy: { bundle: { kind: 'file', repository, path: 'exports/a' }, partBytes: 4096, images: [copied] },
      bundle_discard: { bundle: { kind: 'file', repository, path: 'exports/a' }, partBytes: 4096, images: [copied] },
    } as const;
    const slots = Object.fromEntries(
      taskNames.map((t) => {
        const checked = checkInput(t, inputs[t]);
        if (!checked.ok) throw new Error(`${t}: ${JSON.stringify(checked.violation)}`);
        return [t, slotOf(t, checked.value) ?? null];
      }),
    );
    expect(slots).toEqual({
      import: 'rp-1',
      clone: 'rp-2',
      customize: 'rp-1',
      rollback: 'rp-1',
      capture: 'rp-1',
      relocate: 'rp-2',
      destroy: 'rp-1',
      check: 'rp-1',
      attach: null,
      detach: null,
      power_on: null,
      power_off: null,
      health: null,
      hook: 'rp-1',
      discover: null,
      bundle_write: 'rp-1',
      bundle_verify: null,
      bundle_copy: 'rp-2',
      bundle_discard: 'rp-2',
    });
  });

  it('name the first field at fault in an input, an outcome and an envelope', () => {
    expect(checkInput('attach', { image, machine: { ...machine, settings: 'fast' } })).toMatchObject({
      ok: false,
      violation: { field: 'input.machine.settings' },
    });
    expect(checkOutcome('power_on', { power: 'on', booted: 'yes', bootCount: 1 })).toMatchObject({
      ok: false,
      violation: { field: 'outcome.booted' },
    });
    expect(checkEnvelope('{"task":"clone","input":{}}')).toMatchObject({
      ok: false,
      violation: { field: 'task.operation' },
    });
    expect(checkEnvelope('not json')).toMatchObject({ ok: false, violation: { field: 'task' } });
  });

  it('keep what an outcome says beyond its contract', () => {
    const out = checkOutcome('attach', {
      attached: 'mc-1',
      disk: { kind: 'file', path: '/a', format: 'raw' },
      note: 1,
    });
    expect(out).toMatchObject({ ok: true, value: { note: 1 } });
  });

  it('document every task', () => {
    for (const t of taskNames) expect(taskContracts[t].doc.length).toBeGreaterThan(10);
  });
});

describe('machine credentials in a task', () => {
  const input = (credentials: Record<string, string>) => ({ image, machine: { ...machine, credentials } });

  it('are references to the secret store', () => {
    expect(checkInput('power_on', input({ password: 'secret://local/machines/mc-1/password' })).ok).toBe(true);
  });

  it('are refused as values, naming the field', () => {
    const checked = checkInput('power_on', input({ password: 'hunter2' }));
    expect(checked.ok).toBe(false);
    if (!checked.ok) expect(checked.violation.field).toMatch(/machine\.credentials\.password/);
  });
});
