import { join } from 'node:path';
import {
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  ListTablesCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DynamoDBLocal, dynamoDBClientConfig, startDynamoDB } from '../../../infra/local/dynamodb';
import { freePort } from '../../../infra/local/ports';
import { aws, pidIsGone, tempDir } from './helpers';

describe('DynamoDB Local', () => {
  let home: { path: string; remove: () => Promise<void> };
  let port: number;
  let db: DynamoDBLocal | undefined;
  const start = () =>
    startDynamoDB({ dataDir: join(home.path, 'dynamodb'), port, logFile: join(home.path, 'logs', 'dynamodb.log') });
  const client = () => new DynamoDBClient(dynamoDBClientConfig(`http://127.0.0.1:${port}`));

  beforeAll(async () => {
    home = await tempDir('dynamodb');
    port = await freePort();
    db = await start();
  }, 90_000);

  afterAll(async () => {
    await db?.stop();
    await home.remove();
  });

  it('answers on a 127.0.0.1 endpoint at the given port', () => {
    expect(db?.endpoint).toBe(`http://127.0.0.1:${port}`);
  });

  it('runs transactions and cancels one whose condition check fails', async () => {
    const ddb = client();
    await ddb.send(
      new CreateTableCommand({
        TableName: 'things',
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    await ddb.send(
      new TransactWriteItemsCommand({
        TransactItems: [
          { Put: { TableName: 'things', Item: { pk: { S: 'a' }, v: { N: '1' } } } },
          { Put: { TableName: 'things', Item: { pk: { S: 'b' }, v: { N: '2' } } } },
        ],
      }),
    );
    const failing = ddb.send(
      new TransactWriteItemsCommand({
        TransactItems: [
          {
            ConditionCheck: {
              TableName: 'things',
              Key: { pk: { S: 'a' } },
              ConditionExpression: 'v = :two',
              ExpressionAttributeValues: { ':two': { N: '2' } },
            },
          },
          { Put: { TableName: 'things', Item: { pk: { S: 'c' }, v: { N: '3' } } } },
        ],
      }),
    );
    await expect(failing).rejects.toBeInstanceOf(TransactionCanceledException);
    const c = await ddb.send(new GetItemCommand({ TableName: 'things', Key: { pk: { S: 'c' } } }));
    expect(c.Item).toBeUndefined();
    ddb.destroy();
  });

  it('lists its tables to the AWS CLI, whatever credentials it signs with', async () => {
    const out = await aws([
      'dynamodb',
      'list-tables',
      '--endpoint-url',
      `http://127.0.0.1:${port}`,
      '--region',
      'us-east-1',
    ]);
    expect(JSON.parse(out).TableNames).toContain('things');
  });

  it('keeps tables and items across a restart on the same data directory', async () => {
    await db?.stop();
    db = await start();
    const ddb = client();
    const tables = await ddb.send(new ListTablesCommand({}));
    expect(tables.TableNames).toContain('things');
    const a = await ddb.send(new GetItemCommand({ TableName: 'things', Key: { pk: { S: 'a' } } }));
    expect(a.Item?.v?.N).toBe('1');
    ddb.destroy();
  }, 90_000);

  it('leaves no java process behind once stopped', async () => {
    const other = await startDynamoDB({
      dataDir: join(home.path, 'other'),
      port: await freePort(),
      logFile: join(home.path, 'logs', 'other.log'),
    });
    expect(pidIsGone(other.pid)).toBe(false);
    await other.stop();
    expect(pidIsGone(other.pid)).toBe(true);
  }, 90_000);
});
