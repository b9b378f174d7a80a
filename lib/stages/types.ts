// What every stage returns: the datatrove shape. Conservation law for every stage and shard:
// records in = kept + rejected + failed. `rejected` is a decision about the record (too short,
// duplicate, wrong answer); `failed` is something that went wrong around it (LLM outage after all
// retries, sandbox crash) and may succeed on a later attempt.
import type { Rejection } from '../schema.ts';

export interface StageOutput<T> {
  kept: T[];
  rejected: Rejection[];
  failed: Rejection[];
  /** Free-form counters (tokens, cache hits, ...); summed across shards by the orchestrator. */
  counters: Record<string, number>;
}

export function emptyOutput<T>(): StageOutput<T> {
  return { kept: [], rejected: [], failed: [], counters: {} };
}

export function addCounter(counters: Record<string, number>, name: string, by = 1): void {
  counters[name] = (counters[name] ?? 0) + by;
}

/** One record's fate inside a stage. */
export type Outcome<T> = { kind: 'kept'; rec: T } | { kind: 'rejected' | 'failed'; rej: Rejection };

/** Files per-record outcomes (in input order) into the stage output and counts what was kept. */
export function collectOutcomes<T>(out: StageOutput<T>, results: readonly Outcome<T>[]): StageOutput<T> {
  for (const r of results) {
    if (r.kind === 'kept') out.kept.push(r.rec);
    else if (r.kind === 'rejected') out.rejected.push(r.rej);
    else out.failed.push(r.rej);
  }
  addCounter(out.counters, 'kept', out.kept.length);
  return out;
}
