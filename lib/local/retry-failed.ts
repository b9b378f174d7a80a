// `caco run --retry-failed`: puts a local run's failed work back in its queue. A shard whose
// stage failed some records (an LLM outage, a wrong key, a sandbox crash) is redone from that
// stage to the end of its branch: its records already answered come back from the response cache
// (failed calls were never cached), so only what failed is bought. Dead-lettered shard messages
// are revived with fresh attempts. Shards without failures are left as they are, so the few-shot
// pool a finished generate branch used stays the same and nothing it bought is bought again.
import type Database from 'better-sqlite3';
import { branchOf, closeKey } from '../pipeline/flow.ts';
import { keys } from '../pipeline/keys.ts';
import type { PipelineSpec } from '../pipeline/spec.ts';
import type { BlobStore, ShardState } from '../store/ports.ts';
import { SqliteStateStore, SqliteWorkQueue } from '../store/sqlite-state.ts';

export interface Requeued {
  /** (stage, shard) pairs redone from, with the failed records each held. */
  shards: { stage: string; shard: string; failed: number }[];
  deadLetters: number;
}

export async function requeueFailed(db: Database.Database, blobs: BlobStore, runId: string, spec: PipelineSpec): Promise<Requeued> {
  const state = new SqliteStateStore(db);
  const queue = new SqliteWorkQueue(db);
  const run = await state.getRun(runId);
  if (!run) return { shards: [], deadLetters: 0 };
  const revived = db
    .prepare("UPDATE queue SET dead = 0, attempts = 0, visible_at = 0, last_error = NULL WHERE dead = 1 AND json_extract(body, '$.runId') = ?")
    .run(runId).changes;

  const failedCount = (s: ShardState) => Object.values(s.counts.failed).reduce((a, b) => a + b, 0);
  const all = await state.listShards(runId);
  // Per shard, the earliest stage on its branch that failed records: everything from it on is redone.
  const from = new Map<string, { stage: string; failed: number; at: number }>();
  for (const s of all) {
    const n = failedCount(s);
    if (n === 0) continue;
    const stages = spec.branches[branchOf(spec, s.shard)].stages;
    const at = stages.indexOf(s.stage);
    if (at < 0) continue;
    const prev = from.get(s.shard);
    if (!prev || at < prev.at) from.set(s.shard, { stage: s.stage, failed: (prev?.failed ?? 0) + n, at });
    else prev.failed += n;
  }
  const del = db.prepare('DELETE FROM shards WHERE run_id = ? AND stage = ? AND shard = ?');
  for (const [shard, f] of from) {
    for (const stage of spec.branches[branchOf(spec, shard)].stages.slice(f.at)) {
      del.run(runId, stage, shard);
      // A redo writes rejected/failed blobs only when it has some: stale ones must go.
      for (const k of [keys.survivors(runId, stage, shard), keys.rejected(runId, stage, shard), keys.failed(runId, stage, shard), keys.checkpoint(runId, stage, shard)]) {
        await blobs.delete(k);
      }
    }
    await queue.send({ runId, stage: f.stage, shard });
  }
  if (from.size > 0 || revived > 0) {
    await state.setRunStatus(runId, 'running');
    // The branches' fan-in closes again when the redone shards complete them (runner's closeOnce).
    db.prepare('DELETE FROM shards WHERE run_id = ? AND stage LIKE ?').run(runId, `${closeKey('fanIn:')}%`);
    // The finished run's stats must not pass for the new ones before assemble rewrites them.
    await blobs.delete(keys.dataset(runId, 'stats.json'));
  }
  return { shards: [...from].map(([shard, f]) => ({ stage: f.stage, shard, failed: f.failed })), deadLetters: revived };
}
