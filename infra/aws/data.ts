/**
 * Where the control plane keeps its state: the single DynamoDB table (the same keys and indexes
 * the local stack creates, from functions/store/schema.ts) and the bucket (catalog/, operations/,
 * uploads/masters/, sites/<site>/), with a second bucket for the first one's access logs.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import { tableSchema } from '../../functions/store/schema';

export interface DataProps {
  /** Days an operation log stays under `operations/`. */
  operationLogDays: number;
}

const string = (name: string) => ({ name, type: dynamodb.AttributeType.STRING });

export class Data extends Construct {
  readonly table: dynamodb.Table;
  readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: DataProps) {
    super(scope, id);
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: string(tableSchema.partitionKey),
      sortKey: string(tableSchema.sortKey),
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: tableSchema.ttlAttribute,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const index of tableSchema.indexes) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.name,
        partitionKey: string(index.partitionKey),
        sortKey: string(index.sortKey),
        projectionType: dynamodb.ProjectionType.ALL,
      });
    }

    const accessLogs = new s3.Bucket(this, 'AccessLogs', {
      ...secure,
      // Server access logs can only be delivered to SSE-S3 buckets.
      encryption: s3.BucketEncryption.S3_MANAGED,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(365) }],
    });
    NagSuppressions.addResourceSuppressions(accessLogs, [
      {
        id: 'AwsSolutions-S1',
        reason: 'This bucket is the destination of the data bucket access logs; logging it into itself would loop.',
      },
    ]);

    this.bucket = new s3.Bucket(this, 'Bucket', {
      ...secure,
      encryption: s3.BucketEncryption.S3_MANAGED,
      versioned: true,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'bucket/',
      lifecycleRules: [
        { id: 'abort-incomplete-multipart-uploads', abortIncompleteMultipartUploadAfter: Duration.days(7) },
        { id: 'expire-operation-logs', prefix: 'operations/', expiration: Duration.days(props.operationLogDays) },
        // Versioning guards against mistakes, not as an archive: old versions go after 90 days.
        { id: 'expire-old-versions', noncurrentVersionExpiration: Duration.days(90), expiredObjectDeleteMarker: true },
      ],
    });
    // Object-created events reach the functions through EventBridge. Set on the bucket itself rather
    // than with `eventBridgeEnabled`, which adds a custom-resource Lambda to do the same at deploy time.
    (this.bucket.node.defaultChild as s3.CfnBucket).notificationConfiguration = {
      eventBridgeConfiguration: { eventBridgeEnabled: true },
    };
  }
}

/** Settings every bucket of the stack shares: private, no ACLs, TLS only, kept when the stack goes. */
const secure = {
  blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
  objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
  enforceSSL: true,
  removalPolicy: RemovalPolicy.RETAIN,
} satisfies s3.BucketProps;
