/**
 * Uploads: an object created under uploads/masters/ in the bucket reaches the functions as an
 * EventBridge "Object Created" event. Events that cannot be delivered, and invocations that keep
 * failing, land in a dead-letter queue instead of vanishing.
 */
import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';

export const UPLOAD_PREFIX = 'uploads/masters/';

export class Uploads extends Construct {
  readonly rule: events.Rule;
  readonly deadLetters: sqs.Queue;

  constructor(scope: Construct, id: string, props: { bucket: s3.IBucket; function: lambda.Function }) {
    super(scope, id);
    this.deadLetters = new sqs.Queue(this, 'DeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    NagSuppressions.addResourceSuppressions(this.deadLetters, [
      {
        id: 'AwsSolutions-SQS3',
        reason:
          "This queue is the dead-letter queue of the upload rule and of the functions' asynchronous invocations.",
      },
    ]);
    this.rule = new events.Rule(this, 'Rule', {
      description: `Objects created under ${UPLOAD_PREFIX} go to the functions`,
      eventPattern: {
        source: ['aws.s3'],
        detailType: ['Object Created'],
        detail: { bucket: { name: [props.bucket.bucketName] }, object: { key: [{ prefix: UPLOAD_PREFIX }] } },
      },
    });
    this.rule.addTarget(
      new targets.LambdaFunction(props.function, {
        deadLetterQueue: this.deadLetters,
        retryAttempts: 8,
        maxEventAge: Duration.hours(24),
      }),
    );
    // EventBridge invokes asynchronously: Lambda retries a failing invocation twice, then parks it here.
    props.function.configureAsyncInvoke({
      onFailure: new destinations.SqsDestination(this.deadLetters),
      retryAttempts: 2,
    });
  }
}
