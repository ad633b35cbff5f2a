/**
 * Token lookups are remembered for a while by the instance (isolate, container) that made them: a
 * revocation is seen at once where it was made, and elsewhere once the cache time is over.
 */
import { describe, expect, it } from 'vitest';
import { Tokens } from '../../../functions/store/tokens';
import { stackDeps } from '../../support/store';

const CACHE_MS = 5000;

/** A Tokens on the stack's table whose clock the test moves. */
function instance(cacheMs = CACHE_MS) {
  const clock = { now: 1_000_000 };
  return { tokens: new Tokens(stackDeps().db, cacheMs, () => clock.now), clock };
}

const viewer = (tokens: Tokens) =>
  tokens.create({ role: 'viewer', label: 'cache test', createdBy: 'test' }, new Date().toISOString());

describe('token lookups', () => {
  it('find a token made elsewhere at once: an unknown token is never remembered', async () => {
    const here = instance();
    const elsewhere = instance();
    const secret = `enc_${'x'.repeat(40)}${Math.random().toString(36).slice(2)}`;
    expect(await here.tokens.lookup(secret)).toBeUndefined();
    const made = await viewer(elsewhere.tokens);
    expect(await here.tokens.lookup(made.secret)).toMatchObject({ id: made.record.id, role: 'viewer' });
  });

  it('refuse a token at once in the instance that revoked it', async () => {
    const { tokens } = instance();
    const made = await viewer(tokens);
    expect(await tokens.lookup(made.secret)).toMatchObject({ id: made.record.id });
    expect(await tokens.revoke(made.record.id)).toBe('revoked');
    expect(await tokens.lookup(made.secret)).toBeUndefined();
  });

  it('refuse a token revoked elsewhere once the cache time is over', async () => {
    const here = instance();
    const elsewhere = instance();
    const made = await viewer(elsewhere.tokens);
    expect(await here.tokens.lookup(made.secret)).toMatchObject({ id: made.record.id });
    expect(await elsewhere.tokens.revoke(made.record.id)).toBe('revoked');
    here.clock.now += CACHE_MS - 1;
    expect(await here.tokens.lookup(made.secret), 'still within the cache time').toMatchObject({ id: made.record.id });
    here.clock.now += 1;
    expect(await here.tokens.lookup(made.secret)).toBeUndefined();
  });

  it('do not bring back a token that this instance revoked while a lookup of it was in flight', async () => {
    const { tokens } = instance();
    const made = await viewer(tokens);
    const [, outcome] = await Promise.all([tokens.lookup(made.secret), tokens.revoke(made.record.id)]);
    expect(outcome).toBe('revoked');
    expect(await tokens.lookup(made.secret)).toBeUndefined();
  });

  it('read the token on every lookup when the cache time is 0', async () => {
    const here = instance(0);
    const elsewhere = instance();
    const made = await viewer(elsewhere.tokens);
    expect(await here.tokens.lookup(made.secret)).toMatchObject({ id: made.record.id });
    await elsewhere.tokens.revoke(made.record.id);
    expect(await here.tokens.lookup(made.secret)).toBeUndefined();
  });
});
