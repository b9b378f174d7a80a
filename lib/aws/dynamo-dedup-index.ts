// DedupIndex on DynamoDB, using only conditional writes (no transactions: dynalite has none).
//
// Exact: a conditional put of the hash item; the first id wins and a retry by that id gets itself.
//
// Near (MinHash + LSH bands): each record's decision is serialized against every record it could
// collide with by locking the LSH buckets it falls in, in sorted key order (no deadlock), with a
// lease so a crashed Lambda cannot block others for long. Holding its buckets' locks, a record
// compares its signature with the survivors already in those buckets, writes its decision (a
// conditional put keyed by id, so retries return the same answer), then releases the locks and,
// if it survived, joins the buckets. Two records that share a bucket are therefore decided one
// after the other, so exactly one record of a near-duplicate group survives even when shards race.
// Only survivors join buckets: a record is a duplicate when it is similar to an earlier survivor.
import { BatchGetCommand, GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { DedupIndex } from '../store/ports.ts';
import { bandKeys } from '../dedup/minhash.ts';
import { expiryFromNow, isConditionFailed, keys, TTL_ATTRIBUTE } from './table.ts';

export interface DynamoDedupIndexOptions {
  /** Estimated Jaccard similarity at or above which two records are near duplicates. Default 0.8. */
  threshold?: number;
  /** Number of LSH bands; rows per band = signature length / bands. Default 16. */
  bands?: number;
  /** Lock lease in ms (a crashed holder's lock is taken over after this). Default 30 s. */
  leaseMs?: number;
  /** Give up acquiring a bucket lock after this long. Default 60 s. */
  lockTimeoutMs?: number;
  ttlDays?: number;
}

/** Fraction of equal MinHash values: the usual estimate of Jaccard similarity. */
export function estimatedJaccard(a: Uint32Array, b: Uint32Array): number {
  if (a.length !== b.length) throw new Error(`signature lengths differ (${a.length} vs ${b.length})`);
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
  return same / a.length;
}

function toBytes(sig: Uint32Array): Uint8Array {
  return new Uint8Array(sig.buffer.slice(sig.byteOffset, sig.byteOffset + sig.byteLength));
}
function fromBytes(bytes: Uint8Array): Uint32Array {
  const copy = new Uint8Array(bytes); // aligned copy
  return new Uint32Array(copy.buffer, 0, copy.byteLength / 4);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class DynamoDedupIndex implements DedupIndex {
  private readonly threshold: number;
  private readonly bandKeys: (s: Uint32Array) => string[];
  private readonly leaseMs: number;
  private readonly lockTimeoutMs: number;
  private readonly ttlDays: number;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
    opts: DynamoDedupIndexOptions = {},
  ) {
    this.threshold = opts.threshold ?? 0.8;
    const bands = opts.bands ?? 16;
    // lib/dedup's banding, so the local SQLite index and this one put records in the same buckets
    this.bandKeys = (s) => bandKeys(s, bands).map(String);
    this.leaseMs = opts.leaseMs ?? 30_000;
    this.lockTimeoutMs = opts.lockTimeoutMs ?? 60_000;
    this.ttlDays = opts.ttlDays ?? 30;
  }

  async claimExact(runId: string, hash: string, id: string): Promise<string> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...keys.exact(runId, hash), id, [TTL_ATTRIBUTE]: expiryFromNow(this.ttlDays) },
          ConditionExpression: 'attribute_not_exists(pk) OR id = :id',
          ExpressionAttributeValues: { ':id': id },
        }),
      );
      return id;
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
    }
    const res = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: keys.exact(runId, hash), ConsistentRead: true }),
    );
    return String(res.Item!.id);
  }

  async claimNear(runId: string, id: string, signature: Uint32Array): Promise<string | null> {
    const buckets = [...new Set(this.bandKeys(signature).map((k, band) => keys.nearBucket(runId, band, k).pk))].sort();
    const recordKey = keys.nearRecord(runId, id);
    const earlier = await this.doc.send(new GetCommand({ TableName: this.table, Key: recordKey, ConsistentRead: true }));
    if (earlier.Item) {
      // A retry: same answer; finish the registration the earlier attempt may not have done.
      const dupOf = (earlier.Item.dupOf as string | undefined) ?? null;
      await this.release(buckets, id, dupOf === null);
      return dupOf;
    }
    const members = new Set<string>();
    const acquired: string[] = [];
    try {
      for (const pk of buckets) {
        for (const m of await this.lock(pk, id)) members.add(m);
        acquired.push(pk);
      }
      members.delete(id);
      const dupOf = await this.firstSimilar(runId, signature, [...members].sort());
      let decided = dupOf;
      try {
        await this.doc.send(
          new PutCommand({
            TableName: this.table,
            Item: {
              ...recordKey,
              id,
              sig: toBytes(signature),
              ...(dupOf ? { dupOf } : {}),
              [TTL_ATTRIBUTE]: expiryFromNow(this.ttlDays),
            },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
      } catch (err) {
        if (!isConditionFailed(err)) throw err;
        // The same id decided concurrently (a duplicated message): its answer stands.
        const got = await this.doc.send(new GetCommand({ TableName: this.table, Key: recordKey, ConsistentRead: true }));
        decided = (got.Item?.dupOf as string | undefined) ?? null;
      }
      await this.release(buckets, id, decided === null);
      return decided;
    } catch (err) {
      await this.release(acquired, id, false).catch(() => {});
      throw err;
    }
  }

  /** Takes the bucket's lock (re-entrant for the same id); returns the bucket's survivors. */
  private async lock(pk: string, owner: string): Promise<string[]> {
    const deadline = Date.now() + this.lockTimeoutMs;
    for (let attempt = 0; ; attempt++) {
      const now = Date.now();
      try {
        const res = await this.doc.send(
          new UpdateCommand({
            TableName: this.table,
            Key: { pk, sk: 'B' },
            UpdateExpression: 'SET lockOwner = :me, lockUntil = :until, #ttl = :ttl',
            ConditionExpression: 'attribute_not_exists(lockOwner) OR lockOwner = :me OR lockUntil < :now',
            ExpressionAttributeNames: { '#ttl': TTL_ATTRIBUTE },
            ExpressionAttributeValues: {
              ':me': owner,
              ':until': now + this.leaseMs,
              ':now': now,
              ':ttl': expiryFromNow(this.ttlDays),
            },
            ReturnValues: 'ALL_NEW',
          }),
        );
        return [...((res.Attributes?.members as Set<string> | undefined) ?? [])];
      } catch (err) {
        if (!isConditionFailed(err)) throw err;
        if (Date.now() > deadline) throw new Error(`near-dup index: bucket ${pk} stayed locked for ${this.lockTimeoutMs} ms`);
        await sleep(Math.min(200, 5 * 2 ** Math.min(attempt, 5)) * (0.5 + Math.random()));
      }
    }
  }

  /** Releases the locks `owner` holds; a survivor joins each bucket. */
  private async release(buckets: string[], owner: string, join: boolean): Promise<void> {
    await Promise.all(
      buckets.map(async (pk) => {
        try {
          await this.doc.send(
            new UpdateCommand({
              TableName: this.table,
              Key: { pk, sk: 'B' },
              UpdateExpression: join ? 'REMOVE lockOwner, lockUntil ADD members :m' : 'REMOVE lockOwner, lockUntil',
              ConditionExpression: 'lockOwner = :me',
              ExpressionAttributeValues: { ':me': owner, ...(join ? { ':m': new Set([owner]) } : {}) },
            }),
          );
        } catch (err) {
          if (!isConditionFailed(err)) throw err;
          // Not our lock (lease taken over, or already released by an earlier attempt): still join.
          if (join) {
            await this.doc.send(
              new UpdateCommand({
                TableName: this.table,
                Key: { pk, sk: 'B' },
                UpdateExpression: 'ADD members :m',
                ExpressionAttributeValues: { ':m': new Set([owner]) },
              }),
            );
          }
        }
      }),
    );
  }

  /** The smallest candidate id whose signature is similar enough, or null. */
  private async firstSimilar(runId: string, signature: Uint32Array, candidates: string[]): Promise<string | null> {
    for (let i = 0; i < candidates.length; i += 100) {
      const chunk = candidates.slice(i, i + 100);
      let request: Record<string, { Keys: Record<string, unknown>[]; ConsistentRead: boolean }> | undefined = {
        [this.table]: { Keys: chunk.map((c) => keys.nearRecord(runId, c)), ConsistentRead: true },
      };
      const similar: string[] = [];
      while (request && Object.keys(request).length > 0) {
        const res = await this.doc.send(new BatchGetCommand({ RequestItems: request as never }));
        for (const item of res.Responses?.[this.table] ?? []) {
          const sig = fromBytes(item.sig as Uint8Array);
          if (estimatedJaccard(sig, signature) >= this.threshold) similar.push(String(item.id));
        }
        request = res.UnprocessedKeys as typeof request;
      }
      if (similar.length > 0) return similar.sort()[0]!;
    }
    return null;
  }
}
