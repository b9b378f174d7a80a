// The dedup stage: exact and near-duplicate removal across the whole run. Each record that
// passed filter becomes a claim (a hash of its normalized tokens, a MinHash signature of their
// shingles, and the shingles themselves for exact confirmation); the shard's claims go to the
// run's DedupIndex in one call, in record order. The pipeline runs this stage in shard order
// (lib/pipeline/spec.ts: `ordered`), so the survivor of a duplicate group is the earliest record.
import type { DedupConfig } from '../codecot/filter-config.ts';
import { shingleArray } from '../dedup/claims.ts';
import { MinHasher, shingleSet } from '../dedup/minhash.ts';
import { hashTokens, normalizeTokens } from '../dedup/normalize.ts';
import type { ExecutedRecord } from '../schema.ts';
import type { DedupClaim, DedupIndex } from '../store/ports.ts';
import { addCounter, emptyOutput, type StageOutput } from './types.ts';

export const DEDUP_STAGE = 'dedup';

export interface DedupContext {
  runId: string;
  index: DedupIndex;
}

const hashers = new Map<number, MinHasher>();
function hasherFor(numPerm: number): MinHasher {
  let h = hashers.get(numPerm);
  if (!h) hashers.set(numPerm, (h = new MinHasher(numPerm)));
  return h;
}

/** A record's claim: what the index compares it by. */
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

export async function dedupShard(records: readonly ExecutedRecord[], cfg: DedupConfig, ctx: DedupContext): Promise<StageOutput<ExecutedRecord>> {
  const out = emptyOutput<ExecutedRecord>();
  if (!cfg.exact && !cfg.near) {
    out.kept.push(...records);
    return out;
  }
  // A record whose claim cannot be computed fails alone; the rest are claimed in order.
  const claims: DedupClaim[] = [];
  const claimAt = new Map<number, number>();
  records.forEach((rec, i) => {
    try {
      claimAt.set(i, claims.push(claimOf(rec, cfg)) - 1);
    } catch (err) {
      out.failed.push({ id: rec.id, stage: DEDUP_STAGE, reason: 'dedup_error', detail: String((err as Error)?.message ?? err), record: rec });
    }
  });
  const decisions = claims.length ? await ctx.index.claim(ctx.runId, claims) : [];
  addCounter(out.counters, 'dedup.checked', claims.length);
  addCounter(out.counters, cfg.near && cfg.confirm === 'exact' ? 'dedup.confirm.exact' : 'dedup.confirm.estimate', claims.length);
  records.forEach((rec, i) => {
    const at = claimAt.get(i);
    if (at === undefined) return;
    const d = decisions[at]!;
    if (d.kind === 'kept') out.kept.push(rec);
    else {
      addCounter(out.counters, `dedup.${d.kind}`);
      out.rejected.push({ id: rec.id, stage: DEDUP_STAGE, reason: d.kind, detail: d.of, record: rec });
    }
  });
  return out;
}
