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

/** What the dedup stage knows of one record (lib/stages/dedup.ts). */
export interface DedupClaim {
  id: string;
  /** Normalized-code hash for the exact claim; null skips it. */
  hash: string | null;
  /** MinHash signature for the near claim; null skips it. */
  signature: Uint32Array | null;
  /** The record's shingle hashes (any order); when both sides have them, exact Jaccard confirms a candidate. */
  shingles?: Uint32Array;
}

export type DedupDecision = { kind: 'kept' } | { kind: 'duplicate' | 'near_duplicate'; of: string };

/**
 * Deduplication across a whole run as the ORDERED algorithm defines it: claim a shard's records in
 * order. For each: the exact claim (the first id to claim a hash owns it), then, if it survived,
 * the near claim (a duplicate when an earlier SURVIVOR is at least the threshold similar; the most
 * similar wins, ties to the earliest). A claim sees the earlier claims of its own batch. Idempotent
 * per (runId, id). The pipeline computes the same answers in parallel partitions
 * (lib/dedup/partitioned.ts); this port's SQLite implementation is the reference its tests and
 * bench:dedup compare against.
 */
export interface DedupIndex {
  claim(runId: string, claims: DedupClaim[]): Promise<DedupDecision[]>;
}

/** A stage's name: the stages and their order are declared once, in lib/pipeline/spec.ts. */
export type StageName = string;

/** A queue message names work only; the data stays in the blob store (claim check). */
export interface ShardMessage {
  runId: string;
  stage: StageName;
  shard: string;
}

export interface WorkQueue {
  send(msg: ShardMessage): Promise<void>;
  /** Many messages, in any order (SQS: batches of 10, several batches in flight). All or an error. */
  sendMany(msgs: ShardMessage[]): Promise<void>;
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
  status: 'running' | 'done' | 'failed';
  /** Where the input came from (local path or s3 key); a re-dropped input maps to the same run. */
  input: string;
  mode: 'unify' | 'synthesize' | 'full';
  /** Shard counts each fan-in waits for, by branch name (e.g. `unify`, `generate`). */
  expected: Record<string, number>;
  /** Why a failed run cannot finish (AWS: a shard message that went to its dead-letter queue). */
  failure?: RunFailure;
}

export interface RunFailure {
  stage: string;
  shard: string;
  reason: string;
  /** Receives of the message when it failed for the last time. */
  receives: number;
  at: string;
}

/**
 * Run and shard state. Recording a shard is a conditional write: the first completion wins and a
 * retried shard changes nothing, so counters derived from shard records can never be doubled.
 */
export interface StateStore {
  /** Creates the run; false when it already exists (same input dropped twice). */
  createRun(run: RunState): Promise<boolean>;
  getRun(runId: string): Promise<RunState | null>;
  setRunStatus(runId: string, status: RunState['status']): Promise<void>;
  /** Sets how many shards a fan-in of `branch` waits for (idempotent: same value each time). */
  setExpected(runId: string, branch: string, shards: number): Promise<void>;
  /**
   * Records a finished shard. `first` is true for exactly one call per (run, stage, shard) (the
   * one whose write made the record); `complete` is true when `expected` is given and at least
   * that many distinct shards of the stage are recorded after this call: the call recording the
   * last one sees it (later calls may too: a fan-in must be idempotent).
   */
  recordShard(state: ShardState, expected?: number): Promise<{ first: boolean; complete: boolean }>;
  getShard(runId: string, stage: StageName, shard: string): Promise<ShardState | null>;
  listShards(runId: string, stage?: StageName): Promise<ShardState[]>;
}
