/** The state machine definitions: valid ASL, generated from the lifecycle table, and faithful to it. */
import { readFile } from 'node:fs/promises';
import aslValidator from 'asl-validator';
import { describe, expect, it } from 'vitest';
import { machines } from '../../statemachines/generate';
import { transitions } from '../../statemachines/lifecycle';

const names = Object.keys(machines) as (keyof typeof machines)[];
const load = async (name: string) =>
  JSON.parse(await readFile(new URL(`../../statemachines/${name}.asl.json`, import.meta.url), 'utf8'));
const withArns = (def: unknown) =>
  JSON.parse(
    JSON.stringify(def)
      .replaceAll('${AgentActivityArn}', 'arn:aws:states:us-east-1:000000000000:activity:encompass-local-agent')
      .replaceAll('${StepsFunctionArn}', 'arn:aws:lambda:us-east-1:000000000000:function:encompass-steps'),
  );

type State = {
  Type: string;
  Resource?: string;
  Parameters?: { task?: string };
  Next?: string;
  TimeoutSeconds?: number;
  HeartbeatSeconds?: number;
  Retry?: unknown[];
  Catch?: unknown[];
  Default?: string;
  Choices?: { StringEquals: string; Next: string }[];
};

describe('state machine definitions', () => {
  it.each(names)('%s.asl.json is what the generator writes from the table', async (name) => {
    expect(await load(name)).toEqual(JSON.parse(JSON.stringify(machines[name]())));
  });

  it.each(names)('%s.asl.json is valid ASL', async (name) => {
    const result = aslValidator(withArns(await load(name)));
    expect(result.errors).toEqual([]);
    expect(result.isValid).toBe(true);
  });

  it.each(names)('%s: every Task has TimeoutSeconds, Retry and Catch (or is the failure recorder)', async (name) => {
    const def = await load(name);
    for (const [id, s] of Object.entries(def.States as Record<string, State>)) {
      if (s.Type !== 'Task') continue;
      expect(s.TimeoutSeconds, id).toBeGreaterThan(0);
      expect(s.Retry?.length, id).toBeGreaterThan(0);
      if (id !== 'RecordFailure') expect(s.Catch?.length, id).toBeGreaterThan(0);
      if (s.Resource === '${AgentActivityArn}') expect(s.HeartbeatSeconds, id).toBeLessThan(60);
    }
  });

  it('lets the transition machine perform only transitions of the lifecycle table, each with its agent task', async () => {
    const def = await load('transition');
    const states = def.States as Record<string, State>;
    const route = states[def.StartAt]!;
    const performed = new Map<string, string | null>();
    for (const choice of route.Choices!) {
      const target = states[choice.Next]!;
      performed.set(choice.StringEquals, target.Type === 'Task' ? target.Parameters!.task! : null);
      // Whatever branch runs, it ends in the one bookkeeping step that applies the table.
      expect(target.Next).toBe('Commit');
    }
    const table = new Map(transitions.map((t) => [t.event as string, t.task as string | null]));
    expect(performed).toEqual(table);
    expect(states[route.Default!]!.Next).toBe('RecordFailure');
  });

  it.each([
    ['clone', '$.input.target.repository', undefined],
    ['import', '$.input.repository', '$.input.pull'],
  ] as const)(
    '%s: a commit that did not happen discards the image the agent reported (only a pulled one for import)',
    async (name, repository, only) => {
      const states = (await load(name)).States as Record<string, any>;
      const discard = states.Discard;
      expect(discard.Parameters).toMatchObject({
        task: 'destroy',
        input: { image: { 'repository.$': repository, 'path.$': '$.outcome.path' } },
      });
      const entry = only ? 'Made' : 'Discard';
      expect(states.Commit.Catch[0].Next).toBe(entry);
      expect(states.Rejected.Next).toBe(entry);
      if (only) {
        expect(states.Made.Choices).toEqual([{ Variable: only, IsPresent: true, Next: 'Discard' }]);
        expect(states.Made.Default).toBe('RecordFailure');
      }
    },
  );

  it('lets a relocation remove the old image only once its records are switched, and remove the copy otherwise', async () => {
    const states = (await load('transition')).States as Record<string, any>;
    expect(states.Commit).toMatchObject({ ResultPath: '$.committed', Next: 'Committed' });
    expect(states.Committed.Choices).toEqual([
      {
        And: [
          { Variable: '$.event', StringEquals: 'relocate' },
          { Variable: '$.committed.status', StringEquals: 'switched' },
        ],
        Next: 'ReleaseRelocate',
      },
      { Variable: '$.event', StringEquals: 'relocate', Next: 'Undo' },
    ]);
    expect(states.Committed.Default).toBe('Done');
    expect(states.ReleaseRelocate.Parameters).toMatchObject({
      task: 'destroy',
      input: { 'image.$': '$.input.source' },
    });
    // A failed release still ends the operation, with what is left named.
    expect(states.ReleaseRelocate.Catch).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: '$.released', Next: 'Released' },
    ]);
    expect(states.Released.Parameters).toMatchObject({ step: 'released', 'released.$': '$.released' });
    const undo = states.Undo.Choices.find((c: any) => c.StringEquals === 'relocate');
    expect(states[undo.Next].Parameters).toMatchObject({ task: 'destroy', input: { 'image.$': '$.input.target' } });
  });

  it('routes each repository action to its agent task, and anything else to the failure recorder', async () => {
    const states = (await load('repository')).States as Record<string, any>;
    const routed = Object.fromEntries(
      states.Route.Choices.map((c: any) => [c.StringEquals, states[c.Next].Parameters.task]),
    );
    expect(routed).toEqual({ check: 'check', remove_orphan: 'destroy' });
    expect(states[states.Route.Default].Next).toBe('RecordFailure');
  });
});
