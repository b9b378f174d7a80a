// Ingest: turns an input stream (a local file or an S3 object) into shards, quarantining bad
// lines with their line number and reason, and starts the run. Idempotent: ingesting the same
// run again (a re-dropped object, a resumed local run) writes the same shards and sends nothing
// new once the ingest shard is recorded.
import type { RunState, ShardMessage } from '../store/ports.ts';
import type { PipelineDeps } from './deps.ts';
import { shardId } from './flow.ts';
import { keys } from './keys.ts';
import { fanInMessage, unifyShards } from './runner.ts';
import { CACO, sourceStage, type PipelineSpec } from './spec.ts';
import { readJsonLines } from './lines.ts';
import { countsOf } from './runner.ts';
import type { Rejection } from '../schema.ts';

export type Validated = { ok: true; record: { id: string } } | { ok: false; reason: string; detail: string };

export interface IngestParams {
  runId: string;
  /** Where the input came from, for the run record (a path or an s3 key). */
  input: string;
  mode: RunState['mode'];
  shardSize: number;
  /** The run config as JSON, stored at runs/<id>/config.json before any shard exists. */
  configJson: string;
  source: () => AsyncIterable<Uint8Array>;
  /** Validates one parsed line for this mode (a seed for unify/full, a Code CoT for synthesize). */
  validate: (value: unknown) => Validated;
  /** Messages that start the generate branch (synthesize mode, or full mode without seeds). */
  startGenerate: (runId: string) => ShardMessage[];
  maxLineBytes?: number;
  /** The pipeline's shape (default: Caco's). */
  spec?: PipelineSpec;
}

export interface IngestResult {
  runId: string;
  created: boolean;
  accepted: number;
  quarantined: number;
}

/** Messages sent per checkpoint of the fan-out. */
export const FAN_OUT_CHUNK = 2_000;

/**
 * Sends the run's first messages in chunks (batched by the queue), writing after each chunk how
 * many went out: a retried ingest (timeout, crash) resumes there instead of sending all again.
 * The list is a pure function of the input, so a retry builds the same one.
 */
async function sendCheckpointed(runId: string, messages: ShardMessage[], deps: PipelineDeps): Promise<void> {
  const key = keys.fanOutCheckpoint(runId);
  const saved = await deps.blobs.get(key);
  let sent = saved ? Number(JSON.parse(saved.toString('utf8')).sent) || 0 : 0;
  while (sent < messages.length) {
    const chunk = messages.slice(sent, sent + FAN_OUT_CHUNK);
    await deps.queue.sendMany(chunk);
    sent += chunk.length;
    await deps.blobs.put(key, JSON.stringify({ sent, of: messages.length }));
  }
}

export async function ingestRun(p: IngestParams, deps: PipelineDeps): Promise<IngestResult> {
  const spec = p.spec ?? CACO;
  const source = sourceStage(spec);
  const created = await deps.state.createRun({
    runId: p.runId,
    createdAt: new Date().toISOString(),
    status: 'running',
    input: p.input,
    mode: p.mode,
    expected: {},
  });
  const recorded = await deps.state.getShard(p.runId, source, 'input');
  if (recorded) return { runId: p.runId, created, accepted: recorded.counts.kept, quarantined: recorded.counts.in - recorded.counts.kept };

  await deps.blobs.put(keys.config(p.runId), p.configJson);
  const rejected: Rejection[] = [];
  const seenIds = new Set<string>();
  let shard: string[] = [];
  let shards = 0;
  let accepted = 0;
  let lines = 0;
  // synthesize mode: the input is the pool of example Code CoTs, kept whole in one blob.
  const poolLines: string[] = [];

  const flush = async () => {
    if (shard.length === 0) return;
    await deps.blobs.put(keys.survivors(p.runId, source, shardId(spec, 'unify', shards)), shard.join(''));
    shards++;
    shard = [];
  };

  for await (const r of readJsonLines(p.source(), p.maxLineBytes)) {
    lines++;
    if (r.kind === 'quarantine') {
      rejected.push({ id: `line-${r.line}`, stage: source, reason: r.reason, detail: `line ${r.line}: ${r.detail}`, record: r.text });
      continue;
    }
    const v = p.validate(r.value);
    if (!v.ok) {
      rejected.push({ id: `line-${r.line}`, stage: source, reason: v.reason, detail: `line ${r.line}: ${v.detail}`, record: r.value });
      continue;
    }
    if (seenIds.has(v.record.id)) {
      rejected.push({ id: v.record.id, stage: source, reason: 'duplicate_id', detail: `line ${r.line}: id ${v.record.id} seen before`, record: r.value });
      continue;
    }
    seenIds.add(v.record.id);
    accepted++;
    const line = JSON.stringify(v.record) + '\n';
    if (p.mode === 'synthesize') {
      poolLines.push(line);
      continue;
    }
    shard.push(line);
    if (shard.length >= p.shardSize) await flush();
  }
  await flush();

  if (rejected.length) await deps.blobs.put(keys.rejected(p.runId, source, 'input'), rejected.map((r) => JSON.stringify(r) + '\n').join(''));
  const out = { kept: new Array(accepted), rejected, failed: [], counters: { lines } };

  const messages: ShardMessage[] = [];
  // synthesize mode, or full mode with no seeds to unify: generation starts right away.
  if (p.mode === 'synthesize' || (p.mode === 'full' && shards === 0)) {
    await deps.blobs.put(keys.inputPool(p.runId), poolLines.join(''));
    messages.push(...p.startGenerate(p.runId));
    await deps.state.setExpected(p.runId, 'generate', messages.length);
  } else {
    await deps.state.setExpected(p.runId, 'unify', shards);
    messages.push(...unifyShards(p.runId, shards, spec));
  }
  if (messages.length === 0) messages.push(fanInMessage(p.runId, spec));
  await sendCheckpointed(p.runId, messages, deps);
  // The record names no shards: `expected` on the run says how many (53,000 ids would not fit an item).
  await deps.state.recordShard({ runId: p.runId, stage: source, shard: 'input', counts: countsOf(lines, out), next: [] });
  return { runId: p.runId, created, accepted, quarantined: rejected.length };
}
