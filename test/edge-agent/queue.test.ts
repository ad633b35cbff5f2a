import { describe, expect, it } from 'vitest';
import { KeyedSemaphore } from '../../edge-agent/queue';

describe('KeyedSemaphore', () => {
  it('runs at most `limit` holders per key and lets the others wait in order', async () => {
    const sem = new KeyedSemaphore(2);
    const order: string[] = [];
    const r1 = await sem.acquire('a');
    const r2 = await sem.acquire('a');
    const third = sem.acquire('a').then((r) => {
      order.push('third');
      return r;
    });
    const fourth = sem.acquire('a').then((r) => {
      order.push('fourth');
      return r;
    });
    const other = await sem.acquire('b');
    expect(sem.queued('a')).toBe(2);
    await new Promise((r) => setTimeout(r, 10));
    expect(order).toEqual([]);
    r1();
    (await third)();
    r2();
    (await fourth)();
    expect(order).toEqual(['third', 'fourth']);
    expect(sem.queued('a')).toBe(0);
    other();
  });

  it('ignores a second release of the same slot', async () => {
    const sem = new KeyedSemaphore(1);
    const r = await sem.acquire('k');
    r();
    r();
    const a = await sem.acquire('k');
    let second = false;
    void sem.acquire('k').then(() => (second = true));
    await new Promise((res) => setTimeout(res, 10));
    expect(second).toBe(false);
    a();
  });
});
