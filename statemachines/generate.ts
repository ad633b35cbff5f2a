/**
 * Writes the ASL documents from the lifecycle table, so the state machines can only perform the
 * transitions the table allows. Run `npm run gen:statemachines` after changing the table; a test
 * fails while the committed files differ from what this writes.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { AGENT_TIMEOUT_SECONDS, HEARTBEAT_SECONDS, MEMBER_WAIT_SECONDS } from './constants';
import { transitions } from './lifecycle';
import { type ReleaseSpec, releaseOf, type TaskName, type UndoSpec, undoOf } from './tasks';

const stepsRetry = [{ ErrorEquals: ['States.ALL'], IntervalSeconds: 1, MaxAttempts: 4, BackoffRate: 2 }];

function agentTask(task: TaskName, next: string, input: unknown = '$.input') {
  return {
    Type: 'Task',
    Comment: `agent task "${task}" on the site's edge agent`,
    Resource: '${AgentActivityArn}',
    Parameters: {
      task,
      'operation.$': '$.operation',
      ...(typeof input === 'string' ? { 'input.$': input } : { input }),
    },
    ResultPath: '$.outcome',
    HeartbeatSeconds: HEARTBEAT_SECONDS,
    TimeoutSeconds: AGENT_TIMEOUT_SECONDS,
    Retry: [
      { ErrorEquals: ['Agent.Transient'], IntervalSeconds: 2, MaxAttempts: 2, BackoffRate: 2 },
      // An agent that does not reach the task's shared repository hands it back, for another agent of the site.
      { ErrorEquals: ['not_reached'], IntervalSeconds: 1, MaxAttempts: 6, BackoffRate: 1 },
      // An agent that restarts mid-task gets the task again; its journal keeps it from doing it twice.
      { ErrorEquals: ['States.HeartbeatTimeout'], IntervalSeconds: 1, MaxAttempts: 1 },
    ],
    Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'RecordFailure' }],
    Next: next,
  };
}

/** What the workflow tells its bookkeeping steps of the operation's time (timing.ts). */
const timing = { 'startedAt.$': '$$.Execution.StartTime' };

/** Bookkeeping: the functions record the outcome (or the failure) in DynamoDB and S3. */
const tail = {
  Commit: {
    Type: 'Task',
    Comment: 'record the outcome: the only place a workflow changes metadata',
    Resource: '${StepsFunctionArn}',
    Parameters: { step: 'commit', 'operation.$': '$.operation', 'outcome.$': '$.outcome', timing },
    TimeoutSeconds: 60,
    Retry: stepsRetry,
    Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'RecordFailure' }],
    End: true,
  },
  RecordFailure: {
    Type: 'Task',
    Comment: 'record the failure: release locks, remove records of what was never made',
    Resource: '${StepsFunctionArn}',
    Parameters: { step: 'fail', 'operation.$': '$.operation', 'error.$': '$.error', timing },
    TimeoutSeconds: 60,
    Retry: stepsRetry,
    Next: 'Failed',
  },
  Failed: { Type: 'Fail', Error: 'OperationFailed', Cause: 'see the operation record for the error' },
};

/** `power_on` → `PowerOn`: a state's name. */
const stateName = (event: string) =>
  event
    .split('_')
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join('');

/**
 * An agent task that makes an image, followed by its commit. When the commit did not happen (the
 * functions refused the outcome, or could not record it), the image has no record, so it is removed:
 * `destroy` of the path the agent reported. A commit that finds the operation already ended discards
 * nothing. `discardIf` narrows it to workflows whose input says the task made the image.
 */
function makingMachine(
  comment: string,
  task: TaskName,
  repository: string,
  discardIf?: { Variable: string; IsPresent: true },
) {
  const discard = {
    ...agentTask('destroy', 'RecordFailure', { image: { 'repository.$': repository, 'path.$': '$.outcome.path' } }),
    Comment: 'remove the image the agent made: it has no record',
    ResultPath: '$.discarded',
    Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.discardError', Next: 'RecordFailure' }],
  };
  const made = discardIf
    ? {
        Made: {
          Type: 'Choice',
          Comment: 'only an image the task made is discarded; one that was there before is left alone',
          Choices: [{ ...discardIf, Next: 'Discard' }],
          Default: 'RecordFailure',
        },
      }
    : {};
  const toDiscard = discardIf ? 'Made' : 'Discard';
  return {
    Comment: comment,
    StartAt: 'Agent',
    TimeoutSeconds: AGENT_TIMEOUT_SECONDS + 600,
    States: {
      Agent: agentTask(task, 'Commit'),
      ...tail,
      Commit: {
        ...tail.Commit,
        ResultPath: '$.committed',
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: toDiscard }],
        End: undefined,
        Next: 'Committed',
      },
      Committed: {
        Type: 'Choice',
        Comment: 'the functions may have refused the outcome: the operation then failed',
        Choices: [{ Variable: '$.committed.status', StringEquals: 'failed', Next: 'Rejected' }],
        Default: 'Done',
      },
      Rejected: {
        Type: 'Pass',
        Result: { Error: 'OutcomeRejected', Cause: "the functions refused the agent's outcome; see the operation" },
        ResultPath: '$.error',
        Next: toDiscard,
      },
      ...made,
      Discard: discard,
      Done: { Type: 'Succeed' },
    },
  };
}

/** Agent work outside a clone's lifecycle, one branch per action: each runs one agent task and commits. */
function actionsMachine(comment: string, of: string, actions: Record<string, TaskName>) {
  const states: Record<string, unknown> = {
    Route: {
      Type: 'Choice',
      Comment: `one branch per ${of} action`,
      Choices: Object.keys(actions).map((a) => ({ Variable: '$.action', StringEquals: a, Next: stateName(a) })),
      Default: 'UnknownAction',
    },
    UnknownAction: {
      Type: 'Pass',
      Result: { Error: 'UnknownAction', Cause: `the action is not one of the ${of} workflow` },
      ResultPath: '$.error',
      Next: 'RecordFailure',
    },
  };
  for (const [action, task] of Object.entries(actions)) states[stateName(action)] = agentTask(task, 'Commit');
  return {
    Comment: comment,
    StartAt: 'Route',
    TimeoutSeconds: AGENT_TIMEOUT_SECONDS + 600,
    States: { ...states, ...tail },
  };
}

/** The agent work on a repository as a whole: check it, or remove an orphan. */
export const repositoryMachine = () =>
  actionsMachine('Work on a repository as a whole: the agent does it, the functions record it', 'repository', {
    check: 'check',
    remove_orphan: 'destroy',
  });

/**
 * The agent work on machines, or on an image, outside a clone's lifecycle: a health check, a hook, a
 * discovery, and the power corrections a discovery asks for.
 */
export const machineMachine = () =>
  actionsMachine('Work on machines or an image: the agent does it, the functions record it', 'machine', {
    health_check: 'health',
    hook: 'hook',
    discover: 'discover',
    power_on: 'power_on',
    power_off: 'power_off',
  });

/** The undo (or release) task's input as Parameters: each field from the task's input (`$.input`). */
const undoParameters = (spec: UndoSpec | ReleaseSpec) =>
  Object.fromEntries(Object.entries(spec.input).map(([field, from]) => [`${field}.$`, `$.input.${from}`]));

/**
 * A commit that fails after the agent changed the image: the agent undoes the change first, then
 * the failure is recorded with what the undo did (`$.undo`: its outcome, or its error), so an
 * operation never reports failure while its change is still in the image.
 */
function undoStates(events: readonly { event: string; task: TaskName | null }[]) {
  const undoable = events.flatMap((t) => {
    const spec = undoOf(t.task);
    return spec ? [{ event: t.event, undo: spec.task, spec }] : [];
  });
  const states: Record<string, unknown> = {
    Undo: {
      Type: 'Choice',
      Comment: 'a change the agent made that cannot be committed is undone before the failure is recorded',
      Choices: undoable.map((u) => ({ Variable: '$.event', StringEquals: u.event, Next: `Undo${stateName(u.undo)}` })),
      Default: 'RecordFailure',
    },
    RecordUndone: {
      ...tail.RecordFailure,
      Comment: 'record the failure and what undoing the change did',
      Parameters: { ...tail.RecordFailure.Parameters, 'undo.$': '$.undo' },
      // Recording what the undo did is an extra; the failure itself must be recorded in any case.
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.recordError', Next: 'RecordFailure' }],
    },
  };
  for (const { undo, spec } of new Map(undoable.map((u) => [u.undo, u])).values())
    states[`Undo${stateName(undo)}`] = {
      ...agentTask(undo, 'RecordUndone', undoParameters(spec)),
      Comment: `undo the change on the agent ("${undo}")`,
      ResultPath: '$.undo',
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.undo', Next: 'RecordUndone' }],
    };
  return states;
}

/**
 * After the commit. An event whose task has a release (releaseTasks) runs it once the commit says the
 * records are switched, and the `released` step ends the operation with what it did (a failed release
 * leaves its leftover named, and the operation still succeeded). When the commit did not switch them
 * (the operation had ended), what the agent made has no record: it is undone.
 */
function releaseStates(events: readonly { event: string; task: TaskName | null }[]) {
  const releasing = events.flatMap((t) => {
    const spec = releaseOf(t.task);
    return spec ? [{ event: t.event, spec }] : [];
  });
  const states: Record<string, unknown> = {
    Committed: {
      Type: 'Choice',
      Comment: 'an event with a release runs it once its records are switched',
      Choices: releasing.flatMap(({ event }) => [
        {
          And: [
            { Variable: '$.event', StringEquals: event },
            { Variable: '$.committed.status', StringEquals: 'switched' },
          ],
          Next: `Release${stateName(event)}`,
        },
        { Variable: '$.event', StringEquals: event, Next: 'Undo' },
      ]),
      Default: 'Done',
    },
    Released: {
      Type: 'Task',
      Comment: 'end the operation with what the release did',
      Resource: '${StepsFunctionArn}',
      Parameters: { step: 'released', 'operation.$': '$.operation', 'released.$': '$.released' },
      TimeoutSeconds: 60,
      Retry: stepsRetry,
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'RecordFailure' }],
      End: true,
    },
    Done: { Type: 'Succeed' },
  };
  for (const { event, spec } of releasing)
    states[`Release${stateName(event)}`] = {
      ...agentTask(spec.task, 'Released', undoParameters(spec)),
      Comment: `remove ${spec.releases} ("${spec.task}")`,
      ResultPath: '$.released',
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.released', Next: 'Released' }],
    };
  return states;
}

export function transitionMachine() {
  const states: Record<string, unknown> = {
    Route: {
      Type: 'Choice',
      Comment: 'one branch per event of the lifecycle table',
      Choices: transitions.map((t) => ({ Variable: '$.event', StringEquals: t.event, Next: stateName(t.event) })),
      Default: 'UnknownEvent',
    },
    UnknownEvent: {
      Type: 'Pass',
      Result: { Error: 'UnknownEvent', Cause: 'the event is not in the lifecycle table' },
      ResultPath: '$.error',
      Next: 'RecordFailure',
    },
  };
  for (const t of transitions) {
    states[stateName(t.event)] = t.task
      ? agentTask(t.task, 'Commit')
      : { Type: 'Pass', Comment: `${t.event}: metadata only`, Result: {}, ResultPath: '$.outcome', Next: 'Commit' };
  }
  return {
    Comment: 'A lifecycle transition of a clone: the agent does the work, the functions record it',
    StartAt: 'Route',
    TimeoutSeconds: AGENT_TIMEOUT_SECONDS + 600,
    States: {
      ...states,
      ...tail,
      Commit: {
        ...tail.Commit,
        // Refusals that no retry changes go to the undo at once (by code locally, by class in Lambda).
        Retry: [
          {
            ErrorEquals: ['record_too_large', 'RecordTooLargeError', 'malformed_outcome', 'MalformedOutcomeError'],
            MaxAttempts: 0,
          },
          ...stepsRetry,
        ],
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Undo' }],
        ResultPath: '$.committed',
        End: undefined,
        Next: 'Committed',
      },
      ...undoStates(transitions),
      ...releaseStates(transitions),
    },
  };
}

/**
 * A deployment: every member runs its chain (clone, assign, attach, activate; or the teardown) in a
 * Map bounded by the agent's slots. Each `member` step moves one member on by one operation, waiting
 * for it up to MEMBER_WAIT_SECONDS; `finish` removes a tree's relays (asking to be run `again` while
 * they go), then ends the phase, or asks for another (`next`: a rollback
 * of the members that succeeded; the roll-out of an approved service update), which runs the same Map
 * again in that mode over the members it names.
 */
export function deploymentMachine() {
  const step = (name: string, parameters: Record<string, unknown>, resultPath: string, next: string) => ({
    Type: 'Task',
    Resource: '${StepsFunctionArn}',
    Parameters: { step: name, ...parameters },
    ResultPath: resultPath,
    TimeoutSeconds: MEMBER_WAIT_SECONDS + 40,
    Retry: stepsRetry,
    Next: next,
  });
  return {
    Comment: 'A deployment: many members, each a chain of lifecycle operations, with an outcome per member',
    StartAt: 'Members',
    TimeoutSeconds: 7 * 24 * 3600,
    States: {
      Members: {
        Type: 'Map',
        Comment: "every member's chain; at most the agent's slots at once",
        ItemsPath: '$.members',
        MaxConcurrencyPath: '$.concurrency',
        ItemSelector: { 'deployment.$': '$.deployment', 'index.$': '$$.Map.Item.Value', 'mode.$': '$.mode' },
        ItemProcessor: {
          StartAt: 'Advance',
          States: {
            Advance: {
              ...step(
                'member',
                { 'deployment.$': '$.deployment', 'index.$': '$.index', 'mode.$': '$.mode' },
                '$.advance',
                'MemberDone',
              ),
              Comment: 'move the member on by one operation (the functions start it and wait for it)',
            },
            MemberDone: {
              Type: 'Choice',
              Choices: [{ Variable: '$.advance.done', BooleanEquals: true, Next: 'Member' }],
              Default: 'Advance',
            },
            Member: { Type: 'Succeed' },
          },
        },
        ResultPath: null,
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'RecordFailure' }],
        Next: 'Finish',
      },
      Finish: {
        ...step(
          'finish',
          { 'operation.$': '$.operation', 'deployment.$': '$.deployment', 'mode.$': '$.mode' },
          '$.finish',
          'NextPhase',
        ),
        Comment: "end the phase with its members' outcomes, or ask for the next phase",
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'RecordFailure' }],
      },
      NextPhase: {
        Type: 'Choice',
        Comment:
          "a phase whose tree's relays are still being removed ends again; one that asks for another (a rollback, or the roll-out of an approved update) runs it now",
        Choices: [
          { Variable: '$.finish.again', IsPresent: true, Next: 'Finish' },
          { Variable: '$.finish.next', IsPresent: true, Next: 'StartPhase' },
        ],
        Default: 'Ended',
      },
      StartPhase: {
        Type: 'Pass',
        Parameters: {
          'deployment.$': '$.deployment',
          'operation.$': '$.operation',
          'concurrency.$': '$.concurrency',
          'mode.$': '$.finish.next.mode',
          'members.$': '$.finish.next.members',
        },
        Next: 'Members',
      },
      Ended: { Type: 'Succeed' },
      RecordFailure: tail.RecordFailure,
      Failed: tail.Failed,
    },
  };
}

/**
 * Export and import of a site bundle. An export is one agent task (`bundle_write`) and its commit. An
 * import verifies every object of the bundle first (`bundle_verify`), then the functions plan it
 * (`transfer_plan`: a dry run, a refusal or nothing to copy ends the operation there), the agent copies
 * the images (`bundle_copy`), and the commit writes every record at once. A commit that does not happen
 * leaves images without records: the agent removes what this operation copied (`bundle_discard`).
 */
export function transferMachine() {
  const discard = {
    ...agentTask('bundle_discard', 'RecordFailure', '$.plan.copy'),
    Comment: 'remove the images this import copied: they have no record',
    ResultPath: '$.discarded',
    Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.discardError', Next: 'RecordFailure' }],
  };
  return {
    Comment: 'Export or import a site bundle: the agent reads and writes the bundle, the functions record it',
    StartAt: 'Route',
    TimeoutSeconds: 3 * AGENT_TIMEOUT_SECONDS + 600,
    States: {
      Route: {
        Type: 'Choice',
        Comment: 'an export, or an import',
        Choices: [
          { Variable: '$.action', StringEquals: 'export', Next: 'Export' },
          { Variable: '$.action', StringEquals: 'import', Next: 'Verify' },
        ],
        Default: 'UnknownAction',
      },
      UnknownAction: {
        Type: 'Pass',
        Result: { Error: 'UnknownAction', Cause: 'the action is neither export nor import' },
        ResultPath: '$.error',
        Next: 'RecordFailure',
      },
      Export: agentTask('bundle_write', 'Commit'),
      Verify: {
        ...agentTask('bundle_verify', 'Plan'),
        Comment: 'check every object of the bundle before anything is written',
      },
      Plan: {
        Type: 'Task',
        Comment: 'the functions plan the import from the verified manifest',
        Resource: '${StepsFunctionArn}',
        Parameters: {
          step: 'transfer_plan',
          'operation.$': '$.operation',
          'bundle.$': '$.input.bundle',
          'outcome.$': '$.outcome',
        },
        ResultPath: '$.plan',
        TimeoutSeconds: 60,
        Retry: stepsRetry,
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'RecordFailure' }],
        Next: 'Planned',
      },
      Planned: {
        Type: 'Choice',
        Comment: 'a plan that ended the operation (dry run, refusal, nothing to copy) stops here',
        Choices: [{ Variable: '$.plan.copy', IsPresent: true, Next: 'Copy' }],
        Default: 'Done',
      },
      Copy: agentTask('bundle_copy', 'Commit', '$.plan.copy'),
      ...tail,
      Commit: {
        ...tail.Commit,
        ResultPath: '$.committed',
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Discard' }],
        End: undefined,
        Next: 'Committed',
      },
      Committed: {
        Type: 'Choice',
        Comment: 'the functions may have refused the outcome: the operation then failed',
        Choices: [
          {
            And: [
              { Variable: '$.committed.status', StringEquals: 'failed' },
              { Variable: '$.plan.copy', IsPresent: true },
            ],
            Next: 'Discard',
          },
        ],
        Default: 'Done',
      },
      Discard: discard,
      Done: { Type: 'Succeed' },
    },
  };
}

export const machines = {
  // An import that pulled its image (an upload) discards it; an image that sat in the repository stays.
  import: () =>
    makingMachine('Import a master image that sits in a repository', 'import', '$.input.repository', {
      Variable: '$.input.pull',
      IsPresent: true,
    }),
  clone: () => makingMachine('Clone a master image into a new clone image', 'clone', '$.input.target.repository'),
  transition: transitionMachine,
  repository: repositoryMachine,
  machine: machineMachine,
  deployment: deploymentMachine,
  transfer: transferMachine,
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const [name, build] of Object.entries(machines)) {
    const file = new URL(`./${name}.asl.json`, import.meta.url);
    writeFileSync(file, `${JSON.stringify(build(), null, 2)}\n`);
    console.log(`wrote ${fileURLToPath(file)}`);
  }
}
