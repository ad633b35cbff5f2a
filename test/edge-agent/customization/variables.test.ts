// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${name} in plain strings is the customization syntax under test.
import { describe, expect, it } from 'vitest';
import { substitute } from '../../../edge-agent/customization/variables';

const vars = { host: 'web-01', price: 'cost $1 & $&', dotted: 'a.b' };

describe('substitute', () => {
  it('inserts values as they are in text', () => {
    expect(substitute('${host}:${price}', vars, 'text')).toEqual({
      value: 'web-01:cost $1 & $&',
      missing: [],
      malformed: false,
      secrets: [],
    });
  });

  it('reads ${secret:NAME} as a secret, not a variable: left as is unless its value is given', () => {
    expect(substitute('pw=${secret:admin} ${host}', vars, 'text')).toMatchObject({
      value: 'pw=${secret:admin} web-01',
      missing: [],
      malformed: false,
      secrets: ['admin'],
    });
    const values = new Map([['admin', 'a$1b']]);
    expect(substitute('pw=${secret:admin}', vars, 'text', values).value).toBe('pw=a$1b');
    expect(substitute('pw=${secret:admin}', vars, 'replacement', values).value).toBe('pw=a$$1b');
    expect(substitute('$${secret:admin}', vars, 'text', values)).toMatchObject({
      value: '${secret:admin}',
      secrets: [],
    });
  });

  it('reads $${ as a literal ${', () => {
    expect(substitute('echo $${HOME} on ${host}', vars, 'text').value).toBe('echo ${HOME} on web-01');
  });

  it('keeps $1 and $& of a replacement working, while values containing $ stay literal', () => {
    const { value } = substitute('[$1|$&|${price}|$${x}]', vars, 'replacement');
    expect('key=val'.replace(/=(\w+)/, value)).toBe('key[val|=val|cost $1 & $&|${x}]');
  });

  it('makes values match literally in a pattern', () => {
    const { value } = substitute('^${dotted}$', vars, 'pattern');
    expect(new RegExp(value).test('a.b')).toBe(true);
    expect(new RegExp(value).test('axb')).toBe(false);
  });

  it('reports missing names and a ${ that opens no reference', () => {
    expect(substitute('${nope} ${host}', vars, 'text')).toMatchObject({ missing: ['nope'], malformed: false });
    expect(substitute('${a b}', vars, 'text').malformed).toBe(true);
    expect(substitute('${1st}', vars, 'text').malformed).toBe(true);
  });

  it('reads names with . and - as the functions do', () => {
    expect(substitute('${machine.name} ${ntp-server}', { 'machine.name': 'm1', 'ntp-server': 'pool' }, 'text')).toEqual(
      {
        value: 'm1 pool',
        missing: [],
        malformed: false,
        secrets: [],
      },
    );
  });

  it('does not take inherited object properties for variables', () => {
    expect(substitute('${constructor}', vars, 'text').missing).toEqual(['constructor']);
  });
});
