// The single DynamoDB table: key names, item keys and the table definition (used by the CDK stack
// and by tests that create the table in dynalite). One table holds runs, shards and per-stage
// progress, under the run's partition prefix. (Deduplication keeps no items here: lib/stages/dedup.ts.)
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

export const PK = 'pk';
export const SK = 'sk';
/** Epoch seconds; DynamoDB's TTL deletes the item some time after. */
export const TTL_ATTRIBUTE = 'expiresAt';

export const keys = {
  run: (runId: string) => ({ pk: `RUN#${runId}`, sk: 'RUN' }),
  shard: (runId: string, stage: string, shard: string) => ({ pk: `RUN#${runId}`, sk: `SHARD#${stage}#${shard}` }),
  shardPrefix: (stage?: string) => (stage ? `SHARD#${stage}#` : 'SHARD#'),
  progress: (runId: string, stage: string) => ({ pk: `RUN#${runId}`, sk: `PROGRESS#${stage}` }),
};

export function tableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: PK, AttributeType: 'S' },
      { AttributeName: SK, AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: PK, KeyType: 'HASH' },
      { AttributeName: SK, KeyType: 'RANGE' },
    ],
  };
}

export function expiryFromNow(days: number, nowMs = Date.now()): number {
  return Math.floor(nowMs / 1000) + Math.round(days * 86400);
}

/** True for the SDK's ConditionalCheckFailedException (real DynamoDB and dynalite). */
export function isConditionFailed(err: unknown): boolean {
  const name = (err as { name?: string; __type?: string })?.name ?? '';
  return name === 'ConditionalCheckFailedException' || /ConditionalCheckFailed/.test(String((err as Error)?.message ?? ''));
}
