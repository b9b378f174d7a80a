// How shards move between stages, derived from the pipeline spec (lib/pipeline/spec.ts): which
// blob a stage reads, what it sends next, which barrier a stage feeds, which fan-in a stage
// completes. Shard ids carry their branch's prefix (u00003, g00012).
//
// A barrier stage (dedup) starts no shard of a branch until the previous stage has finished every
// shard of it and the barrier's branch-wide tasks have run; its task and finish messages are
// messages of the stage itself with step ids (`g.task3`, `g.finish`) in place of a shard. So the
// survivor of a duplicate group is the earliest record in (shard, position) order, whatever the
// timing: same input and cassette, same dataset, locally, on AWS, after any crash.
import type { ShardMessage } from '../store/ports.ts';
import { keys } from './keys.ts';
import { BRANCHES, sourceStage, stageOf, type Branch, type PipelineSpec } from './spec.ts';

export type { Branch } from './spec.ts';

export function branchOf(spec: PipelineSpec, shard: string): Branch {
  for (const b of BRANCHES) if (shard.startsWith(spec.branches[b].prefix)) return b;
  throw new Error(`shard id without a branch prefix: ${shard}`);
}

/**
 * A shard's id: the branch prefix and the index, padded to 5 digits (g00012). Past 99,999 one `~`
 * per extra digit goes before the digits (g~100000, g~~1000000): `~` sorts after every digit, so
 * ids sort as their indices at any size (S3 listings, DynamoDB sort keys, stats).
 */
export function shardId(spec: PipelineSpec, branch: Branch, index: number): string {
  if (!Number.isSafeInteger(index) || index < 0) throw new Error(`shard index must be a non-negative integer, got ${index}`);
  const digits = String(index).padStart(5, '0');
  return `${spec.branches[branch].prefix}${'~'.repeat(digits.length - 5)}${digits}`;
}

export function shardIndex(shard: string): number {
  return Number(shard.replace(/^[a-z]+~*/, ''));
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

/** The message(s) to send once a stage has written a shard's output (a barrier successor waits for its branch: see barrierAfter). */
export function nextOf(spec: PipelineSpec, msg: ShardMessage): ShardMessage[] {
  const next = successorOf(spec, msg.stage, msg.shard);
  if (!next || stageOf(spec, next).barrier) return [];
  return [{ runId: msg.runId, stage: next, shard: msg.shard }];
}

/** The barrier stage that `stage`'s output of `shard` feeds, if its successor is one. */
export function barrierAfter(spec: PipelineSpec, stage: string, shard: string): string | null {
  const next = successorOf(spec, stage, shard);
  return next && stageOf(spec, next).barrier ? next : null;
}

/** A barrier's step ids: task i and the finish of a branch, under the branch's prefix. */
export const barrierTask = (spec: PipelineSpec, branch: Branch, i: number): string => `${spec.branches[branch].prefix}.task${i}`;
export const barrierFinish = (spec: PipelineSpec, branch: Branch): string => `${spec.branches[branch].prefix}.finish`;

/** The step a barrier stage's message names, or null for an ordinary shard. */
export function barrierStepOf(spec: PipelineSpec, shard: string): { branch: Branch; task: number | null } | null {
  const m = /^([a-z]+)\.(?:task(\d+)|finish)$/.exec(shard);
  if (!m) return null;
  const branch = BRANCHES.find((b) => spec.branches[b].prefix === m[1]);
  if (!branch) throw new Error(`barrier step of an unknown branch: ${shard}`);
  return { branch, task: m[2] === undefined ? null : Number(m[2]) };
}

/**
 * State-store key under which a barrier counts its prepared shards, finished tasks and finish, per
 * branch; the fan-in counts its tasks the same way, per plan (scope: the plan's id).
 */
export const barrierKey = (stage: string, what: 'prepared' | 'tasks' | 'finish', scope: Branch | string): string => `${stage}:${what}:${scope}`;

/**
 * The fan-in's steps (assemble in parallel): the trigger is `all`; it plans the parts and sends a
 * task per part (`all.<plan>.task3`); the task that completes the plan's count sends the finish
 * (`all.<plan>.finish`). The plan's id is in every step, so a re-assemble of a changed run (after
 * `--retry-failed`) counts its own tasks, never the earlier plan's.
 */
export const FAN_IN_TRIGGER = 'all';
export const fanInTask = (plan: string, i: number): string => `${FAN_IN_TRIGGER}.${plan}.task${i}`;
export const fanInFinish = (plan: string): string => `${FAN_IN_TRIGGER}.${plan}.finish`;

/** The step a fan-in message names: the trigger (null), or a plan's task or finish. */
export function fanInStepOf(shard: string): { plan: string; task: number | null } | null {
  if (shard === FAN_IN_TRIGGER) return null;
  const m = /^all\.([0-9a-f]+)\.(?:task(\d+)|finish)$/.exec(shard);
  if (!m) throw new Error(`not a fan-in step: ${shard}`);
  return { plan: m[1]!, task: m[2] === undefined ? null : Number(m[2]) };
}

/** State-store key of a close (what follows the count `counted` once complete): its owner's claim and its done mark (runner's closeOnce). */
export const closeKey = (counted: string): string => `close:${counted}`;

/** The branch whose fan-in a finished shard counts toward, if this stage ends it. */
export function completesBranch(spec: PipelineSpec, stage: string, shard: string): Branch | null {
  const { list, i } = positionOf(spec, stage, shard);
  return i >= 0 && i === list.length - 1 ? branchOf(spec, shard) : null;
}
