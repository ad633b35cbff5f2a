/** Why an import's plan is refused: what the site lacks, names it uses, a commit past one transaction. */
import { describe, expect, it } from 'vitest';
import { commitWrites, MAX_COMMIT_WRITES, type Plan, refusal } from '../../../functions/transfer/plan-shape';

const empty = (): Plan => ({
  dryRun: false,
  conflicts: [],
  missing: [],
  masters: [],
  clones: [],
  machines: [],
  unassigned: [],
  copy: { images: [], bytes: 0 },
});
const master = (name: string, version: number) => ({
  object: `${name}${version}`,
  name,
  version,
  action: 'create' as const,
});

describe('an import plan', () => {
  it('is carried out when nothing is missing, no conflict is refused and its commit fits one transaction', () => {
    const plan = { ...empty(), masters: [master('web', 1), master('web', 2)] };
    expect(commitWrites(plan)).toBe(5);
    expect(refusal(plan)).toBeUndefined();
  });

  it('is refused for a missing repository but not for a machine with no rebinding target', () => {
    const machine = { ...empty(), missing: [{ kind: 'machine' as const, name: 'b1', neededBy: 'clone c' }] };
    expect(refusal(machine)).toBeUndefined();
    const repo = { ...empty(), missing: [{ kind: 'repository' as const, name: 'nas1', neededBy: 'master web@1' }] };
    expect(refusal(repo)).toMatchObject({
      code: 'missing_rebinding',
      message: expect.stringContaining('repository nas1 (for master web@1)'),
    });
  });

  it('is refused when its commit would not fit one transaction, saying how many items it would write', () => {
    const names = Array.from({ length: 33 }, (_, i) => master(`m${i}`, 1));
    const plan = { ...empty(), masters: names };
    expect(commitWrites(plan)).toBe(99);
    expect(commitWrites(plan)).toBeGreaterThan(MAX_COMMIT_WRITES);
    expect(refusal(plan)).toMatchObject({ code: 'import_too_large', message: expect.stringMatching(/write 99 items/) });
    expect(refusal({ ...plan, masters: names.slice(1) })).toBeUndefined();
  });
});
