/**
 * The single DynamoDB table. Every record has `pk`/`sk`; lists use two global secondary indexes:
 * `byKind` (gsi1pk = record kind, gsi1sk = creation time + id) and `byParent` (gsi2pk = parent
 * reference such as `master#<id>`, gsi2sk = creation time + id). Ephemeral records carry `ttl`.
 */
export const tableSchema = {
  partitionKey: 'pk',
  sortKey: 'sk',
  ttlAttribute: 'ttl',
  indexes: [
    { name: 'byKind', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
    { name: 'byParent', partitionKey: 'gsi2pk', sortKey: 'gsi2sk' },
  ],
} as const;

/** CreateTable input for the local stack (AWS gets the same shape from the CDK app). */
export function createTableInput(table: string) {
  const attrs = ['pk', 'sk', ...tableSchema.indexes.flatMap((i) => [i.partitionKey, i.sortKey])];
  return {
    TableName: table,
    BillingMode: 'PAY_PER_REQUEST' as const,
    AttributeDefinitions: attrs.map((AttributeName) => ({ AttributeName, AttributeType: 'S' as const })),
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' as const },
      { AttributeName: 'sk', KeyType: 'RANGE' as const },
    ],
    GlobalSecondaryIndexes: tableSchema.indexes.map((i) => ({
      IndexName: i.name,
      KeySchema: [
        { AttributeName: i.partitionKey, KeyType: 'HASH' as const },
        { AttributeName: i.sortKey, KeyType: 'RANGE' as const },
      ],
      Projection: { ProjectionType: 'ALL' as const },
    })),
  };
}
