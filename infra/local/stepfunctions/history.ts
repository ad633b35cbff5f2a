import type { StateMachine } from 'aws-local-stepfunctions';

/** The event type the runner reports through `run().eventLogs` (the library does not export it by name). */
export type LibraryEvent = ReturnType<StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer E> ? E : never;

export interface HistoryEvent {
  id: number;
  previousEventId: number;
  /** Epoch seconds, as the AWS JSON protocol encodes timestamps. */
  timestamp: number;
  type: string;
  [detailsKey: string]: unknown;
}

const NOT_TRUNCATED = { truncated: false };

/**
 * The GetExecutionHistory events of one execution: state and Map iteration events from the runner, plus
 * execution, Lambda and activity events recorded by the endpoint. A subset of what AWS records.
 */
export class ExecutionHistory {
  private readonly events: HistoryEvent[] = [];

  /** Details go under `<type with a lower-case first letter>EventDetails`, the AWS naming. */
  add(type: string, details?: Record<string, unknown>, detailsKey = defaultDetailsKey(type)): void {
    const id = this.events.length + 1;
    const event: HistoryEvent = { id, previousEventId: id - 1, timestamp: Date.now() / 1000, type };
    if (details) event[detailsKey] = details;
    this.events.push(event);
  }

  addLibraryEvent(event: LibraryEvent): void {
    switch (event.type) {
      case 'StateEntered':
        this.add(
          `${event.state.type}StateEntered`,
          {
            name: event.state.name,
            input: JSON.stringify(event.state.input ?? null),
            inputDetails: NOT_TRUNCATED,
          },
          'stateEnteredEventDetails',
        );
        return;
      case 'StateExited':
        this.add(
          `${event.state.type}StateExited`,
          {
            name: event.state.name,
            output: JSON.stringify(event.state.output ?? null),
            outputDetails: NOT_TRUNCATED,
          },
          'stateExitedEventDetails',
        );
        return;
      case 'MapIterationStarted':
      case 'MapIterationSucceeded':
      case 'MapIterationFailed':
        this.add(event.type, { name: event.parentState.name, index: event.index });
        return;
      default:
        // Execution events are recorded by the endpoint itself, which knows the final error and cause;
        // the runner's StateFailed/Retried/Caught events have no AWS counterpart.
        return;
    }
  }

  all(): HistoryEvent[] {
    return [...this.events];
  }
}

function defaultDetailsKey(type: string): string {
  return `${type.charAt(0).toLowerCase()}${type.slice(1)}EventDetails`;
}

export function jsonText(value: unknown): string {
  return JSON.stringify(value ?? null);
}
