// How shards move between stages: which blob a stage reads, what it enqueues next, and which
// fan-in a stage completes. Two branches: `u` shards (unify: seeds -> verified Code CoTs) and `g`
// shards (generate: new Code CoTs -> back-translated samples). Shard ids carry the branch prefix.
//
// Deduplication is ordered: `filter` (the per-record rules) runs on shards in parallel, but
// `dedup` claims shard k of a branch only after shard k-1's claims, so the survivor of a
// duplicate group is always the earliest record in (shard, position) order, whatever the timing.
// Same input and cassette, same dataset: locally, on AWS, and after any crash.
import type { ShardMessage, StageName } from '../store/ports.ts';
import { keys } from './keys.ts';

export type Branch = 'unify' | 'generate';

export function branchOf(shard: string): Branch {
  if (shard.startsWith('u')) return 'unify';
  if (shard.startsWith('g')) return 'generate';
  throw new Error(`shard id without a branch prefix: ${shard}`);
}

export function shardId(branch: Branch, index: number): string {
  return `${branch === 'unify' ? 'u' : 'g'}${String(index).padStart(5, '0')}`;
}

export function shardIndex(shard: string): number {
  return Number(shard.slice(1));
}

/** The blob a stage reads for a shard (null: the stage makes its own input, like generate). */
export function inputKeyOf(runId: string, stage: StageName, shard: string): string | null {
  switch (stage) {
    case 'unify':
      return keys.survivors(runId, 'ingest', shard);
    case 'generate':
      return null;
    case 'execute':
      return keys.survivors(runId, branchOf(shard) === 'unify' ? 'unify' : 'generate', shard);
    case 'filter':
      return keys.survivors(runId, 'execute', shard);
    case 'dedup':
      return keys.survivors(runId, 'filter', shard);
    case 'backtranslate':
      return keys.survivors(runId, 'dedup', shard);
    default:
      return null;
  }
}

/** The message(s) to send once a stage has written a shard's output. */
export function nextOf(msg: ShardMessage): ShardMessage[] {
  const to = (stage: StageName): ShardMessage[] => [{ runId: msg.runId, stage, shard: msg.shard }];
  switch (msg.stage) {
    case 'unify':
    case 'generate':
      return to('execute');
    case 'execute':
      return to('filter');
    case 'dedup':
      return branchOf(msg.shard) === 'generate' ? to('backtranslate') : [];
    default:
      // filter -> dedup is gated on the previous shard's dedup: see dedupGate.
      return [];
  }
}

/** The stage that reads a stage's output for the same shard (for the conservation check). */
export function successorOf(stage: StageName, shard: string): StageName | null {
  if (stage === 'filter') return 'dedup';
  const next = nextOf({ runId: '', stage, shard });
  return next[0]?.stage ?? null;
}

/**
 * After `stage` is recorded for `shard`: which dedup shard may start now, if the other half of its
 * condition (filter of k recorded, dedup of k-1 recorded) already holds. Both sides check after
 * recording, so at least one of them sees the other; a double send is skipped by the runner.
 */
export function dedupCandidates(stage: StageName, shard: string): { start: string; needs: { stage: StageName; shard: string } | null } | null {
  const branch = branchOf(shard);
  const k = shardIndex(shard);
  if (stage === 'filter') return { start: shard, needs: k === 0 ? null : { stage: 'dedup', shard: shardId(branch, k - 1) } };
  if (stage === 'dedup') return { start: shardId(branch, k + 1), needs: { stage: 'filter', shard: shardId(branch, k + 1) } };
  return null;
}

/** The fan-in a finished shard counts toward, if this stage ends its branch. */
export function completesBranch(stage: StageName, shard: string): Branch | null {
  if (stage === 'dedup' && branchOf(shard) === 'unify') return 'unify';
  if (stage === 'backtranslate') return 'generate';
  return null;
}
