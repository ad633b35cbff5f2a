/** Typed failures of the CDK app. Each carries a snake_case `code` and the data a caller needs. */

export class AwsInfraError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A CDK context value (`-c key=value` or cdk.json) that the app cannot use. */
export class InvalidContextError extends AwsInfraError {
  constructor(
    readonly key: string,
    readonly value: unknown,
    why: string,
  ) {
    super('invalid_context', `context "${key}" = ${JSON.stringify(value)} ${why}`);
  }
}

/** esbuild could not bundle the functions for Lambda. */
export class BundleError extends AwsInfraError {
  constructor(
    readonly entry: string,
    options?: { cause?: unknown },
  ) {
    super(
      'bundle_failed',
      `esbuild could not bundle ${entry} for Lambda: ${(options?.cause as Error | undefined)?.message ?? 'unknown error'}; ` +
        'fix the build error above (run `npx tsc --noEmit`) and synthesize again',
      options,
    );
  }
}

/** A command of infra/aws was called without what it needs. */
export class UsageError extends AwsInfraError {
  constructor(message: string) {
    super('usage', message);
  }
}
