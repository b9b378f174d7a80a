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
import { BatchGetCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
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
  /** Near survivors of claimMany and claimNear per run, loaded from the segments (kept while the Lambda is warm). */
  private readonly memory = new Map<string, NearMemory>();
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
      // Survivors of claimMany are in the segments, not in the buckets.
      const dupOf = (await this.firstSimilar(runId, signature, [...members].sort())) ?? (await this.similarInSegments(runId, id, signature));
      let decided = dupOf;
      let first = true;
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
        first = false;
      }
      // A survivor joins the segments too, so that claimMany sees it.
      if (first && decided === null) await this.appendSegment(runId, [{ id, sig: signature, shingles: null, seq: 0 }]);
      await this.release(buckets, id, decided === null);
      return decided;
    } catch (err) {
      await this.release(acquired, id, false).catch(() => {});
      throw err;
    }
  }

  /** Smallest id among segment survivors similar enough by the estimate (the per-record rule). */
  private async similarInSegments(runId: string, id: string, signature: Uint32Array): Promise<string | null> {
    const mem = await this.segments(runId);
    const similar = mem
      .candidates(bandKeys(signature, this.bands))
      .filter((s) => s.id !== id && s.sig.length === signature.length && estimatedJaccard(s.sig, signature) >= this.threshold)
      .map((s) => s.id)
      .sort();
    return similar[0] ?? null;
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
   * A whole shard's claims, single writer (see the header). Writes per shard: the new exact-hash
   * owners (one unit each), one sequence update, and one segment item (or a few) holding the
   * shard's survivors; nothing per LSH band.
   */
  async claimMany(runId: string, claims: DedupClaim[]): Promise<DedupDecision[]> {
    for (const c of claims) if (c.signature) this.checkSignature(c.signature);
    const batchIds = new Set(claims.map((c) => c.id));

    // 1. What earlier shards left: exact owners (a BatchGet), near survivors (the segments).
    const hashes = [...new Set(claims.flatMap((c) => (c.hash === null ? [] : [c.hash])))];
    const owners = new Map<string, string>();
    for (const item of await this.batchGet(hashes.map((h) => keys.exact(runId, h)))) {
      const id = String(item.id);
      if (!batchIds.has(id)) owners.set(String(item.pk).slice(`DX#${runId}#`.length), id);
    }
    const earlier = await this.segments(runId);

    // 2. Decide in order, in memory; this shard's survivors become candidates for its later records.
    const mine = new NearMemory();
    const decisions: DedupDecision[] = [];
    const survivors: Survivor[] = [];
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
        const bands = bandKeys(c.signature, this.bands);
        const candidates = [...earlier.candidates(bands).filter((s) => !batchIds.has(s.id)), ...mine.candidates(bands)];
        const of = this.mostSimilar(c.signature, shingles, candidates);
        if (of !== null) {
          decisions.push({ kind: 'near_duplicate', of });
          continue;
        }
        const s: Survivor = { id: c.id, sig: c.signature, shingles, seq: Number.MAX_SAFE_INTEGER - 1e6 + survivors.length };
        mine.add(s, bands);
        survivors.push(s);
      }
      decisions.push({ kind: 'kept' });
    }

    // 3. Write what later shards read: exact owners, then the survivors' segment. A crash in
    //    between is redone by the retry before any later shard starts.
    const newOwners = claims.filter((c, i) => c.hash !== null && decisions[i]!.kind !== 'duplicate');
    await mapLimit(newOwners, 16, async (c) => {
      const owner = await this.claimExact(runId, c.hash!, c.id);
      // Only another writer (which the ordered dedup stage rules out) can get here: fail the shard, its retry re-reads.
      if (owner !== c.id && !batchIds.has(owner)) throw new Error(`dedup claimMany: hash of ${c.id} was claimed concurrently by ${owner}`);
    });
    await this.appendSegment(runId, survivors);
    return decisions;
  }

  private checkSignature(sig: Uint32Array): void {
    if (sig.length === 0 || sig.length % this.bands !== 0) {
      throw new Error(`signature of ${sig.length} values is not a non-empty multiple of ${this.bands} bands`);
    }
  }

  /** The most similar candidate (exact Jaccard when both have shingles), ties to the earliest; as the SQLite index. */
  private mostSimilar(sig: Uint32Array, shingles: Uint32Array | null, candidates: Survivor[]): string | null {
    let best: { s: Survivor; j: number } | null = null;
    for (const s of candidates) {
      if (s.sig.length !== sig.length) continue;
      let j = estimatedJaccard(sig, s.sig);
      // An estimate 0.2 under the threshold is more than 6 standard errors away: no merge needed.
      if (shingles && s.shingles && j >= this.threshold - 0.2) j = sortedJaccard(shingles, s.shingles);
      if (j >= this.threshold && (best === null || j > best.j || (j === best.j && s.seq < best.s.seq))) best = { s, j };
    }
    return best?.s.id ?? null;
  }

  /** The run's near survivors kept in memory, caught up with the segments written since the last call. */
  private async segments(runId: string): Promise<NearMemory> {
    let mem = this.memory.get(runId);
    if (!mem) this.memory.set(runId, (mem = new NearMemory()));
    let startKey: Record<string, unknown> | undefined;
    do {
      const res = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk AND sk > :after',
          ExpressionAttributeValues: { ':pk': segmentPk(runId), ':after': mem.lastSk },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of res.Items ?? []) {
        for (const s of decodeSegment(item.data as Uint8Array)) mem.add(s, bandKeys(s.sig, this.bands));
        mem.lastSk = String(item.sk);
      }
      startKey = res.LastEvaluatedKey;
    } while (startKey);
    return mem;
  }

  /** Appends survivors to the run's segments under fresh sequence numbers (their order breaks ties). */
  private async appendSegment(runId: string, survivors: Survivor[]): Promise<void> {
    if (survivors.length === 0) return;
    const last = await this.allocateSeq(runId, survivors.length);
    const first = last - survivors.length + 1;
    survivors.forEach((s, i) => (s.seq = first + i));
    const ttl = expiryFromNow(this.ttlDays);
    let chunk = 0;
    for (const part of chunkBySize(survivors, SEGMENT_BYTES)) {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: segmentPk(runId), sk: `S#${String(first).padStart(12, '0')}#${chunk++}`, data: encodeSegment(part), [TTL_ATTRIBUTE]: ttl },
        }),
      );
    }
  }

  /** Reserves `n` insertion numbers for the run's survivors; returns the last. */
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

/** Segment items of a run: its survivors, packed, in sequence order (sk = S#<first seq>#<chunk>). */
const segmentPk = (runId: string) => `DG#${runId}`;
/** Bytes of survivors per segment item (DynamoDB items stop at 400 KB). */
const SEGMENT_BYTES = 300_000;

/** Survivors in memory with an LSH index over their bands. */
class NearMemory {
  lastSk = '';
  private readonly byId = new Map<string, Survivor>();
  private readonly buckets = new Map<string, Survivor[]>();

  add(s: Survivor, bands: number[]): void {
    if (this.byId.has(s.id)) return; // a retried shard's segment repeats its survivors
    this.byId.set(s.id, s);
    bands.forEach((k, b) => {
      const key = `${b}:${k}`;
      const list = this.buckets.get(key);
      if (list) list.push(s);
      else this.buckets.set(key, [s]);
    });
  }

  /** Distinct survivors sharing at least one band with `bands`. */
  candidates(bands: number[]): Survivor[] {
    const seen = new Set<Survivor>();
    bands.forEach((k, b) => {
      for (const s of this.buckets.get(`${b}:${k}`) ?? []) seen.add(s);
    });
    return [...seen];
  }
}

function entryBytes(s: Survivor): number {
  return 2 + Buffer.byteLength(s.id) + 8 + 4 + s.sig.byteLength + 4 + (s.shingles?.byteLength ?? 0);
}

function* chunkBySize(list: Survivor[], max: number): Generator<Survivor[]> {
  let part: Survivor[] = [];
  let bytes = 0;
  for (const s of list) {
    const b = entryBytes(s);
    if (part.length > 0 && bytes + b > max) {
      yield part;
      part = [];
      bytes = 0;
    }
    part.push(s);
    bytes += b;
  }
  if (part.length > 0) yield part;
}

/** id length (u16), id, seq (f64), signature length (u32) and values, shingle count (u32, or 0xffffffff: none) and values; little endian. */
function encodeSegment(list: Survivor[]): Uint8Array {
  const buf = Buffer.alloc(list.reduce((a, s) => a + entryBytes(s), 0));
  let o = 0;
  for (const s of list) {
    const id = Buffer.from(s.id);
    o = buf.writeUInt16LE(id.length, o);
    o += id.copy(buf, o);
    o = buf.writeDoubleLE(s.seq, o);
    o = buf.writeUInt32LE(s.sig.length, o);
    for (const v of s.sig) o = buf.writeUInt32LE(v, o);
    o = buf.writeUInt32LE(s.shingles ? s.shingles.length : 0xffffffff, o);
    for (const v of s.shingles ?? []) o = buf.writeUInt32LE(v, o);
  }
  return buf;
}

function decodeSegment(data: Uint8Array): Survivor[] {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const out: Survivor[] = [];
  const u32s = (at: number, n: number) => {
    const a = new Uint32Array(n);
    for (let i = 0; i < n; i++) a[i] = buf.readUInt32LE(at + 4 * i);
    return a;
  };
  let o = 0;
  while (o < buf.length) {
    const idLen = buf.readUInt16LE(o);
    const id = buf.toString('utf8', o + 2, o + 2 + idLen);
    o += 2 + idLen;
    const seq = buf.readDoubleLE(o);
    const sigLen = buf.readUInt32LE(o + 8);
    const sig = u32s(o + 12, sigLen);
    o += 12 + 4 * sigLen;
    const shLen = buf.readUInt32LE(o);
    o += 4;
    let shingles: Uint32Array | null = null;
    if (shLen !== 0xffffffff) {
      shingles = u32s(o, shLen);
      o += 4 * shLen;
    }
    out.push({ id, sig, shingles, seq });
  }
  return out;
}
