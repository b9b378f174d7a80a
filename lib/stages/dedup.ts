// The dedup stage: exact and near-duplicate removal across the whole run, the earliest record of
// each duplicate group in (shard, position) order surviving. It is a barrier stage (spec:
// `barrier`), computed in parallel partitions (lib/dedup/partitioned.ts, which says why the
// answers equal the ordered algorithm's):
//   prepare (per shard, after filter): each record's claim (a hash of its normalized tokens, a
//     MinHash signature of their shingles, the shingles themselves for exact confirmation) into
//     two blobs, keys and data (lib/dedup/claim-blobs.ts);
//   task p (P in parallel, once every shard of the branch is prepared): partition p's owners and
//     similar pairs;
//   finish (one): the sweep over the pairs; each shard's decisions into a small blob;
//   shard (per shard, in parallel): apply the decisions: kept, `duplicate`, `near_duplicate`.
import type { DedupConfig } from '../codecot/filter-config.ts';
import { decodeData, decodeKeys, encodeData, encodeKeys, type ClaimOrFailure } from '../dedup/claim-blobs.ts';
import { shingleArray } from '../dedup/claims.ts';
import { bandKeys, MinHasher, shingleSet } from '../dedup/minhash.ts';
import { hashTokens, normalizeTokens } from '../dedup/normalize.ts';
import { buildPartition, sweep, type PartitionResult, type PartitionSource } from '../dedup/partitioned.ts';
import { keys } from '../pipeline/keys.ts';
import type { BarrierStep } from '../pipeline/runner.ts';
import type { ExecutedRecord } from '../schema.ts';
import type { BlobStore, DedupClaim, DedupDecision } from '../store/ports.ts';
import { addCounter, emptyOutput, type StageOutput } from './types.ts';

export const DEDUP_STAGE = 'dedup';

/** Records per partition when the run config does not set `filter.dedup.partitions`. */
export const RECORDS_PER_PARTITION = 500_000;
/** Blobs read or written at once by a task or the finish (a task reads every shard's keys blob: 53,000 at paper scale). */
const IO_CONCURRENCY = 32;

const hashers = new Map<number, MinHasher>();
function hasherFor(numPerm: number): MinHasher {
  let h = hashers.get(numPerm);
  if (!h) hashers.set(numPerm, (h = new MinHasher(numPerm)));
  return h;
}

const enabled = (cfg: DedupConfig) => cfg.exact || cfg.near;

/** A record's claim: what dedup compares it by. */
export function claimOf(rec: { id: string; code: string }, cfg: DedupConfig): DedupClaim {
  const tokens = normalizeTokens(rec.code);
  const claim: DedupClaim = { id: rec.id, hash: cfg.exact ? hashTokens(tokens) : null, signature: null };
  if (cfg.near) {
    const shingles = shingleSet(tokens, cfg.shingleSize);
    claim.signature = hasherFor(cfg.numPerm).signature(shingles);
    if (cfg.confirm === 'exact') claim.shingles = shingleArray(shingles);
  }
  return claim;
}

/** Prepare: the shard's claims, in record order, as its keys and data blobs (a claim that cannot be computed fails its record alone). */
export async function prepareDedup(records: readonly ExecutedRecord[], cfg: DedupConfig, blobs: BlobStore, runId: string, shard: string): Promise<void> {
  if (!enabled(cfg)) return;
  const list: ClaimOrFailure[] = records.map((rec) => {
    try {
      const claim = claimOf(rec, cfg);
      return { claim, bands: claim.signature ? bandKeys(claim.signature, cfg.bands) : null };
    } catch (err) {
      return { failed: String((err as Error)?.message ?? err), id: rec.id };
    }
  });
  await blobs.put(keys.dedupClaimData(runId, shard), encodeData(list));
  await blobs.put(keys.dedupClaimKeys(runId, shard), encodeKeys(list));
}

/** How many partitions a branch of `records` (at most) gets. */
export function partitionsFor(cfg: DedupConfig, records: number): number {
  return cfg.partitions ?? Math.max(1, Math.ceil(records / RECORDS_PER_PARTITION));
}

async function need(blobs: BlobStore, key: string): Promise<Buffer> {
  const b = await blobs.get(key);
  if (!b) throw new Error(`dedup: ${key} is missing`);
  return b;
}

/** Yields f(item) for every item, at most `limit` in flight, in completion order. */
async function* mapUnordered<T, R>(items: T[], limit: number, f: (item: T) => Promise<R>): AsyncGenerator<R> {
  const inFlight = new Map<number, Promise<[number, R]>>();
  let next = 0;
  const start = () => {
    const i = next++;
    inFlight.set(i, f(items[i]!).then((r) => [i, r] as [number, R]));
  };
  while (next < items.length && inFlight.size < limit) start();
  while (inFlight.size > 0) {
    const [i, r] = await Promise.race(inFlight.values());
    inFlight.delete(i);
    if (next < items.length) start();
    yield r;
  }
}

function blobSource(blobs: BlobStore, runId: string, shards: string[]): PartitionSource {
  const ranks = shards.map((_, i) => i);
  return {
    keys: () => mapUnordered(ranks, IO_CONCURRENCY, async (rank) => ({ rank, keys: decodeKeys(await need(blobs, keys.dedupClaimKeys(runId, shards[rank]!))) })),
    data: (wanted) => mapUnordered(wanted, IO_CONCURRENCY, async (rank) => ({ rank, claims: decodeData(await need(blobs, keys.dedupClaimData(runId, shards[rank]!))) })),
  };
}

/** Task p: partition p's owners and similar pairs, into its blob. */
export async function dedupTask(step: BarrierStep, p: number, cfg: DedupConfig, blobs: BlobStore): Promise<PartitionResult> {
  const result = enabled(cfg)
    ? await buildPartition(p, { threshold: cfg.threshold, partitions: step.tasks }, blobSource(blobs, step.runId, step.shards))
    : null;
  const out = result ?? { partition: p, dups: [], pairs: [], ids: {}, counts: {}, stats: { hashes: 0, bucketEntries: 0, candidates: 0, largestBucket: 0, comparisons: 0 } };
  await blobs.put(keys.dedupPartition(step.runId, step.branch, p), JSON.stringify(out));
  return out;
}

/** Finish: the sweep over every partition's pairs; each shard's decisions into its blob. */
export async function dedupFinish(step: BarrierStep, cfg: DedupConfig, blobs: BlobStore): Promise<{ records: number; pairs: number; kept: number }> {
  if (!enabled(cfg)) return { records: 0, pairs: 0, kept: 0 };
  const parts: PartitionResult[] = [];
  for await (const part of mapUnordered([...Array(step.tasks).keys()], IO_CONCURRENCY, async (p) => JSON.parse((await need(blobs, keys.dedupPartition(step.runId, step.branch, p))).toString('utf8')) as PartitionResult)) {
    parts.push(part);
  }
  const { decisions, stats } = sweep(parts);
  const ranks = step.shards.map((_, i) => i);
  for await (const _ of mapUnordered(ranks, IO_CONCURRENCY, (r) => blobs.put(keys.dedupDecisions(step.runId, step.shards[r]!), JSON.stringify(decisions.get(r) ?? [])))) void _;
  return stats;
}

export interface DedupContext {
  runId: string;
  shard: string;
  blobs: BlobStore;
}

/** A shard: the finish's decisions applied to its records. */
export async function dedupShard(records: readonly ExecutedRecord[], cfg: DedupConfig, ctx: DedupContext): Promise<StageOutput<ExecutedRecord>> {
  const out = emptyOutput<ExecutedRecord>();
  if (!enabled(cfg)) {
    out.kept.push(...records);
    return out;
  }
  const claimKeys = decodeKeys(await need(ctx.blobs, keys.dedupClaimKeys(ctx.runId, ctx.shard)));
  const decisions = JSON.parse((await need(ctx.blobs, keys.dedupDecisions(ctx.runId, ctx.shard))).toString('utf8')) as DedupDecision[];
  if (claimKeys.length !== records.length || decisions.length !== records.length) {
    throw new Error(`dedup of ${ctx.shard}: ${records.length} records but ${claimKeys.length} claims and ${decisions.length} decisions`);
  }
  let checked = 0;
  records.forEach((rec, i) => {
    const failed = claimKeys[i]!.failed;
    if (failed !== null) {
      out.failed.push({ id: rec.id, stage: DEDUP_STAGE, reason: 'dedup_error', detail: failed, record: rec });
      return;
    }
    checked++;
    const d = decisions[i]!;
    if (d.kind === 'kept') out.kept.push(rec);
    else {
      addCounter(out.counters, `dedup.${d.kind}`);
      out.rejected.push({ id: rec.id, stage: DEDUP_STAGE, reason: d.kind, detail: d.of, record: rec });
    }
  });
  addCounter(out.counters, 'dedup.checked', checked);
  addCounter(out.counters, cfg.near && cfg.confirm === 'exact' ? 'dedup.confirm.exact' : 'dedup.confirm.estimate', checked);
  return out;
}
