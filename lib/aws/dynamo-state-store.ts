// StateStore on DynamoDB, single table (see table.ts). No transactions (dynalite has none, and
// they cost double), and no item that grows with the run (issue 15: the progress item used to hold
// every shard id: 400 KB at ~68k shards, each write billed at its full size). recordShard:
//   1. put the shard item if absent: `first` is whether this call's put made it;
//   2. ADD to the stage's progress item: `attempts` on every call, and the display counters
//      (done, in, kept, rejected, failed) when `first`;
//   3. if `attempts` >= expected, count the stage's shard items (a COUNT query per shard
//      partition, consistent): complete when they number >= expected.
// `attempts` is never below the distinct shards recorded: a crash between 1 and 2 is retried and
// the retry adds it, so the last shard's call always runs the exact count (a redelivery makes an
// extra count, never a missed one). The display counters can miss a shard whose first attempt
// died between 1 and 2 (status only; stats and fan-in read the shard items).
import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { RunFailure, RunState, ShardState, StageName, StateStore } from '../store/ports.ts';
import { expiryFromNow, isConditionFailed, keys, SHARD_PARTITIONS, TTL_ATTRIBUTE } from './table.ts';

export interface DynamoStateStoreOptions {
  /** Items expire (DynamoDB TTL) this many days after they are written. Default 30. */
  ttlDays?: number;
}

export class DynamoStateStore implements StateStore {
  private readonly ttlDays: number;
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
    opts: DynamoStateStoreOptions = {},
  ) {
    this.ttlDays = opts.ttlDays ?? 30;
  }

  async createRun(run: RunState): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...keys.run(run.runId), ...run, [TTL_ATTRIBUTE]: expiryFromNow(this.ttlDays) },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailed(err)) return false;
      throw err;
    }
  }

  async getRun(runId: string): Promise<RunState | null> {
    const res = await this.doc.send(new GetCommand({ TableName: this.table, Key: keys.run(runId), ConsistentRead: true }));
    if (!res.Item) return null;
    const { runId: id, createdAt, status, input, mode, expected, failure } = res.Item as RunState;
    return { runId: id, createdAt, status, input, mode, expected: expected ?? {}, ...(failure ? { failure } : {}) };
  }

  /** Marks a run failed with the shard that cannot finish and why (a finished run stays done). */
  async failRun(runId: string, failure: RunFailure): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.run(runId),
          UpdateExpression: 'SET #s = :failed, #f = :f',
          ConditionExpression: 'attribute_exists(pk) AND #s <> :done',
          ExpressionAttributeNames: { '#s': 'status', '#f': 'failure' },
          ExpressionAttributeValues: { ':failed': 'failed', ':f': failure, ':done': 'done' },
        }),
      );
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
    }
  }

  /** Back to running after a redrive (the failure is forgotten; a new one marks it again). */
  async reopenRun(runId: string): Promise<void> {
    await this.updateRun(runId, 'SET #s = :s REMOVE #f', { '#s': 'status', '#f': 'failure' }, { ':s': 'running' });
  }

  async setRunStatus(runId: string, status: RunState['status']): Promise<void> {
    await this.updateRun(runId, 'SET #s = :s', { '#s': 'status' }, { ':s': status });
  }

  async setExpected(runId: string, branch: string, shards: number): Promise<void> {
    await this.updateRun(runId, 'SET #e.#b = :n', { '#e': 'expected', '#b': branch }, { ':n': shards });
  }

  private async updateRun(runId: string, expr: string, names: Record<string, string>, values: Record<string, unknown>) {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.run(runId),
          UpdateExpression: expr,
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
    } catch (err) {
      if (isConditionFailed(err)) throw new Error(`unknown run "${runId}"`);
      throw err;
    }
  }

  async recordShard(state: ShardState, expected?: number): Promise<{ first: boolean; complete: boolean }> {
    const expiresAt = expiryFromNow(this.ttlDays);
    let first = true;
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...keys.shard(state.runId, state.stage, state.shard), ...state, [TTL_ATTRIBUTE]: expiresAt },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (err) {
      if (!isConditionFailed(err)) throw err; // already written by an earlier attempt: keep it
      first = false;
    }
    const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);
    const c = state.counts;
    const res = await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: keys.progress(state.runId, state.stage),
        UpdateExpression: first
          ? 'ADD attempts :one, doneCount :one, inCount :in, keptCount :kept, rejectedCount :rej, failedCount :fail SET #ttl = :ttl'
          : 'ADD attempts :one SET #ttl = :ttl',
        ExpressionAttributeNames: { '#ttl': TTL_ATTRIBUTE },
        ExpressionAttributeValues: {
          ':one': 1,
          ':ttl': expiresAt,
          ...(first ? { ':in': c.in, ':kept': c.kept, ':rej': sum(c.rejected), ':fail': sum(c.failed) } : {}),
        },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    const attempts = Number(res.Attributes?.attempts ?? 0);
    const complete = expected !== undefined && attempts >= expected && (await this.countShards(state.runId, state.stage)) >= expected;
    return { first, complete };
  }

  /** Distinct recorded shards of a stage: a consistent COUNT query per shard partition (keys only are billed by size read). */
  async countShards(runId: string, stage: StageName): Promise<number> {
    let n = 0;
    await Promise.all(
      Array.from({ length: SHARD_PARTITIONS }, async (_, p) => {
        let start: Record<string, unknown> | undefined;
        do {
          const res = await this.doc.send(
            new QueryCommand({
              TableName: this.table,
              KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
              ExpressionAttributeValues: { ':pk': keys.shardPartition(runId, p), ':prefix': keys.shardPrefix(stage) },
              Select: 'COUNT',
              ConsistentRead: true,
              ExclusiveStartKey: start,
            }),
          );
          n += res.Count ?? 0;
          start = res.LastEvaluatedKey;
        } while (start);
      }),
    );
    return n;
  }

  /** Each stage's counters (one small item per stage: what `caco status` polls). */
  async progress(runId: string): Promise<StageCounters[]> {
    const res = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': keys.run(runId).pk, ':prefix': keys.progressPrefix },
        ConsistentRead: true,
      }),
    );
    return (res.Items ?? []).map((i) => ({
      stage: String(i.sk).slice(keys.progressPrefix.length),
      shards: Number(i.doneCount ?? 0),
      in: Number(i.inCount ?? 0),
      kept: Number(i.keptCount ?? 0),
      rejected: Number(i.rejectedCount ?? 0),
      failed: Number(i.failedCount ?? 0),
    }));
  }

  async getShard(runId: string, stage: StageName, shard: string): Promise<ShardState | null> {
    const res = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: keys.shard(runId, stage, shard), ConsistentRead: true }),
    );
    return res.Item ? toShardState(res.Item) : null;
  }

  async listShards(runId: string, stage?: StageName): Promise<ShardState[]> {
    const parts = await Promise.all(
      Array.from({ length: SHARD_PARTITIONS }, async (_, p) => {
        const out: ShardState[] = [];
        let start: Record<string, unknown> | undefined;
        do {
          const res = await this.doc.send(
            new QueryCommand({
              TableName: this.table,
              KeyConditionExpression: stage ? 'pk = :pk AND begins_with(sk, :prefix)' : 'pk = :pk',
              ExpressionAttributeValues: { ':pk': keys.shardPartition(runId, p), ...(stage ? { ':prefix': keys.shardPrefix(stage) } : {}) },
              ConsistentRead: true,
              ExclusiveStartKey: start,
            }),
          );
          for (const item of res.Items ?? []) out.push(toShardState(item));
          start = res.LastEvaluatedKey;
        } while (start);
        return out;
      }),
    );
    return parts.flat().sort((a, b) => (a.stage === b.stage ? a.shard.localeCompare(b.shard) : a.stage.localeCompare(b.stage)));
  }
}

/** A stage's counters as its progress item holds them. */
export interface StageCounters {
  stage: string;
  shards: number;
  in: number;
  kept: number;
  rejected: number;
  failed: number;
}

function toShardState(item: Record<string, unknown>): ShardState {
  const { runId, stage, shard, counts, next } = item as unknown as ShardState;
  return { runId, stage, shard, counts, next: next ?? [] };
}
