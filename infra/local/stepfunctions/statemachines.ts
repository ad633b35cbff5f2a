import { type ArnScope, requireStatesArn, requireValidName, statesArn } from './arns';
import { type ParsedDefinition, parseDefinition } from './definition';
import {
  MissingRequiredParameterError,
  ParameterValidationError,
  StateMachineAlreadyExistsError,
  StateMachineDoesNotExistError,
} from './errors';

export type StateMachineType = 'STANDARD' | 'EXPRESS';

export interface StateMachineRecord {
  arn: string;
  name: string;
  type: StateMachineType;
  roleArn: string;
  definitionText: string;
  parsed: ParsedDefinition;
  creationDate: Date;
  updateDate?: Date;
}

export interface CreateStateMachineRequest {
  name: string;
  definition: string;
  roleArn?: string;
  type?: string;
}

/** State machines by ARN, in memory. */
export class StateMachineRegistry {
  private readonly machines = new Map<string, StateMachineRecord>();

  constructor(private readonly scope: ArnScope) {}

  /** Idempotent for the same name, definition and type (as on AWS); another definition under the name is refused. */
  create(request: CreateStateMachineRequest): StateMachineRecord {
    const name = requireValidName(request.name);
    const type = machineType(request.type);
    const arn = statesArn(this.scope, 'stateMachine', name);
    const existing = this.machines.get(arn);
    if (existing) {
      if (existing.definitionText === request.definition && existing.type === type) return existing;
      throw new StateMachineAlreadyExistsError(arn);
    }
    const record: StateMachineRecord = {
      arn,
      name,
      type,
      roleArn: request.roleArn ?? `arn:aws:iam::${this.scope.accountId}:role/local-stepfunctions`,
      definitionText: request.definition,
      parsed: parseDefinition(request.definition),
      creationDate: new Date(),
    };
    this.machines.set(arn, record);
    return record;
  }

  /** Running executions keep the definition they started with, as on AWS. */
  update(arn: string, definition?: string, roleArn?: string): StateMachineRecord {
    const record = this.get(arn);
    if (definition === undefined && roleArn === undefined) {
      throw new MissingRequiredParameterError(['definition', 'roleArn']);
    }
    const parsed = definition === undefined ? record.parsed : parseDefinition(definition);
    const updated: StateMachineRecord = {
      ...record,
      definitionText: definition ?? record.definitionText,
      parsed,
      roleArn: roleArn ?? record.roleArn,
      updateDate: new Date(),
    };
    this.machines.set(arn, updated);
    return updated;
  }

  get(arn: string): StateMachineRecord {
    const record = this.machines.get(requireStatesArn(arn, 'stateMachine'));
    if (!record) throw new StateMachineDoesNotExistError(arn);
    return record;
  }

  list(): StateMachineRecord[] {
    return [...this.machines.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Deleting an unknown machine succeeds, as on AWS; its running executions carry on. */
  delete(arn: string): void {
    this.machines.delete(requireStatesArn(arn, 'stateMachine'));
  }
}

function machineType(type: string | undefined): StateMachineType {
  if (type === undefined || type === 'STANDARD' || type === 'EXPRESS') return type ?? 'STANDARD';
  throw new ParameterValidationError('type', 'must be STANDARD or EXPRESS');
}
