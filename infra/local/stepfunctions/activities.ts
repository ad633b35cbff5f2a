import { type ArnScope, requireStatesArn, requireValidName, statesArn } from './arns';
import { ActivityDoesNotExistError } from './errors';

export interface ActivityRecord {
  arn: string;
  name: string;
  creationDate: Date;
}

/** Activities by ARN, in memory. Their parked tasks live in the ActivityTaskBroker. */
export class ActivityRegistry {
  private readonly activities = new Map<string, ActivityRecord>();

  constructor(private readonly scope: ArnScope) {}

  /** Idempotent by name, as on AWS. */
  create(name: string): ActivityRecord {
    const arn = statesArn(this.scope, 'activity', requireValidName(name));
    const existing = this.activities.get(arn);
    if (existing) return existing;
    const record = { arn, name, creationDate: new Date() };
    this.activities.set(arn, record);
    return record;
  }

  get(arn: string): ActivityRecord {
    const record = this.activities.get(requireStatesArn(arn, 'activity'));
    if (!record) throw new ActivityDoesNotExistError(arn);
    return record;
  }

  list(): ActivityRecord[] {
    return [...this.activities.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  delete(arn: string): void {
    this.activities.delete(requireStatesArn(arn, 'activity'));
  }
}
