// DedupIndex on DynamoDB, using only conditional writes (no transactions: dynalite has none).
//
// One writer per run: the dedup stage claims one shard at a time per run, in shard order
// (lib/pipeline/spec.ts, `ordered`), so no lock is needed. `claim` reads the earlier shards' state
// in batches, decides the whole shard in memory exactly like the SQLite index (exact Jaccard of
// stored shingles confirms LSH candidates; the most similar survivor wins, ties to the earliest),
// then writes only what later shards need: the exact-hash owners (conditional puts: the first id
// wins), and the shard's survivors packed into segment items. Entries of the shard's own ids found
// in the table (left by a crashed attempt, or by a concurrent duplicate delivery) are ignored and
// recomputed, so a retry or a duplicate decides the same way.
import { BatchGetCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DEDUP_DEFAULTS } from '../codecot/filter-config.ts';
import type { DedupClaim, DedupDecision, DedupIndex } from '../store/ports.ts';
import { bandKeys, estimateJaccard } from '../dedup/minhash.ts';
import { shingleArray, sortedJaccard } from '../dedup/claims.ts';
import { expiryFromNow, isConditionFailed, keys, TTL_ATTRIBUTE } from './table.ts';

export interface DynamoDedupIndexOptions {
  /** Jaccard at or above which two records are near duplicates (default: the run config's). */
  threshold?: number;
  /** Number of LSH bands; rows per band = signature length / bands (default: the run config's). */
  bands?: number;
  ttlDays?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class DynamoDedupIndex implements DedupIndex {
  private readonly threshold: number;
  private readonly bands: number;
  /** Near survivors per run, loaded from the segments (kept while the Lambda is warm). */
  private readonly memory = new Map<string, NearMemory>();
  private readonly ttlDays: number;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
    opts: DynamoDedupIndexOptions = {},
  ) {
    this.threshold = opts.threshold ?? DEDUP_DEFAULTS.threshold;
    // lib/dedup's banding, so the local SQLite index and this one put records in the same buckets
    this.bands = opts.bands ?? DEDUP_DEFAULTS.bands;
    this.ttlDays = opts.ttlDays ?? 30;
  }

  /** Claims `hash` for `id` (a conditional put): returns the owner, `id` when it is the first. */
  private async ownHash(runId: string, hash: string, id: string): Promise<string> {
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
    const res = await this.doc.send(new GetCommand({ TableName: this.table, Key: keys.exact(runId, hash), ConsistentRead: true }));
    return String(res.Item!.id);
  }

  /**
   * A whole shard's claims, single writer (see the header). Writes per shard: the new exact-hash
   * owners (one unit each), one sequence update, and one segment item (or a few) holding the
   * shard's survivors; nothing per LSH band.
   */
  async claim(runId: string, claims: DedupClaim[]): Promise<DedupDecision[]> {
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
      const owner = await this.ownHash(runId, c.hash!, c.id);
      // Only another writer (which the ordered dedup stage rules out) can get here: fail the shard, its retry re-reads.
      if (owner !== c.id && !batchIds.has(owner)) throw new Error(`dedup claim: hash of ${c.id} was claimed concurrently by ${owner}`);
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
      let j = estimateJaccard(sig, s.sig);
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
