/**
 * A delivered task, checked against its contract before anything runs: the repository slot it
 * waits for and the call that runs it. A task this agent does not know, or whose input does not
 * fit its contract, still gets a `run`: one that fails with the field at fault, so the failure
 * takes the same journaled path back to the workflow as any other.
 */
import { checkInput, isTask, slotOf, type TaskName, taskNames } from '../../statemachines/tasks';
import { MalformedTaskError, UnknownTaskError } from '../errors';
import type { Task, TaskContext } from './context';
import { tasks } from './index';

export interface Prepared {
  /** The repository whose slot the task waits for; undefined for machine tasks. */
  slot?: string;
  run(ctx: TaskContext): Promise<Record<string, unknown>>;
}

function prepareTask<T extends TaskName>(name: T, raw: unknown): Prepared {
  const checked = checkInput(name, raw);
  if (!checked.ok) return refuse(new MalformedTaskError(name, checked.violation.field, checked.violation.problem));
  const task: Task<T> = tasks[name];
  return { slot: slotOf(name, checked.value), run: (ctx) => task(checked.value, ctx) };
}

const refuse = (error: Error): Prepared => ({ run: () => Promise.reject(error) });

export function prepare(task: string, input: unknown): Prepared {
  return isTask(task) ? prepareTask(task, input) : refuse(new UnknownTaskError(task, taskNames));
}
