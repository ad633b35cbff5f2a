/** Secret references: `secret://<site>/<id>` ↔ the Secrets Manager name `encompass/<site>/<id>`. */
import { describe, expect, it } from 'vitest';
import {
  checkSecretRef,
  formatSecretRef,
  isSecretRef,
  readSecretRef,
  secretName,
  secretRefOfName,
  secretRefSchema,
  siteSecretsPrefix,
} from '../../statemachines/secrets';

const problemOf = (text: string) => {
  const read = readSecretRef(text);
  if (read.ok) throw new Error(`${text} was accepted`);
  return read.problem;
};

describe('secret references', () => {
  it('read back what they were written from', () => {
    for (const ref of [
      { site: 'local', id: 'bmc' },
      { site: 'dc-2', id: 'machines/blade-1/bmc' },
      { site: 'Lab.1', id: 'vsphere_admin' },
    ]) {
      const text = formatSecretRef(ref);
      expect(text).toBe(`secret://${ref.site}/${ref.id}`);
      expect(readSecretRef(text)).toEqual({ ok: true, value: ref });
      expect(isSecretRef(text)).toBe(true);
    }
  });

  it('map to the Secrets Manager name under encompass/<site>/, and back', () => {
    const ref = { site: 'dc2', id: 'machines/blade-1/bmc' };
    expect(secretName(ref)).toBe('encompass/dc2/machines/blade-1/bmc');
    expect(secretRefOfName('encompass/dc2/machines/blade-1/bmc')).toEqual({ ok: true, value: ref });
    expect(siteSecretsPrefix('dc2')).toBe('encompass/dc2/');
    expect(secretName(ref).startsWith(siteSecretsPrefix('dc2'))).toBe(true);
  });

  it('use another prefix when a deployment passes one', () => {
    const ref = { site: 'dc2', id: 'bmc' };
    expect(secretName(ref, 'acme/encompass/')).toBe('acme/encompass/dc2/bmc');
    expect(secretRefOfName('acme/encompass/dc2/bmc', 'acme/encompass/')).toEqual({ ok: true, value: ref });
    expect(() => secretName(ref, 'no-slash')).toThrow(/must be "\/"-terminated/);
  });

  it("keep one site's names out of a similarly named site's prefix", () => {
    expect(secretName({ site: 'lab-2', id: 'bmc' }).startsWith(siteSecretsPrefix('lab'))).toBe(false);
    expect(secretName({ site: 'lab', id: 'x' }).startsWith(siteSecretsPrefix('la'))).toBe(false);
  });

  it('refuse text that is not a reference, saying how to write one', () => {
    expect(problemOf('hunter2')).toMatch(/not a secret reference; write secret:\/\/<site>\/<id>/);
    expect(problemOf('secret:/dc2/bmc')).toMatch(/not a secret reference/);
    expect(problemOf('secret://dc2')).toMatch(/names no id after the site/);
    expect(isSecretRef(42)).toBe(false);
  });

  it('refuse sites and ids that could leave their prefix or break a name', () => {
    for (const bad of [
      'secret:///bmc',
      'secret://../bmc',
      'secret://dc 2/bmc',
      'secret://-dc/bmc',
      'secret://dc2/',
      'secret://dc2/a//b',
      'secret://dc2/../other/bmc',
      'secret://dc2/./bmc',
      'secret://dc2/bmc/',
      'secret://dc2/b*c',
      'secret://dc2/b:c',
      `secret://dc2/${'a'.repeat(257)}`,
      `secret://${'s'.repeat(64)}/bmc`,
    ])
      expect(readSecretRef(bad).ok, bad).toBe(false);
    expect(problemOf('secret://dc2/a/../b')).toMatch(/segment "\.\."/);
    expect(problemOf('secret://dc 2/bmc')).toMatch(/site "dc 2" is not a site name/);
  });

  it('map only names under the prefix back to references', () => {
    expect(secretRefOfName('other/dc2/bmc')).toEqual({
      ok: false,
      problem: 'secret name "other/dc2/bmc" is not under "encompass/"; it is not an ENCOMPASS secret',
    });
    expect(secretRefOfName('encompass/dc2').ok).toBe(false);
  });

  it('refuse to format or name parts that do not check', () => {
    expect(checkSecretRef({ site: 'dc2', id: '' })).toEqual({ ok: false, problem: expect.stringMatching(/empty/) });
    expect(() => formatSecretRef({ site: 'dc/2', id: 'bmc' })).toThrow(TypeError);
    expect(() => secretName({ site: 'dc2', id: '../x' })).toThrow(TypeError);
    expect(() => siteSecretsPrefix('*')).toThrow(TypeError);
  });

  it('check at a boundary with one schema that names the problem', () => {
    expect(secretRefSchema.parse('secret://dc2/bmc')).toBe('secret://dc2/bmc');
    const failed = secretRefSchema.safeParse('s3cr3t-password');
    expect(failed.success).toBe(false);
    expect(failed.error?.issues[0]?.message).toMatch(/not a secret reference/);
    expect(secretRefSchema.safeParse(7).success).toBe(false);
  });
});
