// StateStore on DynamoDB, single table (see table.ts). No transactions (dynalite has none, and
// they cost double): recordShard is two conditional writes that are each safe to retry.
//   1. put the shard item if absent (the first completion's counts win);
//   2. ADD the shard to the stage's progress item (doneCount, doneShards set) unless the set
//      already contains it. `first` is true for the call whose step 2 counted the shard, so a crash
//      between 1 and 2 still leaves exactly one `first` (the retry's), and `first && doneShards ==
//      expected` fires a fan-in exactly once per successful count.
import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { RunFailure, RunState, ShardState, StageName, StateStore } from '../store/ports.ts';
import { expiryFromNow, isConditionFailed, keys, TTL_ATTRIBUTE } from './table.ts';

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

  async recordShard(state: ShardState): Promise<{ first: boolean; doneShards: number }> {
    const expiresAt = expiryFromNow(this.ttlDays);
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
    }
    try {
      const res = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.progress(state.runId, state.stage),
          UpdateExpression: 'ADD doneCount :one, doneShards :shardSet SET #ttl = :ttl',
          ConditionExpression: 'NOT contains(doneShards, :shard)',
          ExpressionAttributeNames: { '#ttl': TTL_ATTRIBUTE },
          ExpressionAttributeValues: {
            ':one': 1,
            ':shardSet': new Set([state.shard]),
            ':shard': state.shard,
            ':ttl': expiresAt,
          },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      return { first: true, doneShards: Number(res.Attributes?.doneCount ?? 0) };
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
      return { first: false, doneShards: await this.doneCount(state.runId, state.stage) };
    }
  }

  /** How many distinct shards of `stage` are recorded (consistent read). */
  async doneCount(runId: string, stage: StageName): Promise<number> {
    const res = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: keys.progress(runId, stage), ConsistentRead: true }),
    );
    return Number(res.Item?.doneCount ?? 0);
  }

  async getShard(runId: string, stage: StageName, shard: string): Promise<ShardState | null> {
    const res = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: keys.shard(runId, stage, shard), ConsistentRead: true }),
    );
    return res.Item ? toShardState(res.Item) : null;
  }

  async listShards(runId: string, stage?: StageName): Promise<ShardState[]> {
    const out: ShardState[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const res = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': keys.run(runId).pk, ':prefix': keys.shardPrefix(stage) },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      for (const item of res.Items ?? []) out.push(toShardState(item));
      start = res.LastEvaluatedKey;
    } while (start);
    return out;
  }
}

function toShardState(item: Record<string, unknown>): ShardState {
  const { runId, stage, shard, counts, next } = item as unknown as ShardState;
  return { runId, stage, shard, counts, next: next ?? [] };
}
