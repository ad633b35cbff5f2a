/** Typed failures of the CDK app. Each carries a snake_case `code` and, in `details`, the data a caller needs. */
import { CodedError } from '../../functions/errors';

/** Marks a failure of the CDK app; code, status, details and `cause` come from `CodedError`. */
export class AwsInfraError extends CodedError {}

/** A CDK context value (`-c key=value` or cdk.json) that the app cannot use. */
export class InvalidContextError extends AwsInfraError {
  override readonly code = 'invalid_context';
  constructor(
    readonly key: string,
    readonly value: unknown,
    why: string,
  ) {
    super(`context "${key}" = ${JSON.stringify(value)} ${why}`, { key, value });
  }
}

/** esbuild could not bundle the functions for Lambda. */
export class BundleError extends AwsInfraError {
  override readonly code = 'bundle_failed';
  constructor(
    readonly entry: string,
    options?: ErrorOptions,
  ) {
    super(
      `esbuild could not bundle ${entry} for Lambda: ${(options?.cause as Error | undefined)?.message ?? 'unknown error'}; ` +
        'fix the build error above (run `npx tsc --noEmit`) and synthesize again',
      { entry },
      options,
    );
  }
}

/** A command of infra/aws was called without what it needs. */
export class UsageError extends AwsInfraError {
  override readonly code = 'usage';
}
