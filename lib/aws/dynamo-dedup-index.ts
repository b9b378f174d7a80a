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
//
// claimMany (lib/dedup/claims.ts) is the single-writer path the pipeline uses: the dedup stage
// claims one shard at a time per run, in shard order (lib/pipeline/flow.ts), so no lock is needed.
// It reads the earlier shards' state in batches, decides the whole shard in memory exactly like the
// SQLite index (exact Jaccard of stored shingles confirms LSH candidates; the most similar survivor
// wins, ties to the earliest), then writes only what later shards need: the exact-hash owners, and
// for each survivor its signature item and its band buckets. Entries of the shard's own ids found
// in the table (left by a crashed attempt, or by a concurrent duplicate delivery) are ignored and
// recomputed, so a retry or a duplicate decides the same way.
import { BatchGetCommand, BatchWriteCommand, GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { DedupIndex } from '../store/ports.ts';
import { bandKeys } from '../dedup/minhash.ts';
import { shingleArray, sortedJaccard, type BatchDedupIndex, type DedupClaim, type DedupDecision } from '../dedup/claims.ts';
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

export class DynamoDedupIndex implements BatchDedupIndex {
  private readonly threshold: number;
  private readonly bands: number;
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
    this.bands = bands;
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

  /**
   * A whole shard's claims, single writer (see the header). Per survivor: its signature item and
   * its band buckets (one write per distinct bucket of the shard); per new exact hash: its owner.
   */
  async claimMany(runId: string, claims: DedupClaim[]): Promise<DedupDecision[]> {
    for (const c of claims) {
      if (c.signature && (c.signature.length === 0 || c.signature.length % this.bands !== 0)) {
        throw new Error(`signature of ${c.signature.length} values is not a non-empty multiple of ${this.bands} bands`);
      }
    }
    const batchIds = new Set(claims.map((c) => c.id));
    const key = (k: { pk: string; sk: string }) => k.pk;

    // 1. What earlier shards left: exact owners, band buckets, the candidates' signatures.
    const hashes = [...new Set(claims.flatMap((c) => (c.hash === null ? [] : [c.hash])))];
    const owners = new Map<string, string>();
    for (const item of await this.batchGet(hashes.map((h) => keys.exact(runId, h)))) {
      const id = String(item.id);
      if (!batchIds.has(id)) owners.set(String(item.pk).slice(`DX#${runId}#`.length), id);
    }
    const bandsOf = new Map<string, string[]>(); // claim id -> bucket pks
    for (const c of claims) if (c.signature) bandsOf.set(c.id, this.bandKeys(c.signature).map((k, band) => key(keys.nearBucket(runId, band, k))));
    const buckets = new Map<string, Set<string>>(); // bucket pk -> survivor ids (earlier shards, then this one)
    const bucketPks = [...new Set([...bandsOf.values()].flat())];
    for (const item of await this.batchGet(bucketPks.map((pk) => ({ pk, sk: 'B' })))) {
      const members = [...((item.members as Set<string> | undefined) ?? [])].filter((m) => !batchIds.has(m));
      buckets.set(String(item.pk), new Set(members));
    }
    const candidateIds = [...new Set([...buckets.values()].flatMap((m) => [...m]))];
    const known = new Map<string, Survivor>();
    for (const item of await this.batchGet(candidateIds.map((id) => keys.nearRecord(runId, id)))) {
      if (item.dupOf !== undefined) continue; // a per-record claim's duplicate: never a candidate
      known.set(String(item.id), {
        id: String(item.id),
        sig: fromBytes(item.sig as Uint8Array),
        shingles: item.shingles ? fromBytes(item.shingles as Uint8Array) : null,
        seq: Number(item.seq ?? 0),
      });
    }

    // 2. Decide in order, in memory; this shard's survivors become candidates for its later records.
    const decisions: DedupDecision[] = [];
    const survivors: { claim: DedupClaim; shingles: Uint32Array | null; order: number }[] = [];
    let order = 0;
    for (const c of claims) {
      if (c.hash !== null) {
        const owner = owners.get(c.hash);
        if (owner !== undefined && owner !== c.id) {
          decisions.push({ kind: 'duplicate', of: owner });
          continue;
        }
        owners.set(c.hash, c.id);
      }
      if (c.signature) {
        const shingles = c.shingles ? shingleArray(c.shingles) : null;
        const of = this.mostSimilar(c.signature, shingles, bandsOf.get(c.id)!, buckets, known);
        if (of !== null) {
          decisions.push({ kind: 'near_duplicate', of });
          continue;
        }
        const s: Survivor = { id: c.id, sig: c.signature, shingles, seq: Number.MAX_SAFE_INTEGER - 1e6 + order };
        known.set(c.id, s);
        for (const pk of bandsOf.get(c.id)!) {
          let m = buckets.get(pk);
          if (!m) buckets.set(pk, (m = new Set()));
          m.add(c.id);
        }
        survivors.push({ claim: c, shingles, order: order++ });
      }
      decisions.push({ kind: 'kept' });
    }

    // 3. Write what later shards read: exact owners first, then survivors' items, then buckets
    //    (a crash in between is redone by the retry before any later shard starts).
    const newOwners = claims.filter((c, i) => c.hash !== null && decisions[i]!.kind !== 'duplicate');
    await mapLimit(newOwners, 16, async (c) => {
      const owner = await this.claimExact(runId, c.hash!, c.id);
      // Only another writer (which the ordered dedup stage rules out) can get here: fail the shard, its retry re-reads.
      if (owner !== c.id && !batchIds.has(owner)) throw new Error(`dedup claimMany: hash of ${c.id} was claimed concurrently by ${owner}`);
    });
    if (survivors.length > 0) {
      const seqEnd = await this.allocateSeq(runId, survivors.length);
      const ttl = expiryFromNow(this.ttlDays);
      await this.batchPut(
        survivors.map(({ claim, shingles, order: o }) => ({
          ...keys.nearRecord(runId, claim.id),
          id: claim.id,
          sig: toBytes(claim.signature!),
          ...(shingles ? { shingles: toBytes(shingles) } : {}),
          seq: seqEnd - survivors.length + 1 + o,
          [TTL_ATTRIBUTE]: ttl,
        })),
      );
      const joins = new Map<string, Set<string>>();
      for (const { claim } of survivors) {
        for (const pk of bandsOf.get(claim.id)!) {
          let m = joins.get(pk);
          if (!m) joins.set(pk, (m = new Set()));
          m.add(claim.id);
        }
      }
      await mapLimit([...joins], 16, ([pk, ids]) =>
        this.doc.send(
          new UpdateCommand({
            TableName: this.table,
            Key: { pk, sk: 'B' },
            UpdateExpression: 'ADD members :m SET #ttl = :ttl',
            ExpressionAttributeNames: { '#ttl': TTL_ATTRIBUTE },
            ExpressionAttributeValues: { ':m': ids, ':ttl': ttl },
          }),
        ),
      );
    }
    return decisions;
  }

  /** The most similar survivor sharing a band (exact Jaccard when both have shingles), ties to the earliest. */
  private mostSimilar(
    sig: Uint32Array,
    shingles: Uint32Array | null,
    bucketPks: string[],
    buckets: Map<string, Set<string>>,
    known: Map<string, Survivor>,
  ): string | null {
    const seen = new Set<string>();
    let best: { s: Survivor; j: number } | null = null;
    for (const pk of bucketPks) {
      for (const id of buckets.get(pk) ?? []) {
        if (seen.has(id)) continue;
        seen.add(id);
        const s = known.get(id);
        if (!s || s.sig.length !== sig.length) continue;
        let j = estimatedJaccard(sig, s.sig);
        // As the SQLite index: an estimate 0.2 under the threshold is > 6 standard errors away.
        if (shingles && s.shingles && j >= this.threshold - 0.2) j = sortedJaccard(shingles, s.shingles);
        if (j >= this.threshold && (best === null || j > best.j || (j === best.j && s.seq < best.s.seq))) best = { s, j };
      }
    }
    return best?.s.id ?? null;
  }

  /** Reserves `n` insertion numbers for the run's survivors (their order breaks similarity ties); returns the last. */
  private async allocateSeq(runId: string, n: number): Promise<number> {
    const res = await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: `DS#${runId}`, sk: 'S' },
        UpdateExpression: 'ADD seq :n SET #ttl = :ttl',
        ExpressionAttributeNames: { '#ttl': TTL_ATTRIBUTE },
        ExpressionAttributeValues: { ':n': n, ':ttl': expiryFromNow(this.ttlDays) },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return Number(res.Attributes!.seq);
  }

  /** Strongly consistent BatchGet of any number of keys (100 per request, unprocessed keys retried). */
  private async batchGet(keyList: { pk: string; sk: string }[]): Promise<Record<string, unknown>[]> {
    const out: Record<string, unknown>[] = [];
    for (let i = 0; i < keyList.length; i += 100) {
      let request: Record<string, { Keys: Record<string, unknown>[]; ConsistentRead: boolean }> | undefined = {
        [this.table]: { Keys: keyList.slice(i, i + 100), ConsistentRead: true },
      };
      for (let attempt = 0; request && Object.keys(request).length > 0; attempt++) {
        if (attempt > 0) await sleep(Math.min(1000, 20 * 2 ** attempt));
        const res = await this.doc.send(new BatchGetCommand({ RequestItems: request as never }));
        out.push(...((res.Responses?.[this.table] ?? []) as Record<string, unknown>[]));
        request = res.UnprocessedKeys as typeof request;
      }
    }
    return out;
  }

  /** BatchWrite puts (25 per request, unprocessed items retried). */
  private async batchPut(items: Record<string, unknown>[]): Promise<void> {
    for (let i = 0; i < items.length; i += 25) {
      let request: Record<string, unknown[]> | undefined = { [this.table]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) };
      for (let attempt = 0; request && Object.keys(request).length > 0; attempt++) {
        if (attempt > 0) await sleep(Math.min(1000, 20 * 2 ** attempt));
        const res = await this.doc.send(new BatchWriteCommand({ RequestItems: request as never }));
        request = res.UnprocessedItems as typeof request;
      }
    }
  }
}

interface Survivor {
  id: string;
  sig: Uint32Array;
  shingles: Uint32Array | null;
  /** Insertion order across the run (ties between equally similar survivors go to the earliest). */
  seq: number;
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
