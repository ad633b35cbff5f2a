/**
 * The README's scenario blocks, pasted as a user would after the walkthrough: the walkthrough and
 * every block from the upload to the export and import in one bash, against the test stack. Refusals
 * are part of the story, so nothing stops at an error: the output must show the lines the comments
 * promise, and no status but the refusals the comments announce.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Api } from '../support/api';
import { pasteIntoBash, scenarioBlocks, walkthroughBlock } from '../support/readme';

/** What each block must print, by the heading it sits under; `S` is the session's suffix. */
const promised: Record<string, (S: string) => (string | RegExp)[]> = {
  'Uploading a master instead': (S) => [
    /"kind":"import".*"status":"running".*waiting for the upload to complete.*\[200\]/,
    new RegExp(`"path":"masters/web-up-${S}-v1.img".*"status":"ready".*\\[200\\]`),
  ],
  Deployments: (S) => [
    /\{"dryRun":true,"plan":\[.*\[200\]/,
    /"again":true.*\[200\]/,
    ...[1, 2, 3].map((i) => `rack1-${S}-${i}: rack1-${S}-web-${i} succeeded`),
    /^web-2$/m,
    /deployment dp-\w+: failed \(members_failed: 1 of 2 members failed \(succeeded 0, skipped 0, rolled back 1\)/,
    'quarantined: boot_failed',
    /"code":"not_enough_machines".*only 0 of the 3 that match.*\[409\]/,
    'ready, clone none',
    /"code":"not_found".*no deployment.*\[404\]/,
  ],
  'Migrations and reassignments': (S) => [
    `activate svc-${S}-1: succeeded`,
    'operational, active, bootCount 2, applied 2',
    new RegExp(`nas2/clones:\\nsvc-${S}-1\\.img`),
    `svc-${S}-2: active`,
    `svc-${S}-1: unassigned`,
    `svc-${S}-1: active`,
    new RegExp(`"code":"not_found".*no clone with id or name \\\\"svc-${S}-2\\\\".*\\[404\\]`),
  ],
  'Service updates, with an instant rollback': (S) => [
    `import web-next-${S}: succeeded`,
    new RegExp(`rack1-${S}-1: new cl-\\w+, standby cl-\\w+, succeeded`),
    new RegExp(`rack1-${S}-3: new cl-\\w+, standby cl-\\w+, succeeded`),
    /(service_update_rollback dp-\w+: succeeded\n){2}/,
    `prepared: staging on stage-${S}`,
    'maintenance, active',
    /service_update dp-\w+: succeeded/,
    `web-${S}@3, captured from the staging clone: true`,
  ],
  'Discovery and reconciliation': (S) => [
    `new: db-${S}; orphans: stray.img`,
    /discovery ds-\w+: succeeded/,
    'discovered: 2 CPUs, 2048 MiB, power on',
    `db-${S}: ready`,
  ],
  'Export and import': (S) => [
    /export ex-\w+: succeeded/,
    ...[1, 2, 3].map((v) => new RegExp(`^master web-${S}@${v} [0-9a-f]{12}$`, 'm')),
    new RegExp(`^clone svc-${S}-1 [0-9a-f]{12}$`, 'm'),
    `web-${S}@1: skip\nweb-${S}@2: skip\nweb-${S}@3: skip`,
    // The folder's import and the S3 bundle's.
    /bundle_import im-\w+: succeeded\n[\s\S]*\nbundle_import im-\w+: succeeded/,
  ],
};

/** The refusals the walkthrough and the blocks announce; any other 4xx (or any 5xx) is a defect. */
const refusals = [
  /"code":"requirements_not_met".*\[409\]$/,
  /"code":"invalid_transition".*cannot rollback.*\[409\]$/,
  /"code":"unknown_variable".*hostnme.*\[400\]$/,
  /"code":"not_enough_machines".*\[409\]$/,
  /"code":"not_found".*no deployment with id.*\[404\]$/,
  /"code":"not_found".*no clone with id or name \\"svc-\d+-2\\".*\[404\]$/,
];

describe("the README's scenario blocks", () => {
  const api = Api.admin();
  let suffix: string | undefined;
  let cwd: string | undefined;

  /** Takes a clone down its binding and destroys it, so its machine can go. */
  async function destroyClone(id: string) {
    for (let i = 0; i < 4; i++) {
      const { status, body } = await api.get(`/v1/clones/${id}`);
      if (status !== 200 || body.status !== 'ready') return;
      const down = { active: 'deactivate', attached: 'detach', assigned: 'unassign' }[body.binding as string];
      if (!down) break;
      await api.run(`/v1/clones/${id}/${down}`);
    }
    const r = await api.del(`/v1/clones/${id}`);
    if (r.status === 202) await api.wait(r.body.operation);
  }

  // The blocks add machines and deployments to site `local`, which other suites share: they all go.
  afterAll(async () => {
    const S = suffix;
    if (S) {
      const masters = new Set([`web-${S}`, `web-next-${S}`]);
      for (let cursor: string | undefined, first = true; first || cursor; first = false) {
        const page = await api.get(`/v1/deployments?limit=100${cursor ? `&cursor=${cursor}` : ''}`);
        for (const d of page.body.items ?? []) {
          if (!masters.has(d.masterName)) continue;
          const r = await api.del(`/v1/deployments/${d.id}`);
          if (r.status === 202) await api.wait(r.body.operation, 120_000);
        }
        cursor = page.body.cursor;
      }
      const machines = ['blade', 'small', 'rack1-1', 'rack1-2', 'rack1-3', 'rack2-1', 'flaky', 'stage', 'db'].map((m) =>
        m.replace(/^(\w+)(-\d)?$/, `$1-${S}$2`),
      );
      for (const name of machines) {
        const { status, body } = await api.get(`/v1/machines/${name}`);
        if (status !== 200) continue;
        for (const clone of [body.clone, body.standby]) if (clone) await destroyClone(clone);
        expect((await api.del(`/v1/machines/${name}`)).status, name).toBeLessThan(300);
      }
      await rm(`/tmp/encompass-walkthrough/${S}`, { recursive: true, force: true });
    }
    if (cwd) await rm(cwd, { recursive: true, force: true });
  }, 300_000);

  it('continue the walkthrough in one shell and print what their comments promise', async () => {
    const blocks = await scenarioBlocks();
    expect(blocks.map((b) => b.heading)).toEqual(Object.keys(promised));
    const script = [await walkthroughBlock(), ...blocks.map((b) => b.text)].join('\n');
    cwd = await mkdtemp(join(tmpdir(), 'scenarios-'));
    const { out } = pasteIntoBash(script, cwd, 540_000);
    suffix = /"name":"nas-(\d+)"/.exec(out)?.[1];
    expect(suffix, out).toBeDefined();
    for (const b of blocks)
      for (const line of promised[b.heading]!(suffix!))
        typeof line === 'string' ? expect(out, b.heading).toContain(line) : expect(out, b.heading).toMatch(line);
    const statuses = out.split('\n').filter((l) => /\[[45]\d\d\]$/.test(l));
    for (const l of statuses)
      expect(
        refusals.some((r) => r.test(l)),
        l,
      ).toBe(true);
    expect(statuses).toHaveLength(refusals.length);
    // Created: the walkthrough's repository and two machines; six machines and two repositories here.
    expect(out.match(/\[201\]$/gm)).toHaveLength(11);
    expect(out).not.toMatch(/: failed \((?!members_failed)|\[000\]|undefined|Error/);
  }, 600_000);
});
