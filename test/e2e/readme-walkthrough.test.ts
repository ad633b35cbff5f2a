/**
 * The README's five-minute walkthrough, pasted as a user would: its first `sh` block run by bash,
 * in a directory outside the project, with the two variables `npm start` prints. Twice, because a
 * user pastes it again: the second paste must work as the first did and change nothing the first made.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Api } from '../support/api';
import { pasteIntoBash, walkthroughBlock } from '../support/readme';

describe("the README's walkthrough", () => {
  const api = Api.admin();
  const suffixes: string[] = [];
  let cwd: string | undefined;

  afterAll(async () => {
    for (const s of suffixes) {
      for (const c of [`web-${s}-2`, `web-${s}-1`]) await api.del(`/v1/clones/${c}`);
      for (const v of [2, 1]) await api.del(`/v1/masters/web-${s}@${v}`);
      for (const m of [`blade-${s}`, `small-${s}`]) await api.del(`/v1/machines/${m}`);
      await api.del(`/v1/repositories/nas-${s}`);
      await rm(`/tmp/encompass-walkthrough/${s}`, { recursive: true, force: true });
    }
    if (cwd) await rm(cwd, { recursive: true, force: true });
  });

  function paste(script: string) {
    const r = pasteIntoBash(script, cwd!, 240_000);
    const suffix = /"name":"nas-(\d+)"/.exec(r.out)?.[1];
    if (suffix) suffixes.push(suffix);
    return { ...r, suffix };
  }

  it('runs from any directory, prints what its comments promise, and can be pasted twice', async () => {
    const script = await walkthroughBlock();
    cwd = await mkdtemp(join(tmpdir(), 'walkthrough-'));
    const first = paste(script);
    // The script ends before the same second is over only on a very fast machine; its names carry the second.
    await new Promise((r) => setTimeout(r, 1100));
    const second = paste(script);
    for (const run of [first, second]) {
      const { out, suffix } = run;
      expect(suffix, out).toBeDefined();
      const s = suffix!;
      // Other suites' sites may make the whole degraded; the stack's own parts are what the comment promises.
      expect(out).toMatch(/"dynamodb":"ok","s3":"ok","stepfunctions":"ok".*\[200\]/);
      expect(out).toMatch(new RegExp(`"name":"nas-${s}".*\\[201\\]`));
      expect(out).toMatch(new RegExp(`^(?=.*"name":"nas-${s}")(?=.*"status":"ready").*\\[201\\]$`, 'm'));
      expect(out).toContain(`import web-${s}: succeeded`);
      expect(out).toContain(`clone web-${s}-1: succeeded`);
      expect(out).toMatch(/"code":"requirements_not_met".*at least 2 CPUs.*\[409\]/);
      expect(out).toContain('127.0.1.1 web-1');
      expect(out).toMatch(/"code":"invalid_transition".*cannot rollback.*\[409\]/);
      expect(out).toMatch(
        /"code":"unknown_variable","message":"body\.variables\.hostnme: the template of master web-\d+@1 does not use it; it uses hostname;.*\[400\]/,
      );
      for (const e of ['assign', 'attach', 'activate', 'deactivate', 'detach', 'unassign', 'reconfigure', 'capture'])
        expect(out).toContain(`${e} web-${s}-1: succeeded`);
      expect(out).toContain(`web-${s}@2: parent web-${s}@1, captured from web-${s}-1`);
      for (const e of ['clone', 'customize', 'rollback', 'destroy'])
        expect(out).toContain(`${e} web-${s}-2: succeeded`);
      expect(out).not.toMatch(/: failed|\[000\]|\[5\d\d\]|Error/);
    }
    expect(second.suffix).not.toBe(first.suffix);
    // The first paste's master is what it was: the second paste wrote nothing of it.
    const master = await api.get(`/v1/masters/web-${first.suffix}@1`);
    expect(master.status).toBe(200);
    expect(master.body.path).toBe('masters/web.img');
  }, 600_000);
});
