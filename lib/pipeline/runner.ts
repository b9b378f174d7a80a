// Runs one shard of one stage: the same code under the local orchestrator and in every Lambda.
// Order of effects makes retries safe: (1) write outputs at deterministic keys (a retry
// overwrites), (2) enqueue the next stage, (3) record the shard with a first-write-wins put,
// (4) if this shard completes a branch, trigger the fan-in. A redelivered message whose shard is
// recorded skips to step 4, so a crash anywhere loses nothing and duplicates nothing. A stage
// followed by a barrier stage also prepares the shard for it before recording (step 1b) and counts
// it toward the barrier after (step 4); the barrier's task and finish steps run here too, and so
// do the fan-in's (plan, a task per part, finish: the same counted tasks).
import type { Rejection } from '../schema.ts';
import type { ShardCounts, ShardMessage, StageName } from '../store/ports.ts';
import type { StageOutput } from '../stages/types.ts';
import type { PipelineDeps } from './deps.ts';
import { barrierAfter, barrierFinish, barrierKey, barrierStepOf, barrierTask, branchOf, closeKey, completesBranch, FAN_IN_TRIGGER, fanInFinish, fanInStepOf, fanInTask, inputKeyOf, nextOf, shardId, type Branch } from './flow.ts';
import { keys } from './keys.ts';
import { CACO, fanInStage, firstOf, stageOf, type PipelineSpec } from './spec.ts';
import { parseJsonl, toJsonl } from './lines.ts';
import { checkRecords, parseCheckpoint, shardMessageSchema, type Checkpoint } from './messages.ts';
import type { z } from 'zod';
import { describeZodError, RecordError } from '../schema.ts';

export interface ShardContext {
  runId: string;
  stage: StageName;
  shard: string;
  deps: PipelineDeps;
  /** Batch mode: the shard's batch rounds (lib/llm/batch/shard-batch.ts), when its stage uses one. */
  batch?: ShardBatchHook;
}

/** What the runner needs of a shard's batch rounds: wait, or run and submit what was deferred. */
export interface ShardBatchHook {
  /** A batch of this shard is still open (or another worker is submitting one): do not run. */
  readonly waiting: boolean;
  /** After a run: submits the deferred requests as the next round; true when the shard must wait. */
  suspend(): Promise<boolean>;
}

export interface StageImpl {
  /** Processes some records of a shard; may be called several times for one shard (chunks). */
  run(records: unknown[], ctx: ShardContext): Promise<StageOutput<unknown>>;
  /** For stages without an input blob (generate): the work items of a shard. */
  makeInput?(ctx: ShardContext): Promise<unknown[]>;
  /** Records per chunk between checkpoint opportunities (default: the whole shard). */
  chunkSize?: number | ((ctx: ShardContext) => Promise<number>);
  /** The schema of one input record: a blob that does not fit fails the shard naming the field. */
  input?: z.ZodTypeAny;
  /** A barrier stage's branch-wide work (spec: `barrier`). */
  barrier?: BarrierImpl;
}

/**
 * What a barrier stage does between its branch's previous stage and its own shards. Every step is
 * idempotent (deterministic blobs), so a retried or duplicated message changes nothing.
 *   prepare: per shard, by the previous stage's host before it records the shard (dedup: claims);
 *   tasks:   once every shard of the branch is prepared, `tasks` parallel messages (dedup: partitions);
 *   finish:  once every task is done, one message that writes what the shards read; the runner then
 *            sends the stage's shard messages.
 */
export interface BarrierImpl {
  prepare(kept: unknown[], ctx: ShardContext): Promise<void>;
  /** How many tasks a branch of `shards` shards gets (the same answer every time). */
  tasks(runId: string, shards: number, deps: PipelineDeps): Promise<number>;
  task(step: BarrierStep, index: number, deps: PipelineDeps): Promise<void>;
  finish(step: BarrierStep, deps: PipelineDeps): Promise<void>;
}

/**
 * The fan-in in parallel steps, on the barrier's machinery (tasks counted under a state-store key,
 * the count that completes them sends the finish). Every step is idempotent (deterministic blobs).
 *   plan:   once the run's branches are done (the `all` message): what each task does, written as
 *           blobs under an id that is a function of the run's shards; returns the id and task count;
 *   task:   one per part, in parallel; skipped once recorded;
 *   finish: one, once every task is recorded: what depends on all of them, then the run's status,
 *           its last effect (a finished run skips every later fan-in message: the exactly-once close).
 */
export interface FanInImpl {
  plan(runId: string, deps: PipelineDeps): Promise<{ id: string; tasks: number }>;
  /** The task count of plan `id` (as planned; the same answer every time). */
  tasks(runId: string, id: string, deps: PipelineDeps): Promise<number>;
  task(runId: string, id: string, index: number, deps: PipelineDeps): Promise<void>;
  finish(runId: string, id: string, deps: PipelineDeps): Promise<void>;
}

export interface BarrierStep {
  runId: string;
  branch: Branch;
  /** The branch's shard ids, in order. */
  shards: string[];
  tasks: number;
}

export interface PipelineImpl {
  /** The pipeline's shape (lib/pipeline/spec.ts): what each stage reads and what follows it. */
  spec: PipelineSpec;
  /** An implementation for every shard stage of the spec. */
  stages: Record<string, StageImpl>;
  /** Called once a branch's fan-in is complete; returns the messages to send (may be retried). */
  onBranchComplete(branch: Branch, runId: string, deps: PipelineDeps): Promise<ShardMessage[]>;
  /** The final stage in parallel steps (plan, a task per part, finish): the pipeline's own assemble. */
  fanIn?: FanInImpl;
  /** The final stage in one call (pipelines without `fanIn`: tests' toy pipelines); must be idempotent. */
  assemble?(runId: string, deps: PipelineDeps): Promise<void>;
  /** Batch mode: opens a shard's batch rounds when its stage sends requests through a Batch API. */
  batch?(ctx: ShardContext): Promise<ShardBatchHook | null>;
}

/** Leave this much time before a Lambda's deadline to write a checkpoint (at most a tenth of it). */
const CHECKPOINT_MARGIN_MS = 60_000;

/**
 * Time to keep before the deadline when deciding whether to start another chunk: the fixed margin
 * (a tenth of a short invocation), or twice the longest chunk so far when chunks take longer (a
 * chunk of sandbox programs that all hit their timeout), so the next chunk still fits.
 */
export function checkpointMarginMs(invocationMs: number, longestChunkMs: number): number {
  return Math.max(Math.min(CHECKPOINT_MARGIN_MS, invocationMs / 10), 2 * longestChunkMs);
}

/** `waiting`: the shard's requests are in a provider's batch; the batch poller sends the message again. */
export type ShardOutcome = 'done' | 'skipped' | 'checkpointed' | 'waiting';

export async function processShardMessage(msg: ShardMessage, deps: PipelineDeps, impl: PipelineImpl): Promise<ShardOutcome> {
  const valid = shardMessageSchema(impl.spec).safeParse(msg);
  if (!valid.success) throw new RecordError(`not a shard message {runId, stage, shard}: ${describeZodError(valid.error)}`);
  const decl = stageOf(impl.spec, msg.stage);
  if (decl.kind === 'fanIn') return runFanIn(msg, deps, impl);
  if (decl.kind === 'source') throw new Error(`${msg.stage} is not a shard message: it is triggered by the input itself`);
  if (decl.barrier) {
    const step = barrierStepOf(impl.spec, msg.shard);
    if (step) return runBarrierStep(msg, step, deps, impl);
  }
  const stage = msg.stage;
  const done = await deps.state.getShard(msg.runId, stage, msg.shard);
  if (done) {
    await afterRecord(msg, await deps.state.recordShard(done, await fanInExpected(msg, deps, impl)), deps, impl);
    return 'skipped';
  }

  const ctx: ShardContext = { runId: msg.runId, stage, shard: msg.shard, deps };
  const stageImpl = impl.stages[stage];
  if (!stageImpl) throw new Error(`stage ${stage} is declared in the spec but has no implementation`);
  // Batch mode: wait for an open batch without running; otherwise run the whole shard in one chunk
  // (answers come from collected results, so no checkpoints) and submit what it deferred.
  const batch = impl.batch ? await impl.batch(ctx) : null;
  if (batch) {
    if (batch.waiting) return 'waiting';
    ctx.batch = batch;
  }
  const input = await readInput(impl.spec, msg, ctx, stageImpl);
  const cpKey = keys.checkpoint(msg.runId, stage, msg.shard);
  const cpBlob = await deps.blobs.get(cpKey);
  const cp: Checkpoint = cpBlob ? parseCheckpoint(cpBlob.toString('utf8'), cpKey) : { done: 0, out: emptyOut() };

  const size = typeof stageImpl.chunkSize === 'function' ? await stageImpl.chunkSize(ctx) : stageImpl.chunkSize;
  const chunk = batch ? Math.max(1, input.length) : (size ?? Math.max(1, input.length));
  const invocationMs = deps.remainingMs?.() ?? Infinity;
  let longestChunkMs = 0;
  for (let i = cp.done; i < input.length; i += chunk) {
    if (i > cp.done && deps.remainingMs && deps.remainingMs() < checkpointMarginMs(invocationMs, longestChunkMs)) {
      await deps.blobs.put(cpKey, JSON.stringify({ done: i, out: cp.out } satisfies Checkpoint));
      await deps.queue.send(msg);
      deps.log.info('checkpointed shard near the time limit', { ...msg, done: i, of: input.length });
      return 'checkpointed';
    }
    const part = input.slice(i, i + chunk);
    const started = performance.now();
    const out = await stageImpl.run(part, ctx);
    longestChunkMs = Math.max(longestChunkMs, performance.now() - started);
    checkConservation(msg, unitsIn(out, part.length), out);
    mergeInto(cp.out, out);
  }
  if (batch && (await batch.suspend())) return 'waiting';
  const units = unitsIn(cp.out, input.length);
  checkConservation(msg, units, cp.out);
  cp.out.counters.records = input.length;

  await writeOutputs(msg, cp.out, deps);
  const barrier = barrierAfter(impl.spec, stage, msg.shard);
  if (barrier) await barrierOf(impl, barrier).prepare(cp.out.kept, ctx);
  const next = nextOf(impl.spec, msg);
  for (const m of next) await deps.queue.send(m);
  const counts = countsOf(units, cp.out);
  const recorded = await deps.state.recordShard({ runId: msg.runId, stage, shard: msg.shard, counts, next: next.map((m) => m.shard) }, await fanInExpected(msg, deps, impl));
  if (cpBlob) await deps.blobs.delete(cpKey);
  await afterRecord(msg, recorded, deps, impl);
  return 'done';
}

async function readInput(spec: PipelineSpec, msg: ShardMessage, ctx: ShardContext, stageImpl: StageImpl): Promise<unknown[]> {
  const key = inputKeyOf(spec, msg.runId, msg.stage, msg.shard);
  if (key === null) {
    if (!stageImpl.makeInput) throw new Error(`stage ${msg.stage} has neither an input blob nor makeInput`);
    return stageImpl.makeInput(ctx);
  }
  const blob = await ctx.deps.blobs.get(key);
  if (!blob) throw new Error(`input of ${msg.stage}/${msg.shard} is missing: ${key}`);
  const records = parseJsonl(blob.toString('utf8'), key);
  if (stageImpl.input) checkRecords(records, stageImpl.input, key);
  return records;
}

/** The shard count of the branch whose fan-in this shard counts toward, if its stage ends a branch. */
async function fanInExpected(msg: ShardMessage, deps: PipelineDeps, impl: PipelineImpl): Promise<number | undefined> {
  const branch = completesBranch(impl.spec, msg.stage, msg.shard);
  return branch ? (await deps.state.getRun(msg.runId))?.expected[branch] : undefined;
}

async function afterRecord(msg: ShardMessage, recorded: { complete: boolean }, deps: PipelineDeps, impl: PipelineImpl): Promise<void> {
  const barrier = barrierAfter(impl.spec, msg.stage, msg.shard);
  if (barrier) await countTowardBarrier(msg, barrier, deps, impl);
  const branch = completesBranch(impl.spec, msg.stage, msg.shard);
  if (!branch || !recorded.complete) return;
  await closeOnce(msg, closeKey(`fanIn:${branch}`), deps, async () => deps.queue.sendMany(await impl.onBranchComplete(branch, msg.runId, deps)));
}

/**
 * A close (the sends that follow a completed count: a branch's fan-in, a barrier's tasks, its
 * finish) runs once per run. Every message that sees the count complete gets here (the last
 * shard, a concurrent one, every later redelivery); the first to write the claim owns the close,
 * and only the owner's message sends, until the sends are marked done. So a redelivery re-sends
 * nothing, except the owner's own after a crash between its sends and the mark (its messages are
 * idempotent: recorded shards are skipped). If the owner's message dies for good, the close waits
 * for it in the dead letters (`caco redrive`, `caco retry` bring it back).
 */
async function closeOnce(msg: ShardMessage, key: string, deps: PipelineDeps, send: () => Promise<unknown>): Promise<void> {
  const claim = await deps.state.recordShard({ runId: msg.runId, stage: key, shard: 'claim', counts: NO_COUNTS, next: [msg.shard] });
  if (!claim.first) {
    const owner = (await deps.state.getShard(msg.runId, key, 'claim'))?.next[0];
    if (owner !== msg.shard) return;
    if (await deps.state.getShard(msg.runId, key, 'sent')) return;
  }
  await send();
  await deps.state.recordShard({ runId: msg.runId, stage: key, shard: 'sent', counts: NO_COUNTS, next: [] });
}

const NO_COUNTS: ShardCounts = { in: 0, kept: 0, rejected: {}, failed: {}, counters: {} };

function barrierOf(impl: PipelineImpl, stage: string): BarrierImpl {
  const b = impl.stages[stage]?.barrier;
  if (!b) throw new Error(`stage ${stage} is declared a barrier but its implementation has none`);
  return b;
}

async function barrierStep(runId: string, branch: Branch, stage: string, deps: PipelineDeps, impl: PipelineImpl): Promise<BarrierStep> {
  const n = (await deps.state.getRun(runId))?.expected[branch];
  if (n === undefined) throw new Error(`run ${runId} has no expected shard count for branch ${branch}`);
  const tasks = await barrierOf(impl, stage).tasks(runId, n, deps);
  return { runId, branch, shards: Array.from({ length: n }, (_, i) => shardId(impl.spec, branch, i)), tasks };
}

/** A prepared shard counts toward its branch's barrier; the count that completes it sends the tasks, once (closeOnce). */
async function countTowardBarrier(msg: ShardMessage, stage: string, deps: PipelineDeps, impl: PipelineImpl): Promise<void> {
  const branch = branchOf(impl.spec, msg.shard);
  const expected = (await deps.state.getRun(msg.runId))?.expected[branch];
  const rec = await deps.state.recordShard({ runId: msg.runId, stage: barrierKey(stage, 'prepared', branch), shard: msg.shard, counts: NO_COUNTS, next: [] }, expected);
  if (!rec.complete) return;
  await closeOnce(msg, closeKey(barrierKey(stage, 'prepared', branch)), deps, async () => {
    const { tasks } = await barrierStep(msg.runId, branch, stage, deps, impl);
    await deps.queue.sendMany(Array.from({ length: tasks }, (_, i) => ({ runId: msg.runId, stage, shard: barrierTask(impl.spec, branch, i) })));
  });
}

async function runBarrierStep(msg: ShardMessage, at: { branch: Branch; task: number | null }, deps: PipelineDeps, impl: PipelineImpl): Promise<ShardOutcome> {
  const b = barrierOf(impl, msg.stage);
  const step = await barrierStep(msg.runId, at.branch, msg.stage, deps, impl);
  if (at.task !== null) {
    if (at.task >= step.tasks) throw new Error(`barrier task ${msg.shard} of ${msg.stage}: the branch has ${step.tasks} tasks`);
    const task = at.task;
    const finish = { runId: msg.runId, stage: msg.stage, shard: barrierFinish(impl.spec, at.branch) };
    return runCountedTask(msg, barrierKey(msg.stage, 'tasks', at.branch), step.tasks, () => b.task(step, task, deps), finish, deps);
  }
  const key = barrierKey(msg.stage, 'finish', at.branch);
  if (await deps.state.getShard(msg.runId, key, msg.shard)) return 'skipped';
  await b.finish(step, deps);
  // The shards go out before the finish is recorded: a crash in between repeats the sends, and the
  // runner skips a shard that is already recorded.
  await deps.queue.sendMany(step.shards.map((shard) => ({ runId: msg.runId, stage: msg.stage, shard })));
  await deps.state.recordShard({ runId: msg.runId, stage: key, shard: msg.shard, counts: NO_COUNTS, next: [] });
  return 'done';
}

/**
 * One task of a set of parallel steps (a barrier's partitions, the fan-in's parts): runs unless
 * recorded, then counts toward `total` under `key`; the count that completes the set sends the
 * finish (again after a redelivery: a finish is idempotent). A crash before the record repeats
 * the task, which rewrites the same blobs.
 */
async function runCountedTask(msg: ShardMessage, key: string, total: number, work: () => Promise<void>, finish: ShardMessage, deps: PipelineDeps): Promise<ShardOutcome> {
  const done = await deps.state.getShard(msg.runId, key, msg.shard);
  if (!done) await work();
  const rec = await deps.state.recordShard({ runId: msg.runId, stage: key, shard: msg.shard, counts: NO_COUNTS, next: [] }, total);
  // The finish is sent once, whoever else sees the count complete (redeliveries, retries).
  if (rec.complete) await closeOnce(msg, closeKey(key), deps, () => deps.queue.send(finish));
  return done ? 'skipped' : 'done';
}

/**
 * The fan-in: in one call (`assemble`), or in parallel steps (`fanIn`): the trigger plans and sends
 * the tasks, each task counts toward its plan, the last sends the finish. A fan-in message can
 * arrive more than once (redelivery, both sides of a race): a finished run skips it.
 */
async function runFanIn(msg: ShardMessage, deps: PipelineDeps, impl: PipelineImpl): Promise<ShardOutcome> {
  if ((await deps.state.getRun(msg.runId))?.status === 'done') return 'skipped';
  const steps = impl.fanIn;
  if (!steps) {
    if (!impl.assemble) throw new Error('the pipeline has neither fanIn steps nor assemble');
    await impl.assemble(msg.runId, deps);
    return 'done';
  }
  const at = fanInStepOf(msg.shard);
  if (at === null) {
    const plan = await steps.plan(msg.runId, deps);
    await deps.queue.sendMany(Array.from({ length: plan.tasks }, (_, i) => ({ runId: msg.runId, stage: msg.stage, shard: fanInTask(plan.id, i) })));
    return 'done';
  }
  if (at.task === null) {
    await steps.finish(msg.runId, at.plan, deps);
    return 'done';
  }
  const total = await steps.tasks(msg.runId, at.plan, deps);
  if (at.task >= total) throw new Error(`fan-in task ${msg.shard}: plan ${at.plan} has ${total} tasks`);
  const task = at.task;
  return runCountedTask(msg, barrierKey(msg.stage, 'tasks', at.plan), total, () => steps.task(msg.runId, at.plan, task, deps), { runId: msg.runId, stage: msg.stage, shard: fanInFinish(at.plan) }, deps);
}

/**
 * What a stage's conservation is counted in: records, unless the stage declares its own units in
 * `counters.in` (backtranslate with several variants per program: programs x variants).
 */
function unitsIn(out: StageOutput<unknown>, records: number): number {
  return out.counters.in ?? records;
}

function emptyOut(): StageOutput<unknown> {
  return { kept: [], rejected: [], failed: [], counters: {} };
}

function mergeInto(acc: StageOutput<unknown>, out: StageOutput<unknown>): void {
  acc.kept.push(...out.kept);
  acc.rejected.push(...out.rejected);
  acc.failed.push(...out.failed);
  for (const [k, v] of Object.entries(out.counters)) acc.counters[k] = (acc.counters[k] ?? 0) + v;
}

/** The conservation law, per shard: a stage that loses or invents records is a bug, stop loudly. */
function checkConservation(msg: ShardMessage, n: number, out: StageOutput<unknown>): void {
  const total = out.kept.length + out.rejected.length + out.failed.length;
  if (total !== n) {
    throw new Error(
      `conservation violated in ${msg.stage}/${msg.shard}: ${n} in, ${out.kept.length} kept + ${out.rejected.length} rejected + ${out.failed.length} failed`,
    );
  }
}

function tally(list: Rejection[]): Record<string, number> {
  const t: Record<string, number> = {};
  for (const r of list) t[r.reason] = (t[r.reason] ?? 0) + 1;
  return t;
}

export function countsOf(n: number, out: StageOutput<unknown>): ShardCounts {
  return { in: n, kept: out.kept.length, rejected: tally(out.rejected), failed: tally(out.failed), counters: out.counters };
}

async function writeOutputs(msg: ShardMessage, out: StageOutput<unknown>, deps: PipelineDeps): Promise<void> {
  const stage = msg.stage;
  await deps.blobs.put(keys.survivors(msg.runId, stage, msg.shard), toJsonl(out.kept));
  if (out.rejected.length) await deps.blobs.put(keys.rejected(msg.runId, stage, msg.shard), toJsonl(out.rejected));
  if (out.failed.length) await deps.blobs.put(keys.failed(msg.runId, stage, msg.shard), toJsonl(out.failed));
}

/** The generate shards of a run: `samples` work items cut into shards of `shardSize`. */
export function generateShards(runId: string, samples: number, shardSize: number, spec: PipelineSpec = CACO): ShardMessage[] {
  const n = Math.ceil(samples / shardSize);
  return Array.from({ length: n }, (_, i) => ({ runId, stage: firstOf(spec, 'generate'), shard: shardId(spec, 'generate', i) }));
}

/** The message that starts the fan-in of a run. */
export function fanInMessage(runId: string, spec: PipelineSpec = CACO): ShardMessage {
  return { runId, stage: fanInStage(spec), shard: FAN_IN_TRIGGER };
}

/** The message(s) that start the unify branch's `shards` shards. */
export function unifyShards(runId: string, shards: number, spec: PipelineSpec = CACO): ShardMessage[] {
  return Array.from({ length: shards }, (_, i) => ({ runId, stage: firstOf(spec, 'unify'), shard: shardId(spec, 'unify', i) }));
}
