// How shards move between stages, derived from the pipeline spec (lib/pipeline/spec.ts): which
// blob a stage reads, what it sends next, which ordered stage may start, which fan-in a stage
// completes. Shard ids carry their branch's prefix (u00003, g00012).
//
// An ordered stage (dedup) claims shard k of a branch only after shard k-1 is recorded, so the
// survivor of a duplicate group is always the earliest record in (shard, position) order,
// whatever the timing. Same input and cassette, same dataset: locally, on AWS, after any crash.
import type { ShardMessage } from '../store/ports.ts';
import { keys } from './keys.ts';
import { BRANCHES, sourceStage, stageOf, type Branch, type PipelineSpec } from './spec.ts';

export type { Branch } from './spec.ts';

export function branchOf(spec: PipelineSpec, shard: string): Branch {
  for (const b of BRANCHES) if (shard.startsWith(spec.branches[b].prefix)) return b;
  throw new Error(`shard id without a branch prefix: ${shard}`);
}

export function shardId(spec: PipelineSpec, branch: Branch, index: number): string {
  return `${spec.branches[branch].prefix}${String(index).padStart(5, '0')}`;
}

export function shardIndex(shard: string): number {
  return Number(shard.replace(/^[a-z]+/, ''));
}

/** Position of `stage` on the shard's branch (-1: not on it, or not a shard stage). */
function positionOf(spec: PipelineSpec, stage: string, shard: string): { list: string[]; i: number } {
  if (spec.stages.find((s) => s.name === stage)?.kind !== 'shard') return { list: [], i: -1 };
  const list = spec.branches[branchOf(spec, shard)].stages;
  return { list, i: list.indexOf(stage) };
}

/** The stage that reads `stage`'s output for the same shard, or null at the end of the branch. */
export function successorOf(spec: PipelineSpec, stage: string, shard: string): string | null {
  const { list, i } = positionOf(spec, stage, shard);
  return i >= 0 && i + 1 < list.length ? list[i + 1]! : null;
}

/** The blob a stage reads for a shard (null: the stage makes its own input, like generate). */
export function inputKeyOf(spec: PipelineSpec, runId: string, stage: string, shard: string): string | null {
  if (stageOf(spec, stage).makesInput) return null;
  const { list, i } = positionOf(spec, stage, shard);
  if (i < 0) throw new Error(`stage ${stage} does not run on shard ${shard}`);
  return keys.survivors(runId, i === 0 ? sourceStage(spec) : list[i - 1]!, shard);
}

/** The message(s) to send once a stage has written a shard's output (an ordered successor is gated: see orderedStart). */
export function nextOf(spec: PipelineSpec, msg: ShardMessage): ShardMessage[] {
  const next = successorOf(spec, msg.stage, msg.shard);
  if (!next || stageOf(spec, next).ordered) return [];
  return [{ runId: msg.runId, stage: next, shard: msg.shard }];
}

/**
 * After `stage` is recorded for `shard`: which shard of an ordered stage may start now, if the other
 * half of its condition (its input of k recorded, itself at k-1 recorded) already holds. Both sides
 * check after recording, so at least one of them sees the other; a double send is skipped by the runner.
 */
export function orderedStart(spec: PipelineSpec, stage: string, shard: string): { start: ShardRef; needs: ShardRef | null } | null {
  const branch = branchOf(spec, shard);
  const k = shardIndex(shard);
  const next = successorOf(spec, stage, shard);
  if (next && stageOf(spec, next).ordered) {
    return { start: { stage: next, shard }, needs: k === 0 ? null : { stage: next, shard: shardId(spec, branch, k - 1) } };
  }
  const { list, i } = positionOf(spec, stage, shard);
  if (i > 0 && stageOf(spec, stage).ordered) {
    const after = shardId(spec, branch, k + 1);
    return { start: { stage, shard: after }, needs: { stage: list[i - 1]!, shard: after } };
  }
  return null;
}

export interface ShardRef {
  stage: string;
  shard: string;
}

/** The branch whose fan-in a finished shard counts toward, if this stage ends it. */
export function completesBranch(spec: PipelineSpec, stage: string, shard: string): Branch | null {
  const { list, i } = positionOf(spec, stage, shard);
  return i >= 0 && i === list.length - 1 ? branchOf(spec, shard) : null;
}
