// Run statistics from the recorded shards: per stage in / kept / rejected by reason / failed by
// reason / counters, and the two conservation checks: inside each stage (in = kept + rejected +
// failed) and between stages (what a stage kept for a shard is what the next stage took in).
import type { ShardState, StageName } from '../store/ports.ts';
import { successorOf } from './flow.ts';
import { CACO, stageNames, type PipelineSpec } from './spec.ts';

export interface StageStats {
  shards: number;
  in: number;
  kept: number;
  rejected: Record<string, number>;
  failed: Record<string, number>;
  counters: Record<string, number>;
}

export interface RunStats {
  stages: Record<StageName, StageStats>;
  conservation: { ok: boolean; problems: string[] };
}

const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);

function add(into: Record<string, number>, from: Record<string, number>): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

export function computeStats(shards: readonly ShardState[], spec: PipelineSpec = CACO): RunStats {
  const stages: Record<StageName, StageStats> = {};
  const problems: string[] = [];
  const byKey = new Map<string, ShardState>();
  for (const s of shards) {
    byKey.set(`${s.stage}/${s.shard}`, s);
    const st = (stages[s.stage] ??= { shards: 0, in: 0, kept: 0, rejected: {}, failed: {}, counters: {} });
    st.shards++;
    st.in += s.counts.in;
    st.kept += s.counts.kept;
    add(st.rejected, s.counts.rejected);
    add(st.failed, s.counts.failed);
    add(st.counters, s.counts.counters);
    const out = s.counts.kept + sum(s.counts.rejected) + sum(s.counts.failed);
    if (out !== s.counts.in) problems.push(`${s.stage}/${s.shard}: ${s.counts.in} in but ${out} out`);
  }
  // Between stages: the records the next stage read for the same shard are this stage's `kept`
  // (the runner stores the records read as counters.records; `in` may count other units).
  for (const s of shards) {
    const next = successorOf(spec, s.stage, s.shard);
    const n = next && byKey.get(`${next}/${s.shard}`);
    if (!n) continue;
    const read = n.counts.counters.records ?? n.counts.in;
    if (read !== s.counts.kept) problems.push(`${s.stage}/${s.shard} kept ${s.counts.kept} but ${next}/${s.shard} read ${read}`);
  }
  // Pipeline order, whatever order the shards were listed in.
  const ordered: Record<StageName, StageStats> = {};
  for (const st of stageNames(spec)) if (stages[st]) ordered[st] = stages[st];
  return { stages: ordered, conservation: { ok: problems.length === 0, problems } };
}
