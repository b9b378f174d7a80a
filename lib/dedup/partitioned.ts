// Run-wide deduplication computed in parallel partitions, with the ordered algorithm's answers.
//
// The ordered algorithm (lib/store/ports.ts, DedupIndex): records in (shard, position) order; a
// record is an exact `duplicate` of the FIRST record with its hash; otherwise a `near_duplicate` of
// the most similar earlier SURVIVOR that shares an LSH band with it and is at least `threshold`
// similar (ties to the earliest); otherwise kept. Since a rejected record blocks nobody, the
// survivors are the greedy (lexicographically first) independent set of the similarity graph in
// position order: a record that is rejected as a near copy of an earlier survivor does not itself
// block a later record similar only to it.
//
// Computed here in three steps, none of which holds the run's signatures in one place:
//   1. claims, per shard (parallel): hash, MinHash signature, shingles of each record.
//   2. partitions p = 0..P-1 (parallel): partition p owns the hashes and the (band, key) LSH
//      buckets that hash to p. It finds the owner (minimum position) of each of its hashes, and
//      every pair of hash owners in one of its buckets that is similar by the ordered algorithm's
//      own test (the MinHash estimate, confirmed by exact Jaccard of the shingles). Two passes over
//      the claims: keys first, then signatures and shingles only of records in a bucket of two or
//      more, so a partition holds about 1/P of the run's keys plus the candidates' data.
//   3. sweep (one small step): the similar pairs form a graph over positions; in position order, a
//      record is kept iff no earlier neighbour was kept, and a rejected one names its most similar
//      kept earlier neighbour (ties to the earliest). That is the ordered algorithm's rule applied to
//      the same pairs, so the answers are equal (tests/unit/dedup-partitioned.test.ts checks it
//      against the SQLite index under shuffled arrival orders). Memory: a byte per record and the
//      similar pairs, no signatures.
// Why the pairs are the same: records with one hash have the same tokens, so the same signature
// and the same buckets; the ordered algorithm compares only a hash's first record (the others stop
// at the exact claim), and so does a bucket here (it keeps the minimum position per hash).
// Nothing depends on the order in which shards or partitions are read: positions come from the
// shard's rank in the branch, never from arrival.
import { bandKeys, estimateJaccard, fmix32 } from './minhash.ts';
import { shingleArray, sortedJaccard } from './claims.ts';
import type { DedupClaim, DedupDecision } from '../store/ports.ts';
import type { ClaimKeys } from './claim-blobs.ts';

export interface PartitionParams {
  threshold: number;
  /** Number of partitions: each holds ~1/P of the keys. */
  partitions: number;
}

/** A record's place in (shard, position) order: shard rank * 2^21 + index in the shard (exact in a double). */
export const SLOT_BITS = 21;
const SLOT = 2 ** SLOT_BITS;
export const globalPos = (shardRank: number, i: number): number => shardRank * SLOT + i;
const rankOf = (g: number) => Math.floor(g / SLOT);
const indexOf = (g: number) => g % SLOT;

/** Where a partition reads the claims: every shard's keys, then the data of the shards it names. Any order. */
export interface PartitionSource {
  keys(): AsyncIterable<{ rank: number; keys: ClaimKeys[] }> | Iterable<{ rank: number; keys: ClaimKeys[] }>;
  data(ranks: number[]): AsyncIterable<{ rank: number; claims: DedupClaim[] }> | Iterable<{ rank: number; claims: DedupClaim[] }>;
}

/** A source over claims in memory (tests, benches): shards by rank. */
export function memorySource(shards: DedupClaim[][], bands: number, order: (ranks: number[]) => number[] = (r) => r): PartitionSource {
  return {
    *keys() {
      for (const rank of order(shards.map((_, i) => i))) {
        yield { rank, keys: shards[rank]!.map((c) => ({ hash: c.hash, bands: c.signature ? bandKeys(c.signature, bands) : null, failed: null })) };
      }
    },
    *data(ranks) {
      for (const rank of order(ranks)) yield { rank, claims: shards[rank]! };
    },
  };
}

/** Partition of an exact hash (hex): from its first 8 hex digits. */
export function hashPartition(hash: string, partitions: number): number {
  const v = parseInt(hash.slice(0, 8), 16);
  return fmix32(Number.isNaN(v) ? hash.length : v) % partitions;
}

/** Partition of an LSH bucket (band, 52-bit key). */
export function bucketPartition(band: number, key: number, partitions: number): number {
  return fmix32((key >>> 0) ^ fmix32(Math.floor(key / 0x100000000) ^ fmix32(band + 1))) % partitions;
}

/** What a partition found: duplicate -> owner pairs, similar pairs, the ids it names, and its shape. */
export interface PartitionResult {
  partition: number;
  /** Flattened (duplicate position, owner position). */
  dups: number[];
  /** Flattened (earlier position, later position, similarity) of similar hash owners sharing a bucket here. */
  pairs: number[];
  /** Id of every position named as an owner or a pair end (for `of`). */
  ids: Record<string, string>;
  /** Records seen by shard rank (the sweep numbers positions densely from them). */
  counts: Record<string, number>;
  stats: { hashes: number; bucketEntries: number; candidates: number; largestBucket: number; comparisons: number };
}

/** Step 2: one partition's owners and similar pairs. */
export async function buildPartition(partition: number, params: PartitionParams, source: PartitionSource): Promise<PartitionResult> {
  const { partitions: P, threshold } = params;
  // Pass 1: keys only. Exact: hash -> first position (an array once a second one comes). Near:
  // every (bucket, position) entry in two typed arrays (16 bytes an entry), then only the buckets
  // of two or more are grouped.
  const byHash = new Map<string, number | number[]>();
  const entries = new EntryList();
  const counts: Record<string, number> = {};
  for await (const shard of source.keys()) {
    counts[shard.rank] = shard.keys.length;
    shard.keys.forEach((c, i) => {
      const g = globalPos(shard.rank, i);
      if (c.hash !== null && hashPartition(c.hash, P) === partition) {
        const had = byHash.get(c.hash);
        if (had === undefined) byHash.set(c.hash, g);
        else if (typeof had === 'number') byHash.set(c.hash, [had, g]);
        else had.push(g);
      }
      c.bands?.forEach((key, b) => {
        if (bucketPartition(b, key, P) === partition) entries.push((BigInt(b) << 52n) | BigInt(key), g);
      });
    });
  }
  const bucketEntries = entries.n;
  const buckets = entries.groupsOfTwoOrMore();
  entries.clear();
  const dups: number[] = [];
  for (const list of byHash.values()) {
    if (typeof list === 'number') continue;
    const owner = list.reduce((a, b) => Math.min(a, b));
    for (const g of list) if (g !== owner) dups.push(g, owner);
  }
  // Pass 2: the data of records in a bucket of two or more (the only ones a pair can come from),
  // and the ids of duplicates' owners (named in `duplicate of <id>`).
  const wanted = new Set<number>();
  let largestBucket = 0;
  for (const list of buckets.values()) {
    largestBucket = Math.max(largestBucket, list.length);
    for (const g of list) wanted.add(g);
  }
  const owners = new Set<number>();
  for (let i = 1; i < dups.length; i += 2) owners.add(dups[i]!);
  const ranks = [...new Set([...wanted, ...owners].map(rankOf))].sort((a, b) => a - b);
  const data = new Map<number, { id: string; hash: string | null; sig: Uint32Array; shingles: Uint32Array | null }>();
  const ids: Record<string, string> = {};
  if (ranks.length > 0) {
    for await (const shard of source.data(ranks)) {
      shard.claims.forEach((c, i) => {
        const g = globalPos(shard.rank, i);
        if (owners.has(g)) ids[g] = c.id;
        if (wanted.has(g) && c.signature) data.set(g, { id: c.id, hash: c.hash, sig: c.signature, shingles: c.shingles ? shingleArray(c.shingles) : null });
      });
    }
  }
  // Each bucket: its members minus later copies of a hash (they stopped at the exact claim), in
  // position order; every pair tested once per partition with the ordered algorithm's test.
  const pairs: number[] = [];
  const tested = new Set<string>();
  let comparisons = 0;
  for (const list of buckets.values()) {
    const firstOfHash = new Map<string, number>();
    const members: number[] = [];
    for (const g of [...list].sort((a, b) => a - b)) {
      const d = data.get(g)!;
      if (d.hash !== null) {
        if (firstOfHash.has(d.hash)) continue;
        firstOfHash.set(d.hash, g);
      }
      members.push(g);
    }
    for (let x = 0; x < members.length; x++) {
      for (let y = x + 1; y < members.length; y++) {
        const i = members[x]!;
        const j = members[y]!;
        const k = `${i}:${j}`;
        if (tested.has(k)) continue;
        tested.add(k);
        comparisons++;
        const s = similarity(data.get(i)!, data.get(j)!, threshold);
        if (s >= threshold) {
          pairs.push(i, j, s);
          ids[i] = data.get(i)!.id;
          ids[j] = data.get(j)!.id;
        }
      }
    }
  }
  return {
    partition,
    dups,
    pairs,
    ids,
    counts,
    stats: { hashes: byHash.size, bucketEntries, candidates: wanted.size, largestBucket, comparisons },
  };
}

/** The ordered algorithm's similarity of two candidates (lib/store/sqlite-dedup-index.ts: claimNearLocked). */
function similarity(a: { sig: Uint32Array; shingles: Uint32Array | null }, b: { sig: Uint32Array; shingles: Uint32Array | null }, threshold: number): number {
  if (a.sig.length !== b.sig.length) return 0;
  let j = estimateJaccard(a.sig, b.sig);
  if (a.shingles && b.shingles && j >= threshold - 0.2) j = sortedJaccard(a.shingles, b.shingles);
  return j;
}

/** (bucket key, position) entries in growing typed arrays. */
class EntryList {
  n = 0;
  private keys = new BigUint64Array(1024);
  private pos = new Float64Array(1024);

  push(key: bigint, g: number): void {
    if (this.n === this.keys.length) {
      const k = new BigUint64Array(this.n * 2);
      k.set(this.keys);
      this.keys = k;
      const p = new Float64Array(this.n * 2);
      p.set(this.pos);
      this.pos = p;
    }
    this.keys[this.n] = key;
    this.pos[this.n++] = g;
  }

  /** Positions of every key held by two entries or more (sorting a copy of the keys finds them). */
  groupsOfTwoOrMore(): Map<bigint, number[]> {
    const sorted = this.keys.slice(0, this.n).sort();
    const hot = new Set<bigint>();
    for (let i = 1; i < sorted.length; i++) if (sorted[i] === sorted[i - 1]) hot.add(sorted[i]!);
    const out = new Map<bigint, number[]>();
    for (let i = 0; i < this.n; i++) {
      const k = this.keys[i]!;
      if (!hot.has(k)) continue;
      const list = out.get(k);
      if (list) list.push(this.pos[i]!);
      else out.set(k, [this.pos[i]!]);
    }
    return out;
  }

  clear(): void {
    this.keys = new BigUint64Array(0);
    this.pos = new Float64Array(0);
  }
}

/** Step 3: the decisions of every record, by shard rank, from all partitions' results. */
export function sweep(results: PartitionResult[]): { decisions: Map<number, DedupDecision[]>; stats: { records: number; pairs: number; kept: number } } {
  if (results.length === 0) return { decisions: new Map(), stats: { records: 0, pairs: 0, kept: 0 } };
  const counts = results[0]!.counts;
  const ranks = Object.keys(counts).map(Number).sort((a, b) => a - b);
  const offset = new Map<number, number>();
  let n = 0;
  for (const r of ranks) (offset.set(r, n), (n += counts[r]!));
  const dense = (g: number) => offset.get(rankOf(g))! + indexOf(g);
  const ids: Record<string, string> = Object.assign({}, ...results.map((r) => r.ids));

  const dupOf = new Map<number, number>();
  for (const r of results) for (let i = 0; i < r.dups.length; i += 2) dupOf.set(r.dups[i]!, r.dups[i + 1]!);
  // Earlier neighbours of each later end, as (earlier, similarity); the same pair may come from several partitions.
  const earlier = new Map<number, Map<number, number>>();
  let pairCount = 0;
  for (const r of results) {
    for (let i = 0; i < r.pairs.length; i += 3) {
      const a = r.pairs[i]!;
      const b = r.pairs[i + 1]!;
      let m = earlier.get(b);
      if (!m) earlier.set(b, (m = new Map()));
      if (!m.has(a)) pairCount++;
      m.set(a, r.pairs[i + 2]!);
    }
  }
  const kept = new Uint8Array(n);
  const decisions = new Map<number, DedupDecision[]>();
  let keptCount = 0;
  for (const r of ranks) {
    const list: DedupDecision[] = [];
    for (let i = 0; i < counts[r]!; i++) {
      const g = globalPos(r, i);
      const owner = dupOf.get(g);
      if (owner !== undefined) {
        list.push({ kind: 'duplicate', of: ids[owner]! });
        continue;
      }
      let best: { g: number; s: number } | null = null;
      for (const [a, s] of earlier.get(g) ?? []) {
        if (!kept[dense(a)]) continue;
        if (best === null || s > best.s || (s === best.s && a < best.g)) best = { g: a, s };
      }
      if (best) list.push({ kind: 'near_duplicate', of: ids[best.g]! });
      else {
        kept[dense(g)] = 1;
        keptCount++;
        list.push({ kind: 'kept' });
      }
    }
    decisions.set(r, list);
  }
  return { decisions, stats: { records: n, pairs: pairCount, kept: keptCount } };
}
