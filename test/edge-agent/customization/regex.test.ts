import { describe, expect, it } from 'vitest';
import { replaceInContent } from '../../../edge-agent/customization/regex';

describe('replaceInContent', () => {
  it('replaces with JavaScript semantics: first match without g, all with g, groups in the replacement', async () => {
    const text = Buffer.from('a=1\nb=2\n');
    expect(
      (await replaceInContent(text, { index: 0, pattern: '(\\w)=', flags: '', replacement: '$1: ' })).toString(),
    ).toBe('a: 1\nb=2\n');
    expect(
      (await replaceInContent(text, { index: 0, pattern: '(\\w)=', flags: 'g', replacement: '$1: ' })).toString(),
    ).toBe('a: 1\nb: 2\n');
  });

  it('keeps bytes that are not UTF-8 exactly as they were', async () => {
    const content = Buffer.from([0xff, 0xfe, 0x41, 0x80, 0x0a]);
    const result = await replaceInContent(content, { index: 0, pattern: 'A', flags: '', replacement: 'B' });
    expect(result).toEqual(Buffer.from([0xff, 0xfe, 0x42, 0x80, 0x0a]));
  });

  it('keeps a UTF-8 byte order mark and multi-byte characters', async () => {
    const content = Buffer.from('\uFEFFgrüße=1\n', 'utf8');
    const result = await replaceInContent(content, { index: 0, pattern: 'ü', flags: 'u', replacement: 'ue' });
    expect(result).toEqual(Buffer.from('\uFEFFgrueße=1\n', 'utf8'));
  });

  it('stops a catastrophic pattern at the time limit while the agent keeps running', async () => {
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 20);
    const started = Date.now();
    try {
      const run = replaceInContent(
        Buffer.from(`${'a'.repeat(40)}b`),
        { index: 7, pattern: '(a+)+$', flags: '', replacement: '' },
        300,
      );
      await expect(run).rejects.toMatchObject({
        name: 'RegexTimeoutError',
        code: 'regex_timeout',
        index: 7,
        timeoutMs: 300,
      });
    } finally {
      clearInterval(ticker);
    }
    expect(Date.now() - started).toBeLessThan(2000);
    expect(ticks, 'the event loop was not blocked').toBeGreaterThan(5);
  });
});
