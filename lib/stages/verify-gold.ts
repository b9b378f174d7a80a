// verify-gold: after execute and filter, a unified Code CoT is kept only when the program's output
// equals its seed's gold answer (the paper kept ~43% of unified seeds this way).
import type { ExecutedRecord } from '../schema.ts';
import { answersEqual } from '../answer/equal.ts';
import { clip } from './reply-checks.ts';
import type { StageContext } from './types-context.ts';
import { addCounter, emptyOutput, type StageOutput } from './types.ts';

export const VERIFY_GOLD_STAGE = 'verify-gold';

/** `ctx` is accepted for a uniform stage signature; the check needs no LLM. */
export function verifyGoldShard(executed: readonly ExecutedRecord[], _ctx?: StageContext): StageOutput<ExecutedRecord> {
  const out = emptyOutput<ExecutedRecord>();
  out.counters.in = executed.length;
  for (const rec of executed) {
    const reject = (reason: string, detail: string) => out.rejected.push({ id: rec.id, stage: VERIFY_GOLD_STAGE, reason, detail, record: rec });
    if (rec.gold === undefined || rec.gold.trim() === '') {
      reject('no_gold', 'the record carries no gold answer to check against');
      continue;
    }
    const value = rec.exec.output;
    if (value === null) {
      reject('gold_mismatch', `program produced no output; gold=${clip(rec.gold, 100)}`);
      continue;
    }
    const v = answersEqual(rec.gold, value);
    if (v.equal) out.kept.push(rec);
    else reject('gold_mismatch', `output=${clip(value.str, 100)} gold=${clip(rec.gold, 100)} (${v.reason})`);
  }
  addCounter(out.counters, 'kept', out.kept.length);
  return out;
}
