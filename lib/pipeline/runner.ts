// Runs one shard of one stage: the same code under the local orchestrator and in every Lambda.
// Order of effects makes retries safe: (1) write outputs at deterministic keys (a retry
// overwrites), (2) enqueue the next stage, (3) record the shard with a first-write-wins put,
// (4) if this shard completes a branch, trigger the fan-in. A redelivered message whose shard is
// recorded skips to step 4, so a crash anywhere loses nothing and duplicates nothing.
import type { Rejection } from '../schema.ts';
import type { ShardCounts, ShardMessage, StageName } from '../store/ports.ts';
import type { StageOutput } from '../stages/types.ts';
import type { PipelineDeps } from './deps.ts';
import { completesBranch, dedupCandidates, inputKeyOf, keys, nextOf, shardId, type Branch } from './flow.ts';
import { parseJsonl, toJsonl } from './lines.ts';

export interface ShardContext {
  runId: string;
  stage: StageName;
  shard: string;
  deps: PipelineDeps;
}

export interface StageImpl {
  /** Processes some records of a shard; may be called several times for one shard (chunks). */
  run(records: unknown[], ctx: ShardContext): Promise<StageOutput<unknown>>;
  /** For stages without an input blob (generate): the work items of a shard. */
  makeInput?(ctx: ShardContext): Promise<unknown[]>;
  /** Records per chunk between checkpoint opportunities (default: the whole shard). */
  chunkSize?: number | ((ctx: ShardContext) => Promise<number>);
}

export type ShardStage = 'unify' | 'generate' | 'execute' | 'filter' | 'dedup' | 'backtranslate';

export interface PipelineImpl {
  stages: Record<ShardStage, StageImpl>;
  /** Called once a branch's fan-in is complete; returns the messages to send (may be retried). */
  onBranchComplete(branch: Branch, runId: string, deps: PipelineDeps): Promise<ShardMessage[]>;
  /** The final stage: builds the dataset from every shard; must be idempotent. */
  assemble(runId: string, deps: PipelineDeps): Promise<void>;
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

interface Checkpoint {
  done: number;
  out: StageOutput<unknown>;
}

export type ShardOutcome = 'done' | 'skipped' | 'checkpointed';

export async function processShardMessage(msg: ShardMessage, deps: PipelineDeps, impl: PipelineImpl): Promise<ShardOutcome> {
  if (msg.stage === 'assemble') {
    // A fan-in trigger can arrive more than once (redelivery, both sides of a race): a finished
    // run is not assembled again. Two concurrent copies write identical bytes.
    if ((await deps.state.getRun(msg.runId))?.status === 'done') return 'skipped';
    await impl.assemble(msg.runId, deps);
    return 'done';
  }
  if (msg.stage === 'ingest') throw new Error('ingest is not a shard message: it is triggered by the input itself');
  const stage = msg.stage as ShardStage;
  const done = await deps.state.getShard(msg.runId, stage, msg.shard);
  if (done) {
    await afterRecord(msg, done.counts, await deps.state.recordShard(done), deps, impl);
    return 'skipped';
  }

  const ctx: ShardContext = { runId: msg.runId, stage, shard: msg.shard, deps };
  const stageImpl = impl.stages[stage];
  const input = await readInput(msg, ctx, stageImpl);
  const cpKey = keys.checkpoint(msg.runId, stage, msg.shard);
  const cpBlob = await deps.blobs.get(cpKey);
  const cp: Checkpoint = cpBlob ? (JSON.parse(cpBlob.toString()) as Checkpoint) : { done: 0, out: emptyOut() };

  const size = typeof stageImpl.chunkSize === 'function' ? await stageImpl.chunkSize(ctx) : stageImpl.chunkSize;
  const chunk = size ?? Math.max(1, input.length);
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
  const units = unitsIn(cp.out, input.length);
  checkConservation(msg, units, cp.out);
  cp.out.counters.records = input.length;

  await writeOutputs(msg, cp.out, deps);
  for (const next of nextOf(msg)) await deps.queue.send(next);
  const counts = countsOf(units, cp.out);
  const recorded = await deps.state.recordShard({ runId: msg.runId, stage, shard: msg.shard, counts, next: nextOf(msg).map((m) => m.shard) });
  if (cpBlob) await deps.blobs.delete(cpKey);
  await afterRecord(msg, counts, recorded, deps, impl);
  return 'done';
}

async function readInput(msg: ShardMessage, ctx: ShardContext, stageImpl: StageImpl): Promise<unknown[]> {
  const key = inputKeyOf(msg.runId, msg.stage, msg.shard);
  if (key === null) {
    if (!stageImpl.makeInput) throw new Error(`stage ${msg.stage} has neither an input blob nor makeInput`);
    return stageImpl.makeInput(ctx);
  }
  const blob = await ctx.deps.blobs.get(key);
  if (!blob) throw new Error(`input of ${msg.stage}/${msg.shard} is missing: ${key}`);
  return parseJsonl(blob.toString('utf8'));
}

async function afterRecord(
  msg: ShardMessage,
  _counts: ShardCounts,
  recorded: { doneShards: number },
  deps: PipelineDeps,
  impl: PipelineImpl,
): Promise<void> {
  const gate = dedupCandidates(msg.stage, msg.shard);
  if (gate && (gate.needs === null || (await deps.state.getShard(msg.runId, gate.needs.stage, gate.needs.shard)))) {
    await deps.queue.send({ runId: msg.runId, stage: 'dedup', shard: gate.start });
  }
  const branch = completesBranch(msg.stage, msg.shard);
  if (!branch) return;
  const run = await deps.state.getRun(msg.runId);
  const expected = run?.expected[branch];
  if (expected === undefined || recorded.doneShards < expected) return;
  for (const next of await impl.onBranchComplete(branch, msg.runId, deps)) await deps.queue.send(next);
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
  await deps.blobs.put(keys.output(msg.runId, stage, msg.shard), toJsonl(out.kept));
  if (out.rejected.length) await deps.blobs.put(keys.rejected(msg.runId, stage, msg.shard), toJsonl(out.rejected));
  if (out.failed.length) await deps.blobs.put(keys.failed(msg.runId, stage, msg.shard), toJsonl(out.failed));
}

/** The generate shards of a run: `samples` work items cut into shards of `shardSize`. */
export function generateShards(runId: string, samples: number, shardSize: number): ShardMessage[] {
  const n = Math.ceil(samples / shardSize);
  return Array.from({ length: n }, (_, i) => ({ runId, stage: 'generate' as const, shard: shardId('generate', i) }));
}
