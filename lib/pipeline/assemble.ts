// assemble: the fan-in, in parallel steps (issue 15; it was one invocation reading every shard).
// Writes the dataset under runs/<id>/dataset/ in the Hugging Face Hub's layout
// (lib/pipeline/dataset-layout.ts): each config (data/, sft/, rlvr/, codegen/, rejected/) as
// `train-NNNNN.parquet` parts of up to 100k rows or ~256 MB (and the same rows in JSONL when the
// config's `dataset.jsonl` asks), stats.json, the dataset card naming exactly those files, and the
// report page (lib/report).
//   plan   (one, small): the parts and the blob slices each reads, from listings and the shard
//          records' counts (lib/pipeline/assemble-plan.ts), under an id that is a function of the run;
//   task i (one per part, in parallel): reads only its slices, writes its one part (and JSONL twin);
//   finish (one): stats.json, the card, the report, stale parts deleted, then the run's status.
// The runner drives them like the dedup barrier's tasks (lib/pipeline/runner.ts, FanInImpl).
// Every step is idempotent: the same shards give the same plan and the same bytes, so a repeated
// or crashed step rewrites identical objects. `assembleRun` runs the three in one process.
import type { PipelineDeps } from './deps.ts';
import { keys } from './keys.ts';
import { type PipelineSpec } from './spec.ts';
import { parseJsonl } from './lines.ts';
import { computeStats, type RunStats } from './stats.ts';
import { datasetCard } from './dataset-card.ts';
import { CONFIGS, FIELDS, configDir, type ConfigName } from './dataset-layout.ts';
import { PartWriter, type PartLimits, type WrittenFile } from './parquet-parts.ts';
import { makePlan, readPartPlan, readPlanSummary, rowOf, writePlan, type PlanSummary } from './assemble-plan.ts';
import { writeRunReport } from '../report/index.ts';

export interface AssembleInfo {
  mode: string;
  /** Model per role, for the card and provenance. */
  models: Record<string, string>;
  /** The pipeline's shape (default: Caco's). */
  spec?: PipelineSpec;
  /** Also write each part's rows as JSONL beside it (the run config's `dataset.jsonl`). */
  jsonl?: boolean;
  /** Part and row-group sizes (default: the Hub's, lib/pipeline/parquet-parts.ts). */
  limits?: PartLimits;
}

/**
 * Dataset rows above which a time-limited host (Lambda) skips the report page in the finish:
 * bench:assemble builds it at ~6-10k records/s on these loaded cores, so 1M rows is a few minutes
 * of the finish's 15. Locally (no time limit) the report is always built.
 */
export const REPORT_MAX_ROWS_IN_FINISH = 1_000_000;

/** Source blobs read at once by a task (in order: rows keep the plan's order). */
const READ_AHEAD = 16;

/** Step 1: plans the parts and writes the plan; the same run gives the same id and bytes. */
export async function planAssemble(runId: string, info: Pick<AssembleInfo, 'spec' | 'jsonl' | 'limits'>, deps: PipelineDeps): Promise<PlanSummary> {
  if (!(await deps.state.getRun(runId))) throw new Error(`assemble: no such run ${runId}`);
  const plan = await makePlan(runId, info, deps);
  await writePlan(deps.blobs, plan);
  return plan.summary;
}

/** Step 2: task `i` of plan `id` writes its one part (rows in plan order, each source blob checked against its planned count). */
export async function assembleTask(runId: string, id: string, i: number, deps: PipelineDeps): Promise<{ config: ConfigName; part: number; rows: number; files: WrittenFile[] }> {
  const summary = await readPlanSummary(deps.blobs, runId, id);
  const p = await readPartPlan(deps.blobs, runId, id, i);
  // The plan decided where the part ends: the writer must not cut it again.
  const limits: PartLimits = { ...summary.limits, maxRows: Infinity, maxBytes: Infinity };
  const c = p.config;
  const writer = new PartWriter<object>(deps.blobs, (f) => keys.datasetPart(runId, configDir(c), f), configDir(c), FIELDS[c], { jsonl: summary.jsonl, limits, firstPart: p.part });
  const row = rowOf(c, runId);
  const fetches: Promise<Buffer | null>[] = [];
  const fetch = (k: number) => (fetches[k] ??= deps.blobs.get(p.slices[k]!.key));
  let index = p.first;
  for (let k = 0; k < p.slices.length; k++) {
    for (let a = k + 1; a < Math.min(p.slices.length, k + READ_AHEAD); a++) void fetch(a).catch(() => undefined);
    const s = p.slices[k]!;
    const blob = await fetch(k);
    delete fetches[k];
    if (!blob) throw new Error(`assemble: ${s.key} is missing (plan ${id}, task ${i})`);
    const records = parseJsonl(blob.toString('utf8'), s.key);
    if (records.length !== s.of) throw new Error(`assemble: ${s.key} has ${records.length} records, its shard record says ${s.of} (plan ${id})`);
    for (let r = s.from; r < s.to; r++) await writer.add(row(records[r], index++, s.outcome));
  }
  const w = await writer.close();
  if (w.rows !== p.rows) throw new Error(`assemble: task ${i} of plan ${id} wrote ${w.rows} rows, planned ${p.rows}`);
  return { config: c, part: p.part, rows: w.rows, files: w.files };
}

/** The files of a plan, in the single writer's order: config by config, each part's Parquet then its JSONL twin. */
export function planFiles(summary: PlanSummary): WrittenFile[] {
  const name = (part: number) => `train-${String(part).padStart(5, '0')}`;
  return summary.parts.flatMap((p) => {
    const base = `${configDir(p.config)}/${name(p.part)}`;
    return [{ path: `${base}.parquet`, rows: p.rows }, ...(summary.jsonl ? [{ path: `${base}.jsonl`, rows: p.rows }] : [])];
  });
}

/** Step 3: what needs every part (stats.json, the card, the report), stale parts deleted, then the run's status (its last effect). */
export async function assembleFinish(runId: string, id: string, info: AssembleInfo, deps: PipelineDeps): Promise<RunStats> {
  const run = await deps.state.getRun(runId);
  if (!run) throw new Error(`assemble: no such run ${runId}`);
  const summary = await readPlanSummary(deps.blobs, runId, id);
  const files = planFiles(summary);
  const rows = Object.fromEntries(CONFIGS.map((c) => [c, summary.parts.filter((p) => p.config === c).reduce((a, p) => a + p.rows, 0)])) as Record<ConfigName, number>;
  // Parts a previous assemble of this run wrote and this one did not (fewer rejections after a retry).
  const written = new Set(files.map((f) => keys.dataset(runId, f.path)));
  for (const k of await deps.blobs.list(keys.dataset(runId))) {
    if (CONFIGS.some((c) => k.startsWith(keys.datasetPart(runId, configDir(c)))) && !written.has(k)) await deps.blobs.delete(k);
  }
  const samples = rows.default;
  const codegen = rows.codegen;
  const stats = computeStats(await deps.state.listShards(runId), info.spec);
  const summaryJson = { runId, mode: run.mode, input: run.input, samples, codegen, models: info.models, configs: rows, files, ...stats };
  await deps.blobs.put(keys.dataset(runId, 'stats.json'), JSON.stringify(summaryJson, null, 2) + '\n');
  await deps.blobs.put(keys.dataset(runId, 'README.md'), datasetCard({ runId, mode: run.mode, samples, codegen, models: info.models, stats, spec: info.spec, files }));
  // The report page (dataset/report/), also for a run that fails the check below. It is derived
  // data: a failure to write it is logged, never fails the run (`caco report` rebuilds it). It
  // reads every record in this one step, so on a host with a time limit (Lambda) a run too large
  // for it gets none: a timeout here would repeat the finish until its message is dead-lettered.
  const records = summary.parts.reduce((a, p) => a + p.rows, 0);
  if (deps.remainingMs && records > REPORT_MAX_ROWS_IN_FINISH) {
    deps.log.warn('run too large to build its report inside assemble; build it with caco report', { rows: records, limit: REPORT_MAX_ROWS_IN_FINISH });
  } else {
    await writeRunReport(runId, deps.blobs).catch((err: Error) => deps.log.warn('could not write the run report; rebuild it with caco report', { error: err.message }));
  }
  if (!stats.conservation.ok) {
    await deps.state.setRunStatus(runId, 'failed');
    throw new Error(`conservation check failed for run ${runId}:\n  ${stats.conservation.problems.join('\n  ')}`);
  }
  await deps.state.setRunStatus(runId, 'done');
  return stats;
}

/** The three steps in one process, tasks one after another (tests, `caco` tools): the same files as the parallel stage. */
export async function assembleRun(runId: string, info: AssembleInfo, deps: PipelineDeps): Promise<RunStats> {
  const summary = await planAssemble(runId, info, deps);
  for (let i = 0; i < summary.parts.length; i++) await assembleTask(runId, summary.id, i, deps);
  return assembleFinish(runId, summary.id, info, deps);
}
