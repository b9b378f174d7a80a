// The filter stage: Caco's rules and ours, then exact and near-duplicate removal across the whole
// run through the DedupIndex port. Records keep their input order; every record ends up kept,
// rejected (with the rule's reason) or failed, so in = kept + rejected + failed.
import type { ExecutedRecord, Rejection } from '../schema.ts';
import type { DedupIndex } from '../store/ports.ts';
import type { FilterConfig } from '../codecot/filter-config.ts';
import { enabledRules, ruleContext } from '../codecot/rules.ts';
import { normalizeTokens, hashTokens } from '../dedup/normalize.ts';
import { MinHasher, signatureOf } from '../dedup/minhash.ts';
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

export async function filterShard(records: ExecutedRecord[], cfg: FilterConfig, deps: FilterDeps): Promise<StageOutput<ExecutedRecord>> {
  const out = emptyOutput<ExecutedRecord>();
  const rules = enabledRules(cfg);
  const reject = (r: ExecutedRecord, reason: string, detail?: string): void => {
    const rej: Rejection = { id: r.id, stage: 'filter', reason, record: r };
    if (detail !== undefined) rej.detail = detail;
    out.rejected.push(rej);
  };

  for (const rec of records) {
    let verdict: { reason: string; detail?: string } | null = null;
    try {
      const ctx = ruleContext(rec, cfg);
      for (const rule of rules) {
        addCounter(out.counters, `rule.${rule.name}.checked`);
        verdict = rule.check(rec, ctx);
        if (verdict) {
          addCounter(out.counters, `rule.${rule.name}.rejected`);
          break;
        }
      }
      if (!rec.rerun && cfg.rules.deterministic && !verdict) addCounter(out.counters, 'determinism_unchecked');
    } catch (err) {
      out.failed.push({ id: rec.id, stage: 'filter', reason: 'filter_error', detail: String((err as Error)?.message ?? err), record: rec });
      continue;
    }
    if (verdict) {
      reject(rec, verdict.reason, verdict.detail);
      continue;
    }

    const d = cfg.dedup;
    if (d.exact || d.near) {
      const tokens = normalizeTokens(rec.code);
      if (d.exact) {
        addCounter(out.counters, 'dedup.exact.checked');
        const owner = await deps.dedup.claimExact(deps.runId, hashTokens(tokens), rec.id);
        if (owner !== rec.id) {
          addCounter(out.counters, 'dedup.exact.rejected');
          reject(rec, 'duplicate', owner);
          continue;
        }
      }
      if (d.near) {
        addCounter(out.counters, 'dedup.near.checked');
        const sig = signatureOf(hasherFor(d.numPerm), tokens, d.shingleSize);
        const survivor = await deps.dedup.claimNear(deps.runId, rec.id, sig);
        if (survivor !== null && survivor !== rec.id) {
          addCounter(out.counters, 'dedup.near.rejected');
          reject(rec, 'near_duplicate', survivor);
          continue;
        }
      }
    }
    out.kept.push(rec);
  }
  return out;
}
