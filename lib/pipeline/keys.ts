// Every blob key a run uses, named by what it holds. The same keys locally (files under
// <out>/.caco/blobs/) and on S3. Readers ask for a meaning ("the verified Code CoTs"), never
// for a stage's folder, so which stage produces what is decided here once.
import type { StageName } from '../store/ports.ts';
import { CACO, lastOf, type PipelineSpec } from './spec.ts';

const run = (runId: string) => `runs/${runId}/`;

export const keys = {
  /** The validated run config, written by ingest before any shard exists. */
  config: (runId: string) => `${run(runId)}config.json`,
  /** What `stage` kept of `shard`: the next stage's input. */
  survivors: (runId: string, stage: StageName, shard: string) => `${run(runId)}${stage}/${shard}.jsonl`,
  /** Every survivors blob of a stage (optionally only the shards starting with `shardPrefix`). */
  survivorsOf: (runId: string, stage: StageName, shardPrefix = '') => `${run(runId)}${stage}/${shardPrefix}`,
  rejected: (runId: string, stage: StageName, shard: string) => `${run(runId)}rejected/${stage}/${shard}.jsonl`,
  failed: (runId: string, stage: StageName, shard: string) => `${run(runId)}failed/${stage}/${shard}.jsonl`,
  /** Every rejected (or failed) record of a run, all stages. */
  allRejected: (runId: string) => `${run(runId)}rejected/`,
  allFailed: (runId: string) => `${run(runId)}failed/`,
  /** How many of ingest's first messages went out (a retried ingest resumes there). */
  fanOutCheckpoint: (runId: string) => `${run(runId)}checkpoint/ingest/sent.json`,
  /** A shard's finished chunks, saved near a Lambda's time limit. */
  checkpoint: (runId: string, stage: StageName, shard: string) => `${run(runId)}checkpoint/${stage}/${shard}.json`,
  /** synthesize mode: the user's example Code CoTs, the few-shot pool as given. */
  inputPool: (runId: string) => `${run(runId)}pool/input.jsonl`,
  /** Dedup (lib/stages/dedup.ts): a shard's claims, keys and data, written by the stage before dedup. */
  dedupClaimKeys: (runId: string, shard: string) => `${run(runId)}dedup-index/keys/${shard}.bin`,
  dedupClaimData: (runId: string, shard: string) => `${run(runId)}dedup-index/data/${shard}.bin`,
  /** Dedup: one partition's duplicate owners and similar pairs for a branch. */
  dedupPartition: (runId: string, branch: string, p: number) => `${run(runId)}dedup-index/${branch}/part-${p}.json`,
  /** Dedup: a shard's decisions, in record order. */
  dedupDecisions: (runId: string, shard: string) => `${run(runId)}dedup-index/decisions/${shard}.json`,
  /** Assemble's plan (lib/pipeline/assemble-plan.ts): its summary (every part, in order), named by the plan's id. */
  assemblePlan: (runId: string, planId: string) => `${run(runId)}assemble-plan/${planId}/plan.json`,
  /** Assemble: what task `i` of a plan compacts (its part and the blob slices that fill it). */
  assembleTask: (runId: string, planId: string, i: number) => `${run(runId)}assemble-plan/${planId}/task-${String(i).padStart(5, '0')}.json`,
  /** A shard's LLM responses (AWS), in a few part objects under this prefix. */
  llmShardCache: (runId: string, stage: StageName, shard: string) => `${run(runId)}llm-cache/${stage}/${shard}/`,
  /** Why ingest refused a drop (no or a bad config): the run exists only to say so. */
  ingestError: (runId: string) => `${run(runId)}ingest-error.json`,
  /** A cassette adopted by ingest (uploaded by `caco submit` under incoming/). */
  cassette: (runId: string) => `${run(runId)}cassette.jsonl`,
  /** The dataset folder's files (stats.json, README.md, report/, the configs' parts) under runs/<id>/dataset/. */
  dataset: (runId: string, file = '') => `${run(runId)}dataset/${file}`,
  /** A file of one dataset config, in its folder (`data/train-00000.parquet`, `sft/...`); '' for the folder. */
  datasetPart: (runId: string, dir: string, file = '') => `${run(runId)}dataset/${dir}/${file}`,
  /**
   * The verified, DEDUPLICATED unified Code CoTs: what the unify branch's last stage (dedup) kept.
   * The few-shot pool and the CodeGen export. Not filter's output: that still holds duplicates.
   */
  verifiedCodeCots: (runId: string, spec: PipelineSpec = CACO) => `${run(runId)}${lastOf(spec, 'unify')}/${spec.branches.unify.prefix}`,
  /** The finished samples: what the generate branch's last stage (backtranslate) kept. */
  samples: (runId: string, spec: PipelineSpec = CACO) => `${run(runId)}${lastOf(spec, 'generate')}/${spec.branches.generate.prefix}`,
};
