// The single DynamoDB table: key names, item keys and the table definition (used by the CDK stack
// and by tests that create the table in dynalite). One table holds runs, per-stage progress
// counters (under the run's key) and recorded shards (spread over SHARD_PARTITIONS keys per run).
// Deduplication keeps no items here (lib/stages/dedup.ts). LLM rate windows live here too (tiny, TTL).
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

export const PK = 'pk';
export const SK = 'sk';
/** Epoch seconds; DynamoDB's TTL deletes the item some time after. */
export const TTL_ATTRIBUTE = 'expiresAt';

/** Shard items of a run are spread over this many partition keys (a burst of Lambdas recording shards does not hit one). */
export const SHARD_PARTITIONS = 16;

function spread(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return (h >>> 0) % SHARD_PARTITIONS;
}

export const keys = {
  run: (runId: string) => ({ pk: `RUN#${runId}`, sk: 'RUN' }),
  /** A recorded shard: partition by a hash of the shard id, sort key by stage then shard. */
  shard: (runId: string, stage: string, shard: string) => ({ pk: keys.shardPartition(runId, spread(shard)), sk: `${stage}#${shard}` }),
  shardPartition: (runId: string, n: number) => `SH#${runId}#${n}`,
  shardPrefix: (stage?: string) => (stage ? `${stage}#` : ''),
  /** A stage's counters (no shard list: it stays ~200 bytes at any run size). */
  progress: (runId: string, stage: string) => ({ pk: `RUN#${runId}`, sk: `PROGRESS#${stage}` }),
  progressPrefix: 'PROGRESS#',
  /** One window of an LLM key's global rate counters (lib/aws/dynamo-rate-limit-store.ts): a
   * partition per window, so no item or partition grows with time. */
  rateWindow: (scope: string, window: number) => ({ pk: `RATE#${scope}#${window}`, sk: 'RATE' }),
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
