// The single-invocation assemble as it was before assemble ran in parallel (issue 15): the
// reference the parallel one (lib/pipeline/assemble.ts) must equal, file for file and byte for
// byte (tests/unit/assemble-parallel.test.ts, tests/e2e/assemble-demo.test.ts), and the baseline
// of bench:assemble. Kept verbatim apart from its imports.
//
// assemble: the fan-in. Reads every finished shard and writes the dataset under
// runs/<id>/dataset/ in the Hugging Face Hub's layout (lib/pipeline/dataset-layout.ts): each
// config (data/, sft/, rlvr/, codegen/, rejected/) as `train-NNNNN.parquet` parts of up to
// 100k rows or ~256 MB (and the same rows in JSONL when the config's `dataset.jsonl` asks),
// stats.json, the dataset card naming exactly those files, and the report page (lib/report).
// Rows stream shard by shard into the open part, so memory stays bounded by one part.
// Idempotent: the same shards give the same bytes, so a duplicate trigger only rewrites them.
import type { ExecutedRecord, Rejection } from '../../lib/schema.ts';
import type { BacktranslatedRecord } from '../../lib/stages/backtranslate.ts';
import type { BlobStore } from '../../lib/store/ports.ts';
import type { PipelineDeps } from '../../lib/pipeline/deps.ts';
import { keys } from '../../lib/pipeline/keys.ts';
import { CACO, type PipelineSpec } from '../../lib/pipeline/spec.ts';
import { parseJsonl } from '../../lib/pipeline/lines.ts';
import { computeStats, type RunStats } from '../../lib/pipeline/stats.ts';
import { datasetCard } from '../../lib/pipeline/dataset-card.ts';
import { CONFIGS, FIELDS, codegenRow, configDir, dataRow, rejectedRow, rlvrRow, sftRow, type ConfigName } from '../../lib/pipeline/dataset-layout.ts';
import { PartWriter, type WrittenFile } from '../../lib/pipeline/parquet-parts.ts';
import { writeRunReport } from '../../lib/report/index.ts';
import type { AssembleInfo } from '../../lib/pipeline/assemble.ts';


export async function assembleRunSingle(runId: string, info: AssembleInfo, deps: PipelineDeps): Promise<RunStats> {
  const run = await deps.state.getRun(runId);
  if (!run) throw new Error(`assemble: no such run ${runId}`);
  const spec = info.spec ?? CACO;
  const before = await deps.blobs.list(keys.dataset(runId));
  const writers = Object.fromEntries(
    CONFIGS.map((c) => [c, new PartWriter(deps.blobs, (f) => keys.datasetPart(runId, configDir(c), f), configDir(c), FIELDS[c], { jsonl: info.jsonl ?? false, limits: info.limits })]),
  ) as Record<ConfigName, PartWriter<object>>;

  let index = 0;
  for (const key of await deps.blobs.list(keys.samples(runId, spec))) {
    for (const r of parseJsonl<BacktranslatedRecord>((await deps.blobs.get(key))!.toString('utf8'))) {
      const row = dataRow(r, runId);
      await writers.default.add(row);
      await writers.sft.add(sftRow(row));
      await writers.rlvr.add(rlvrRow(row, index++));
    }
  }
  // The CodeGen set: verified, deduplicated unified Code CoTs, the program alone with an empty
  // prompt (the paper trained CodeGen on the deduplicated set).
  for (const key of await deps.blobs.list(keys.verifiedCodeCots(runId, spec))) {
    for (const r of parseJsonl<ExecutedRecord>((await deps.blobs.get(key))!.toString('utf8'))) await writers.codegen.add(codegenRow(r));
  }
  for (const { key, outcome } of await rejectionBlobs(deps.blobs, runId, spec)) {
    for (const rej of parseJsonl<Rejection>((await deps.blobs.get(key))!.toString('utf8'))) await writers.rejected.add(rejectedRow(rej, outcome));
  }
  const rows = {} as Record<ConfigName, number>;
  const files: WrittenFile[] = [];
  for (const c of CONFIGS) {
    const w = await writers[c].close();
    rows[c] = w.rows;
    files.push(...w.files);
  }
  // Parts a previous assemble of this run wrote and this one did not (fewer rejections after a retry).
  const written = new Set(files.map((f) => keys.dataset(runId, f.path)));
  for (const k of before) if (CONFIGS.some((c) => k.startsWith(keys.datasetPart(runId, configDir(c)))) && !written.has(k)) await deps.blobs.delete(k);
  const samples = rows.default;
  const codegen = rows.codegen;
  const stats = computeStats(await deps.state.listShards(runId), spec);
  const summary = { runId, mode: run.mode, input: run.input, samples, codegen, models: info.models, configs: rows, files, ...stats };
  await deps.blobs.put(keys.dataset(runId, 'stats.json'), JSON.stringify(summary, null, 2) + '\n');
  await deps.blobs.put(keys.dataset(runId, 'README.md'), datasetCard({ runId, mode: run.mode, samples, codegen, models: info.models, stats, spec, files }));
  // The report page (dataset/report/), also for a run that fails the check below. It is derived
  // data: a failure to write it is logged, never fails the run (`caco report` rebuilds it).
  await writeRunReport(runId, deps.blobs).catch((err: Error) => deps.log.warn('could not write the run report; rebuild it with caco report', { error: err.message }));
  if (!stats.conservation.ok) {
    await deps.state.setRunStatus(runId, 'failed');
    throw new Error(`conservation check failed for run ${runId}:\n  ${stats.conservation.problems.join('\n  ')}`);
  }
  await deps.state.setRunStatus(runId, 'done');
  return stats;
}

/** Every rejected and failed blob of the run, stage by stage in pipeline order (ingest first). */
async function rejectionBlobs(blobs: BlobStore, runId: string, spec: PipelineSpec): Promise<{ key: string; outcome: 'rejected' | 'failed' }[]> {
  const order = (k: string) => spec.stages.findIndex((s) => s.name === k.split('/')[3]);
  const all = [
    ...(await blobs.list(keys.allRejected(runId))).map((key) => ({ key, outcome: 'rejected' as const })),
    ...(await blobs.list(keys.allFailed(runId))).map((key) => ({ key, outcome: 'failed' as const })),
  ];
  return all.sort((a, b) => order(a.key) - order(b.key) || (a.outcome === b.outcome ? 0 : a.outcome === 'rejected' ? -1 : 1) || (a.key < b.key ? -1 : 1));
}
