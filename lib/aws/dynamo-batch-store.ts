// The batch store on the run table (lib/llm/batch/store.ts): one item per (run, stage, shard,
// round) under `BATCH#<runId>`, claimed with a conditional put (the intent) and moved on with
// conditional writes on its state. Which runs have open rounds is one small index partition
// (`BATCHOPEN`, an item per run), so the poller queries, never scans the table (the dedup index
// lives there too). An index item is touched on every claim and deleted only if untouched since
// the poller read it, so a claim racing the cleanup is never lost.
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { BatchRound, BatchStore, RoundKey, RoundState } from '../llm/batch/store.ts';
import { expiryFromNow, isConditionFailed, TTL_ATTRIBUTE } from './table.ts';

const OPEN: RoundState[] = ['claimed', 'submitted'];
const pkOf = (runId: string) => `BATCH#${runId}`;
const skOf = (k: Omit<RoundKey, 'runId'>) => `${k.stage}#${k.shard}#${String(k.round).padStart(4, '0')}`;
const INDEX_PK = 'BATCHOPEN';

export class DynamoBatchStore implements BatchStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly ttlDays = 30,
  ) {}

  private item(r: BatchRound, extra: Record<string, unknown> = {}) {
    return { pk: pkOf(r.runId), sk: skOf(r), body: JSON.stringify(r), state: r.state, [TTL_ATTRIBUTE]: expiryFromNow(this.ttlDays), ...extra };
  }

  private async get(k: RoundKey): Promise<BatchRound | null> {
    const res = await this.doc.send(new GetCommand({ TableName: this.table, Key: { pk: pkOf(k.runId), sk: skOf(k) }, ConsistentRead: true }));
    return res.Item ? (JSON.parse(res.Item.body as string) as BatchRound) : null;
  }

  async rounds(runId: string, stage: string, shard: string): Promise<BatchRound[]> {
    return this.query(runId, `${stage}#${shard}#`);
  }

  private async query(runId: string, prefix: string): Promise<BatchRound[]> {
    const out: BatchRound[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const res = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
          ExpressionAttributeValues: { ':pk': pkOf(runId), ':p': prefix },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      for (const it of res.Items ?? []) out.push(JSON.parse(it.body as string) as BatchRound);
      start = res.LastEvaluatedKey;
    } while (start);
    return out;
  }

  async claim(key: RoundKey, owner: string, nowMs: number, staleMs: number, takeOver?: (holder: string) => boolean): Promise<BatchRound | null> {
    // Index first: a round is never open without its run in the index.
    await this.doc.send(new PutCommand({ TableName: this.table, Item: { pk: INDEX_PK, sk: key.runId, touchedAt: nowMs, [TTL_ATTRIBUTE]: expiryFromNow(this.ttlDays) } }));
    const cur = await this.get(key);
    if (cur && (cur.state !== 'claimed' || (nowMs - cur.claimedAt < staleMs && !takeOver?.(cur.owner)))) return null;
    const r: BatchRound = cur ? { ...cur, owner, claimedAt: nowMs } : { ...key, state: 'claimed', owner, claimedAt: nowMs, planned: 0, parts: [] };
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: this.item(r, { claimedBy: owner }),
          // Absent, or still held by the holder we judged (nobody took it meanwhile).
          ConditionExpression: cur ? 'claimedBy = :was AND #s = :claimed' : 'attribute_not_exists(pk)',
          ExpressionAttributeNames: cur ? { '#s': 'state' } : undefined,
          ExpressionAttributeValues: cur ? { ':was': cur.owner, ':claimed': 'claimed' } : undefined,
        }),
      );
      return r;
    } catch (err) {
      if (isConditionFailed(err)) return null;
      throw err;
    }
  }

  async transition(round: BatchRound, from: RoundState[]): Promise<boolean> {
    const values: Record<string, string> = {};
    from.forEach((s, i) => (values[`:f${i}`] = s));
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: this.item(round, { claimedBy: round.owner }),
          ConditionExpression: `#s IN (${from.map((_, i) => `:f${i}`).join(', ')})`,
          ExpressionAttributeNames: { '#s': 'state' },
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailed(err)) return false;
      throw err;
    }
  }

  async listOpen(runId?: string): Promise<BatchRound[]> {
    const runs = runId ? [{ runId, touchedAt: null as number | null }] : await this.openRuns();
    const out: BatchRound[] = [];
    for (const r of runs) {
      const open = (await this.query(r.runId, '')).filter((x) => OPEN.includes(x.state));
      if (open.length === 0 && r.touchedAt !== null) await this.dropFromIndex(r.runId, r.touchedAt);
      out.push(...open);
    }
    return out;
  }

  private async openRuns(): Promise<{ runId: string; touchedAt: number }[]> {
    const out: { runId: string; touchedAt: number }[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const res = await this.doc.send(
        new QueryCommand({ TableName: this.table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': INDEX_PK }, ConsistentRead: true, ExclusiveStartKey: start }),
      );
      for (const it of res.Items ?? []) out.push({ runId: it.sk as string, touchedAt: it.touchedAt as number });
      start = res.LastEvaluatedKey;
    } while (start);
    return out;
  }

  private async dropFromIndex(runId: string, touchedAt: number): Promise<void> {
    try {
      await this.doc.send(
        new DeleteCommand({ TableName: this.table, Key: { pk: INDEX_PK, sk: runId }, ConditionExpression: 'touchedAt = :t', ExpressionAttributeValues: { ':t': touchedAt } }),
      );
    } catch (err) {
      if (!isConditionFailed(err)) throw err; // a new claim touched it: the run stays listed
    }
  }
}
