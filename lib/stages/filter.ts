// The filter stage: Caco's rules and ours, per record (datatrove style: each rule is a tiny
// object returning null or a reason). Records keep their input order; every record ends up kept,
// rejected (with the rule's reason) or failed, so in = kept + rejected + failed. Deduplication
// across the run is the next stage (lib/stages/dedup.ts).
import type { ExecutedRecord, Rejection } from '../schema.ts';
import type { FilterConfig } from '../codecot/filter-config.ts';
import { enabledRules, ruleContext, type RuleVerdict } from '../codecot/rules.ts';
import { addCounter, emptyOutput, type StageOutput } from './types.ts';

export const FILTER_STAGE = 'filter';

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

export function filterShard(records: readonly ExecutedRecord[], cfg: FilterConfig): StageOutput<ExecutedRecord> {
  const out = emptyOutput<ExecutedRecord>();
  for (const rec of records) {
    let verdict: RuleVerdict | null;
    try {
      verdict = applyRules(rec, cfg, out.counters);
    } catch (err) {
      // a record whose checks throw fails alone
      out.failed.push({ id: rec.id, stage: FILTER_STAGE, reason: 'filter_error', detail: String((err as Error)?.message ?? err), record: rec });
      continue;
    }
    if (verdict) out.rejected.push(rejection(rec, verdict.reason, verdict.detail));
    else out.kept.push(rec);
  }
  return out;
}

function rejection(rec: ExecutedRecord, reason: string, detail?: string): Rejection {
  const r: Rejection = { id: rec.id, stage: FILTER_STAGE, reason, record: rec };
  if (detail !== undefined) r.detail = detail;
  return r;
}
