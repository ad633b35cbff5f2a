/** The agent's outcome of a task, checked against the task's contract before anything is committed. */
import { checkOutcome, type TaskName, type TaskOutcome } from '../../statemachines/tasks';
import { MalformedOutcomeError } from '../errors';

export function outcomeOf<T extends TaskName>(task: T, raw: unknown): TaskOutcome<T> {
  const checked = checkOutcome(task, raw);
  if (!checked.ok) throw new MalformedOutcomeError(task, checked.violation.field, checked.violation.problem);
  return checked.value;
}
