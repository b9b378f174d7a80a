// Ports: what the pipeline needs from storage and messaging. lib/store has the local adapters
// (files, SQLite); lib/aws has the same ports on S3, DynamoDB and SQS. Stage logic sees only these.

/** Keys are the same locally and on S3: `runs/<runId>/<stage>/<shard>.jsonl` and so on. */
export interface BlobStore {
  /** The object's bytes, or null when there is no such key. */
  get(key: string): Promise<Buffer | null>;
  /** Write (or overwrite) an object. Writes are atomic: a reader sees the old or the new object. */
  put(key: string, body: Buffer | string): Promise<void>;
  /** Every key under `prefix`, sorted. */
  list(prefix: string): Promise<string[]>;
  delete(key: string): Promise<void>;
}

/**
 * Global deduplication across a whole run. Every call is idempotent for the same (runId, id):
 * a retried shard gets the same answer it got the first time, and exactly one record of a
 * duplicate group survives even when shards race.
 */
export interface DedupIndex {
  /**
   * Exact duplicates: claims `hash` for `id`. Returns the id of the record that owns the hash
   * (equal to `id` when this record is the survivor).
   */
  claimExact(runId: string, hash: string, id: string): Promise<string>;
  /**
   * Near duplicates: registers the record's MinHash `signature` and returns null when it is new,
   * or the id of an earlier record whose estimated Jaccard similarity is at least the index's
   * threshold.
   */
  claimNear(runId: string, id: string, signature: Uint32Array): Promise<string | null>;
}

/** The stages a shard moves through, in order. */
export const STAGES = ['ingest', 'unify', 'generate', 'execute', 'filter', 'backtranslate', 'assemble'] as const;
export type StageName = (typeof STAGES)[number];

/** A queue message names work only; the data stays in the blob store (claim check). */
export interface ShardMessage {
  runId: string;
  stage: StageName;
  shard: string;
}

export interface WorkQueue {
  send(msg: ShardMessage): Promise<void>;
}

/** Per-shard tallies; the conservation law is `in = kept + sum(rejected) + sum(failed)`. */
export interface ShardCounts {
  in: number;
  kept: number;
  rejected: Record<string, number>;
  failed: Record<string, number>;
  counters: Record<string, number>;
}

export interface ShardState {
  runId: string;
  stage: StageName;
  shard: string;
  counts: ShardCounts;
  /** Shards this one produced for the next stage (so fan-in knows what to expect). */
  next: string[];
}

export interface RunState {
  runId: string;
  createdAt: string;
  status: 'running' | 'assembling' | 'done' | 'failed';
  /** Where the input came from (local path or s3 key); a re-dropped input maps to the same run. */
  input: string;
  mode: 'unify' | 'synthesize' | 'full';
}

/**
 * Run and shard state. Recording a shard is a conditional write: the first completion wins and a
 * retried shard returns false, so counters derived from shard records can never be doubled.
 */
export interface StateStore {
  /** Creates the run; false when it already exists (same input dropped twice). */
  createRun(run: RunState): Promise<boolean>;
  getRun(runId: string): Promise<RunState | null>;
  setRunStatus(runId: string, status: RunState['status']): Promise<void>;
  /** True when this call recorded the shard; false when it had been recorded already. */
  recordShard(state: ShardState): Promise<boolean>;
  listShards(runId: string, stage?: StageName): Promise<ShardState[]>;
  /** A once-only token (fan-in to assemble, for instance): true for exactly one caller. */
  claimOnce(key: string): Promise<boolean>;
}
