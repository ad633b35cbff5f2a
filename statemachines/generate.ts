/**
 * Writes the ASL documents from the lifecycle table, so the state machines can only perform the
 * transitions the table allows. Run `npm run gen:statemachines` after changing the table; a test
 * fails while the committed files differ from what this writes.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { AGENT_TIMEOUT_SECONDS, HEARTBEAT_SECONDS } from './constants';
import { transitions } from './lifecycle';
import type { TaskName } from './tasks';

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
      // An agent that restarts mid-task gets the task again; its journal keeps it from doing it twice.
      { ErrorEquals: ['States.HeartbeatTimeout'], IntervalSeconds: 1, MaxAttempts: 1 },
    ],
    Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'RecordFailure' }],
    Next: next,
  };
}

/** Bookkeeping: the functions record the outcome (or the failure) in DynamoDB and S3. */
const tail = {
  Commit: {
    Type: 'Task',
    Comment: 'record the outcome: the only place a workflow changes metadata',
    Resource: '${StepsFunctionArn}',
    Parameters: { step: 'commit', 'operation.$': '$.operation', 'outcome.$': '$.outcome' },
    TimeoutSeconds: 60,
    Retry: stepsRetry,
    Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'RecordFailure' }],
    End: true,
  },
  RecordFailure: {
    Type: 'Task',
    Comment: 'record the failure: release locks, remove records of what was never made',
    Resource: '${StepsFunctionArn}',
    Parameters: { step: 'fail', 'operation.$': '$.operation', 'error.$': '$.error' },
    TimeoutSeconds: 60,
    Retry: stepsRetry,
    Next: 'Failed',
  },
  Failed: { Type: 'Fail', Error: 'OperationFailed', Cause: 'see the operation record for the error' },
};

function single(comment: string, task: TaskName) {
  return {
    Comment: comment,
    StartAt: 'Agent',
    TimeoutSeconds: AGENT_TIMEOUT_SECONDS + 600,
    States: { Agent: agentTask(task, 'Commit'), ...tail },
  };
}

/**
 * A clone whose commit did not happen (the functions refused the outcome, or could not record it)
 * has no record, so the image the agent made is removed: `destroy` of the path the agent reported.
 * A commit that finds the operation already ended discards nothing.
 */
function cloneMachine() {
  const discard = {
    ...agentTask('destroy', 'RecordFailure', {
      image: { 'repository.$': '$.input.target.repository', 'path.$': '$.outcome.path' },
    }),
    Comment: 'remove the image the agent made: it has no record',
    ResultPath: '$.discarded',
    Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.discardError', Next: 'RecordFailure' }],
  };
  return {
    Comment: 'Clone a master image into a new clone image',
    StartAt: 'Agent',
    TimeoutSeconds: AGENT_TIMEOUT_SECONDS + 600,
    States: {
      Agent: agentTask('clone', 'Commit'),
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
        Choices: [{ Variable: '$.committed.status', StringEquals: 'failed', Next: 'Rejected' }],
        Default: 'Done',
      },
      Rejected: {
        Type: 'Pass',
        Result: { Error: 'OutcomeRejected', Cause: "the functions refused the agent's outcome; see the operation" },
        ResultPath: '$.error',
        Next: 'Discard',
      },
      Discard: discard,
      Done: { Type: 'Succeed' },
    },
  };
}

const stateName = (event: string) => event[0]!.toUpperCase() + event.slice(1);

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
    States: { ...states, ...tail },
  };
}

export const machines = {
  import: () => single('Import a master image that sits in a repository', 'import'),
  clone: cloneMachine,
  transition: transitionMachine,
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const [name, build] of Object.entries(machines)) {
    const file = new URL(`./${name}.asl.json`, import.meta.url);
    writeFileSync(file, `${JSON.stringify(build(), null, 2)}\n`);
    console.log(`wrote ${fileURLToPath(file)}`);
  }
}
