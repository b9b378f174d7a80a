// The dedup barrier in one process, as the pipeline runs it over a branch: prepare every shard,
// run every partition task, finish, then apply each shard's decisions. For tests and benches that
// dedup records without a whole pipeline.
import type { DedupConfig } from '../../lib/codecot/filter-config.ts';
import { shardId } from '../../lib/pipeline/flow.ts';
import type { BarrierStep } from '../../lib/pipeline/runner.ts';
import { CACO } from '../../lib/pipeline/spec.ts';
import type { ExecutedRecord } from '../../lib/schema.ts';
import { dedupFinish, dedupShard, dedupTask, partitionsFor, prepareDedup } from '../../lib/stages/dedup.ts';
import type { StageOutput } from '../../lib/stages/types.ts';
import type { BlobStore } from '../../lib/store/ports.ts';

export async function dedupBranch(shards: ExecutedRecord[][], cfg: DedupConfig, blobs: BlobStore, runId: string): Promise<StageOutput<ExecutedRecord>[]> {
  const ids = shards.map((_, i) => shardId(CACO, 'generate', i));
  await Promise.all(shards.map((recs, i) => prepareDedup(recs, cfg, blobs, runId, ids[i]!)));
  const step: BarrierStep = { runId, branch: 'generate', shards: ids, tasks: partitionsFor(cfg, shards.reduce((a, s) => a + s.length, 0)) };
  for (let p = 0; p < step.tasks; p++) await dedupTask(step, p, cfg, blobs);
  await dedupFinish(step, cfg, blobs);
  return Promise.all(shards.map((recs, i) => dedupShard(recs, cfg, { runId, shard: ids[i]!, blobs })));
}
