import { InvalidArnError, InvalidNameError } from './errors';

export interface ArnScope {
  region: string;
  accountId: string;
}

export type StatesResourceType = 'stateMachine' | 'execution' | 'activity';

export function statesArn(scope: ArnScope, type: StatesResourceType, ...parts: string[]): string {
  return `arn:aws:states:${scope.region}:${scope.accountId}:${type}:${parts.join(':')}`;
}

const STATES_ARN = /^arn:aws[\w-]*:states:[\w-]*:\d*:(stateMachine|execution|activity):(.+)$/;

/** Rejects anything that is not a Step Functions ARN of the given type, the way AWS answers InvalidArn. */
export function requireStatesArn(arn: string, type: StatesResourceType): string {
  const match = STATES_ARN.exec(arn);
  if (!match || match[1] !== type) {
    throw new InvalidArnError(arn, `arn:aws:states:<region>:<account>:${type}:<name>`);
  }
  return arn;
}

/** The activity ARN a Task Resource names, or undefined when it names something else. */
export function activityArnOf(resource: string): string | undefined {
  const match = STATES_ARN.exec(resource);
  return match?.[1] === 'activity' ? resource : undefined;
}

const LAMBDA_ARN = /^arn:aws[\w-]*:lambda:[\w-]*:\d*:function:([^:]+)(:[^:]+)?$/;
const PARTIAL_LAMBDA_ARN = /^(?:\d+:)?function:([^:]+)(:[^:]+)?$/;

/** The function name in a Lambda function ARN, partial ARN or plain name (`name[:qualifier]`). */
export function lambdaFunctionName(reference: string): string | undefined {
  const match = LAMBDA_ARN.exec(reference) ?? PARTIAL_LAMBDA_ARN.exec(reference);
  if (match) return match[1];
  if (reference.startsWith('arn:')) return undefined;
  const [name] = reference.split(':');
  return name || undefined;
}

// Characters AWS refuses in state machine, execution and activity names.
const FORBIDDEN_NAME_CHARACTERS = /[\s<>{}[\]?*"#%\\^|~`$&,;:/\p{Cc}]/u;

export function requireValidName(name: string): string {
  if (name.length < 1 || name.length > 80 || FORBIDDEN_NAME_CHARACTERS.test(name)) {
    throw new InvalidNameError(name);
  }
  return name;
}
