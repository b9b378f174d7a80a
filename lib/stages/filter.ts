// The filter stage: Caco's rules and ours, then exact and near-duplicate removal across the whole
// run through the DedupIndex port. Records keep their input order; every record ends up kept,
// rejected (with the rule's reason) or failed, so in = kept + rejected + failed.
import type { ExecutedRecord, Rejection } from '../schema.ts';
import type { DedupIndex } from '../store/ports.ts';
import type { FilterConfig } from '../codecot/filter-config.ts';
import { enabledRules, ruleContext, type RuleVerdict } from '../codecot/rules.ts';
import { normalizeTokens, hashTokens } from '../dedup/normalize.ts';
import { MinHasher, shingleSet } from '../dedup/minhash.ts';
import { isBatchDedupIndex, shingleArray, type DedupClaim, type DedupDecision } from '../dedup/claims.ts';
import { addCounter, emptyOutput, type StageOutput } from './types.ts';

export interface FilterDeps {
  runId: string;
  dedup: DedupIndex;
}

const hashers = new Map<number, MinHasher>();
function hasherFor(numPerm: number): MinHasher {
  let h = hashers.get(numPerm);
  if (!h) hashers.set(numPerm, (h = new MinHasher(numPerm)));
  return h;
}

type Outcome = { kind: 'rule'; verdict: RuleVerdict } | { kind: 'failed'; detail: string } | { kind: 'dedup' };

/** The first enabled rule `rec` fails (counting checks per rule), or null. */
function applyRules(rec: ExecutedRecord, cfg: FilterConfig, counters: Record<string, number>): RuleVerdict | null {
  const ctx = ruleContext(rec, cfg);
  for (const rule of enabledRules(cfg)) {
    addCounter(counters, `rule.${rule.name}.checked`);
    const verdict = rule.check(rec, ctx);
    if (verdict) {
      addCounter(counters, `rule.${rule.name}.rejected`);
      return verdict;
    }
  }
  if (!rec.rerun && cfg.rules.deterministic) addCounter(counters, 'determinism_unchecked');
  return null;
}

/** The dedup claim of a record that passed the rules. */
function claimOf(rec: ExecutedRecord, cfg: FilterConfig, withShingles: boolean): DedupClaim {
  const d = cfg.dedup;
  const tokens = normalizeTokens(rec.code);
  const claim: DedupClaim = { id: rec.id, hash: d.exact ? hashTokens(tokens) : null, signature: null };
  if (d.near) {
    const shingles = shingleSet(tokens, d.shingleSize);
    claim.signature = hasherFor(d.numPerm).signature(shingles);
    if (withShingles) claim.shingles = shingleArray(shingles);
  }
  return claim;
}

/** The port's per-record path: exact claim, then near claim for survivors. */
async function claimOne(dedup: DedupIndex, runId: string, c: DedupClaim): Promise<DedupDecision> {
  if (c.hash !== null) {
    const owner = await dedup.claimExact(runId, c.hash, c.id);
    if (owner !== c.id) return { kind: 'duplicate', of: owner };
  }
  if (c.signature !== null) {
    const of = await dedup.claimNear(runId, c.id, c.signature);
    if (of !== null && of !== c.id) return { kind: 'near_duplicate', of };
  }
  return { kind: 'kept' };
}

export async function filterShard(records: ExecutedRecord[], cfg: FilterConfig, deps: FilterDeps): Promise<StageOutput<ExecutedRecord>> {
  const out = emptyOutput<ExecutedRecord>();
  const dedupOn = cfg.dedup.exact || cfg.dedup.near;
  const batch = isBatchDedupIndex(deps.dedup);
  const withShingles = batch && cfg.dedup.confirm === 'exact';

  // Rules first (cheap, per record); a record whose checks throw fails alone.
  const outcomes: Outcome[] = [];
  const claims: DedupClaim[] = [];
  for (const rec of records) {
    try {
      const verdict = applyRules(rec, cfg, out.counters);
      if (verdict) outcomes.push({ kind: 'rule', verdict });
      else {
        outcomes.push({ kind: 'dedup' });
        if (dedupOn) claims.push(claimOf(rec, cfg, withShingles));
      }
    } catch (err) {
      outcomes.push({ kind: 'failed', detail: String((err as Error)?.message ?? err) });
    }
  }

  // Then deduplication across the run, in input order (earlier records of the shard win).
  let decisions: DedupDecision[] = claims.map(() => ({ kind: 'kept' }));
  if (dedupOn && claims.length) {
    const dedup = deps.dedup;
    if (isBatchDedupIndex(dedup)) decisions = await dedup.claimMany(deps.runId, claims);
    else {
      decisions = [];
      for (const c of claims) decisions.push(await claimOne(dedup, deps.runId, c));
    }
    addCounter(out.counters, 'dedup.checked', claims.length);
    addCounter(out.counters, withShingles ? 'dedup.confirm.exact' : 'dedup.confirm.estimate', claims.length);
  }

  let k = 0;
  records.forEach((rec, i) => {
    const o = outcomes[i];
    if (o.kind === 'failed') {
      out.failed.push({ id: rec.id, stage: 'filter', reason: 'filter_error', detail: o.detail, record: rec });
      return;
    }
    if (o.kind === 'rule') {
      out.rejected.push(rejection(rec, o.verdict.reason, o.verdict.detail));
      return;
    }
    const d = dedupOn ? decisions[k++] : ({ kind: 'kept' } as const);
    if (d.kind === 'kept') out.kept.push(rec);
    else {
      addCounter(out.counters, `dedup.${d.kind}`);
      out.rejected.push(rejection(rec, d.kind, d.of));
    }
  });
  return out;
}

function rejection(rec: ExecutedRecord, reason: string, detail?: string): Rejection {
  const r: Rejection = { id: rec.id, stage: 'filter', reason, record: rec };
  if (detail !== undefined) r.detail = detail;
  return r;
}
