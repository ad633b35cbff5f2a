/**
 * Where alarms go: an SNS topic (encrypted with a key CloudWatch may use, TLS only), with an
 * optional e-mail subscription.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export class Alarms extends Construct {
  readonly topic: sns.Topic;
  readonly action: cloudwatch.IAlarmAction;

  constructor(scope: Construct, id: string, props: { email?: string }) {
    super(scope, id);
    // The AWS managed SNS key cannot be used by CloudWatch alarms; this key can.
    const key = new kms.Key(this, 'Key', { description: 'ENCOMPASS alarm topic', enableKeyRotation: true });
    key.grant(new iam.ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
    this.topic = new sns.Topic(this, 'Topic', { displayName: 'ENCOMPASS alarms', masterKey: key, enforceSSL: true });
    if (props.email) this.topic.addSubscription(new subscriptions.EmailSubscription(props.email));
    this.action = new actions.SnsAction(this.topic);
  }

  /** Invocations that threw: workflow steps and upload events (an HTTP request ends in a response, even a 500). */
  watchFunction(fn: lambda.IFunction) {
    this.alarm('FunctionErrors', fn.metricErrors({ period: Duration.minutes(5) }), `${fn.functionName} threw`);
  }

  /** Upload events the functions could not take, parked in the dead-letter queue. */
  watchDeadLetters(queue: sqs.IQueue) {
    this.alarm(
      'UploadEventsDeadLettered',
      queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5) }),
      'upload events were dead-lettered: redrive them after fixing the cause',
    );
  }

  private alarm(id: string, metric: cloudwatch.IMetric, description: string) {
    new cloudwatch.Alarm(this, id, {
      metric,
      alarmDescription: description,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }).addAlarmAction(this.action);
  }
}
