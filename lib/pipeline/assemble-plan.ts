// Assemble's plan: which rows go into which Parquet part of which config, decided before any part
// is written, from the run's listings and per-shard counts (the shard records), so every part can
// be compacted by its own task in parallel (lib/pipeline/assemble.ts). Part boundaries depend only
// on the shards (their order is their id's, the rows of each its record's count), never on which
// task runs first or how long it takes.
//
// The rule is the single writer's (lib/pipeline/parquet-parts.ts): rows in dataset order, a part
// closes once it has `maxRows` rows or `maxBytes` of row JSON. Rows are counted exactly; their
// bytes are estimated per source group (the samples, the CodeGen set, each stage's rejected and
// failed records) from the first non-empty blob of the group, so where a part would close by bytes
// the plan closes it at the estimate (rows are never read to plan). Whenever parts close by rows
// (every run whose parts stay under ~256 MB) the parts are the single writer's, row for row.
import { createHash } from 'node:crypto';
import type { ExecutedRecord, Rejection } from '../schema.ts';
import type { BacktranslatedRecord } from '../stages/backtranslate.ts';
import type { BlobStore, ShardState } from '../store/ports.ts';
import type { PipelineDeps } from './deps.ts';
import { CONFIGS, codegenRow, dataRow, rejectedRow, rlvrRow, sftRow, type ConfigName } from './dataset-layout.ts';
import { keys } from './keys.ts';
import { parseJsonl } from './lines.ts';
import { HUB_LIMITS, type PartLimits } from './parquet-parts.ts';
import { CACO, lastOf, stageNames, type PipelineSpec } from './spec.ts';

/** Rows [from, to) of a source blob of `of` rows (the task checks `of` against what it reads). */
export interface Slice {
  key: string;
  from: number;
  to: number;
  of: number;
  /** Rejected config: whether the blob holds rejected or failed records. */
  outcome?: 'rejected' | 'failed';
}

/** What one task writes: part `part` of `config`, its rows from `slices` in order. */
export interface PartPlan {
  config: ConfigName;
  part: number;
  rows: number;
  /** The dataset-wide index of the part's first row (rlvr's `extra_info.index`). */
  first: number;
  slices: Slice[];
}

/** The plan's summary (its blob): every part in dataset order, one task each. */
export interface PlanSummary {
  id: string;
  runId: string;
  jsonl: boolean;
  limits: PartLimits;
  parts: Omit<PartPlan, 'slices'>[];
}

export interface Source {
  key: string;
  rows: number;
  outcome?: 'rejected' | 'failed';
  /** The byte-estimate group (samples, codegen, `<stage>/<outcome>`). */
  group: string;
}

const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);

/** The stage and shard a blob key names: `runs/<id>/<stage>/<shard>.jsonl` or `runs/<id>/<rejected|failed>/<stage>/<shard>.jsonl`. */
function stageShardOf(key: string, nested: boolean): { stage: string; shard: string } {
  const parts = key.split('/');
  const stage = parts[nested ? 3 : 2]!;
  const file = parts.at(-1)!;
  return { stage, shard: file.replace(/\.jsonl$/, '') };
}

/** Every rejected and failed blob of the run, stage by stage in pipeline order (ingest first), rejected before failed. */
async function rejectionBlobs(blobs: BlobStore, runId: string, spec: PipelineSpec): Promise<{ key: string; outcome: 'rejected' | 'failed' }[]> {
  const order = (k: string) => spec.stages.findIndex((s) => s.name === k.split('/')[3]);
  const all = [
    ...(await blobs.list(keys.allRejected(runId))).map((key) => ({ key, outcome: 'rejected' as const })),
    ...(await blobs.list(keys.allFailed(runId))).map((key) => ({ key, outcome: 'failed' as const })),
  ];
  return all.sort((a, b) => order(a.key) - order(b.key) || (a.outcome === b.outcome ? 0 : a.outcome === 'rejected' ? -1 : 1) || (a.key < b.key ? -1 : 1));
}

/** The row builders, one per config: what a source record becomes (rlvr needs its dataset-wide index). */
export function rowOf(config: ConfigName, runId: string): (record: unknown, index: number, outcome?: 'rejected' | 'failed') => object {
  switch (config) {
    case 'default':
      return (r) => dataRow(r as BacktranslatedRecord, runId);
    case 'sft':
      return (r) => sftRow(dataRow(r as BacktranslatedRecord, runId));
    case 'rlvr':
      return (r, i) => rlvrRow(dataRow(r as BacktranslatedRecord, runId), i);
    case 'codegen':
      return (r) => codegenRow(r as ExecutedRecord);
    case 'rejected':
      return (r, _i, outcome) => rejectedRow(r as Rejection, outcome ?? 'rejected');
  }
}

/** Rows per source blob from the shard records; a blob without a record (or a record of 0 rows) is read and counted. */
async function sourcesOf(deps: PipelineDeps, runId: string, spec: PipelineSpec, shards: ShardState[]): Promise<Record<ConfigName, Source[]>> {
  const rec = new Map(shards.map((s) => [`${s.stage}/${s.shard}`, s.counts]));
  const counted = async (key: string, fromRecord: number | undefined): Promise<number> => {
    if (fromRecord) return fromRecord;
    const b = await deps.blobs.get(key);
    return b ? parseJsonl(b.toString('utf8'), key).length : 0;
  };
  const kept = async (key: string, group: string): Promise<Source> => {
    const { stage, shard } = stageShardOf(key, false);
    return { key, rows: await counted(key, rec.get(`${stage}/${shard}`)?.kept), group };
  };
  const samples: Source[] = [];
  for (const key of await deps.blobs.list(keys.samples(runId, spec))) samples.push(await kept(key, 'samples'));
  const codegen: Source[] = [];
  for (const key of await deps.blobs.list(keys.verifiedCodeCots(runId, spec))) codegen.push(await kept(key, 'codegen'));
  const rejected: Source[] = [];
  for (const { key, outcome } of await rejectionBlobs(deps.blobs, runId, spec)) {
    const { stage, shard } = stageShardOf(key, true);
    const c = rec.get(`${stage}/${shard}`);
    rejected.push({ key, outcome, group: `${stage}/${outcome}`, rows: await counted(key, c ? sum(outcome === 'rejected' ? c.rejected : c.failed) : undefined) });
  }
  return { default: samples, sft: samples, rlvr: samples, codegen, rejected };
}

/** Mean row JSON bytes (a line, as the writer counts it) of each group, from its first non-empty blob. */
async function rowBytes(deps: PipelineDeps, runId: string, config: ConfigName, sources: Source[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const row = rowOf(config, runId);
  for (const s of sources) {
    if (s.rows === 0 || out.has(s.group)) continue;
    const b = await deps.blobs.get(s.key);
    const recs = b ? parseJsonl(b.toString('utf8'), s.key) : [];
    const bytes = recs.reduce<number>((a, r, i) => a + Buffer.byteLength(JSON.stringify(row(r, i, s.outcome)) + '\n'), 0);
    out.set(s.group, recs.length ? Math.max(1, bytes / recs.length) : 1);
  }
  return out;
}

/** The single writer's rule over counted rows: a part closes at `maxRows` rows or `maxBytes` (estimated) bytes. */
export function cutParts(config: ConfigName, sources: Source[], bytesOf: (group: string) => number, limits: PartLimits): PartPlan[] {
  const parts: PartPlan[] = [];
  let index = 0;
  let cur: PartPlan = { config, part: 0, rows: 0, first: 0, slices: [] };
  let size = 0;
  for (const s of sources) {
    const b = bytesOf(s.group);
    let i = 0;
    while (i < s.rows) {
      const take = Math.min(s.rows - i, limits.maxRows - cur.rows, Math.max(1, Math.ceil((limits.maxBytes - size) / b)));
      cur.slices.push({ key: s.key, from: i, to: i + take, of: s.rows, ...(s.outcome ? { outcome: s.outcome } : {}) });
      cur.rows += take;
      size += take * b;
      i += take;
      index += take;
      if (cur.rows >= limits.maxRows || size >= limits.maxBytes) {
        parts.push(cur);
        cur = { config, part: parts.length, rows: 0, first: index, slices: [] };
        size = 0;
      }
    }
  }
  // The last part; a config with no rows still gets one empty part, so it always loads.
  if (cur.rows > 0 || parts.length === 0) parts.push(cur);
  return parts;
}

/** The plan of a run: every config's parts, in dataset order; its id is a hash of the parts and the shard records. */
export async function makePlan(
  runId: string,
  opts: { spec?: PipelineSpec; jsonl?: boolean; limits?: PartLimits },
  deps: PipelineDeps,
): Promise<{ summary: PlanSummary; parts: PartPlan[] }> {
  const spec = opts.spec ?? CACO;
  const limits = opts.limits ?? HUB_LIMITS;
  const jsonl = opts.jsonl ?? false;
  // Only the pipeline's own stages: the barrier's and the fan-in's step records must not change the id.
  const names = new Set(stageNames(spec));
  const shards = (await deps.state.listShards(runId)).filter((s) => names.has(s.stage));
  const sources = await sourcesOf(deps, runId, spec, shards);
  const parts: PartPlan[] = [];
  for (const c of CONFIGS) {
    const bytes = await rowBytes(deps, runId, c, sources[c]);
    parts.push(...cutParts(c, sources[c], (g) => bytes.get(g) ?? 1, limits));
  }
  // The id changes with any shard record (a retried shard), so a re-assemble never reuses an
  // earlier plan's task records; it is the same for the same run, so a repeated trigger is.
  const digest = createHash('sha256');
  digest.update(JSON.stringify({ limits, jsonl, last: lastOf(spec, 'generate'), parts }));
  for (const s of [...shards].sort((a, b) => (a.stage + '/' + a.shard < b.stage + '/' + b.shard ? -1 : 1))) digest.update(JSON.stringify([s.stage, s.shard, s.counts]));
  const id = digest.digest('hex').slice(0, 16);
  return { summary: { id, runId, jsonl, limits, parts: parts.map(({ slices: _, ...p }) => p) }, parts };
}

/** Writes the plan: a blob per task, then the summary (a reader of the summary finds every task's blob). */
export async function writePlan(blobs: BlobStore, plan: { summary: PlanSummary; parts: PartPlan[] }): Promise<void> {
  const { summary, parts } = plan;
  for (let i = 0; i < parts.length; i++) await blobs.put(keys.assembleTask(summary.runId, summary.id, i), JSON.stringify(parts[i]));
  await blobs.put(keys.assemblePlan(summary.runId, summary.id), JSON.stringify(summary));
}

export async function readPlanSummary(blobs: BlobStore, runId: string, id: string): Promise<PlanSummary> {
  const b = await blobs.get(keys.assemblePlan(runId, id));
  if (!b) throw new Error(`assemble: plan ${id} of run ${runId} is missing`);
  return JSON.parse(b.toString('utf8')) as PlanSummary;
}

export async function readPartPlan(blobs: BlobStore, runId: string, id: string, i: number): Promise<PartPlan> {
  const b = await blobs.get(keys.assembleTask(runId, id, i));
  if (!b) throw new Error(`assemble: task ${i} of plan ${id} (run ${runId}) is missing`);
  return JSON.parse(b.toString('utf8')) as PartPlan;
}
