// assemble: the fan-in. Reads every finished shard and writes the dataset under
// runs/<id>/dataset/ in parts (one per shard, so memory stays flat at any run size): the samples
// (JSONL and Parquet), the SFT chat, RLVR and CodeGen exports, stats.json, a dataset card and the
// report page (lib/report).
// Idempotent: the same shards give the same bytes, so a duplicate trigger only rewrites them.
import { parquetWriteBuffer } from 'hyparquet-writer';
import type { ExecutedRecord } from '../schema.ts';
import type { BacktranslatedRecord } from '../stages/backtranslate.ts';
import type { PipelineDeps } from './deps.ts';
import { keys } from './keys.ts';
import { CACO, type PipelineSpec } from './spec.ts';
import { parseJsonl, toJsonl } from './lines.ts';
import { computeStats, type RunStats } from './stats.ts';
import { datasetCard } from './dataset-card.ts';
import { writeRunReport } from '../report/index.ts';

export interface DatasetSample extends BacktranslatedRecord {
  provenance: BacktranslatedRecord['provenance'] & { runId: string };
}

export interface AssembleInfo {
  mode: string;
  /** Model per role, for the card and provenance. */
  models: Record<string, string>;
  /** The pipeline's shape (default: Caco's). */
  spec?: PipelineSpec;
}

export async function assembleRun(runId: string, info: AssembleInfo, deps: PipelineDeps): Promise<RunStats> {
  const run = await deps.state.getRun(runId);
  if (!run) throw new Error(`assemble: no such run ${runId}`);
  const spec = info.spec ?? CACO;
  let samples = 0;
  for (const key of await deps.blobs.list(keys.samples(runId, spec))) {
    const part = partName(key);
    const recs = parseJsonl<BacktranslatedRecord>((await deps.blobs.get(key))!.toString('utf8'));
    const rows: DatasetSample[] = recs.map((r) => ({ ...r, provenance: { ...r.provenance, runId } }));
    samples += rows.length;
    if (rows.length === 0) continue;
    await deps.blobs.put(keys.dataset(runId, `data/${part}.jsonl`), toJsonl(rows));
    await deps.blobs.put(keys.dataset(runId, `data/${part}.parquet`), Buffer.from(toParquet(rows)));
    await deps.blobs.put(
      keys.dataset(runId, `sft/${part}.jsonl`),
      toJsonl(rows.map((r) => ({ id: r.id, messages: [{ role: 'user', content: r.instruction }, { role: 'assistant', content: r.output }] }))),
    );
    await deps.blobs.put(
      keys.dataset(runId, `rlvr/${part}.jsonl`),
      toJsonl(rows.map((r) => ({ id: r.id, prompt: r.instruction, ground_truth: r.answer, code_output: r.code_output }))),
    );
  }
  // The CodeGen set: verified, deduplicated unified Code CoTs, the program alone with an empty
  // prompt (the paper trained CodeGen on the deduplicated set).
  let codegen = 0;
  for (const key of await deps.blobs.list(keys.verifiedCodeCots(runId, spec))) {
    const recs = parseJsonl<ExecutedRecord>((await deps.blobs.get(key))!.toString('utf8'));
    codegen += recs.length;
    if (recs.length === 0) continue;
    await deps.blobs.put(
      keys.dataset(runId, `codegen/${partName(key)}.jsonl`),
      toJsonl(recs.map((r) => ({ id: r.id, messages: [{ role: 'user', content: '' }, { role: 'assistant', content: r.code }] }))),
    );
  }
  const stats = computeStats(await deps.state.listShards(runId), spec);
  const summary = { runId, mode: run.mode, input: run.input, samples, codegen, models: info.models, ...stats };
  await deps.blobs.put(keys.dataset(runId, 'stats.json'), JSON.stringify(summary, null, 2) + '\n');
  await deps.blobs.put(keys.dataset(runId, 'README.md'), datasetCard({ runId, mode: run.mode, samples, codegen, models: info.models, stats, spec }));
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

/** `runs/x/backtranslate/g00003.jsonl` -> `part-g00003`. */
function partName(key: string): string {
  return `part-${key.slice(key.lastIndexOf('/') + 1).replace(/\.jsonl$/, '')}`;
}

function toParquet(rows: DatasetSample[]): ArrayBuffer {
  const col = (name: string, get: (r: DatasetSample) => string) => ({ name, data: rows.map(get), type: 'STRING' as const });
  return parquetWriteBuffer({
    columnData: [
      col('id', (r) => r.id),
      col('instruction', (r) => r.instruction),
      col('output', (r) => r.output),
      col('answer', (r) => r.answer),
      col('code', (r) => r.code),
      col('code_output', (r) => r.code_output),
      col('provenance', (r) => JSON.stringify(r.provenance)),
    ],
  });
}
