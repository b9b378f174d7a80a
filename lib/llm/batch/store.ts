// Where a shard's batches are recorded: one item per (run, stage, shard, round), in the run's state
// store (SQLite locally: sqlite-store.ts). A round is claimed BEFORE its batch is created (the
// intent), so a redelivered shard message or a crash between creating a batch and recording its id
// never creates a second one: only the claim's owner submits, and an owner that takes a round over
// first looks for a batch carrying the round's metadata at the provider.
import type { BatchInfo, BatchStatus } from './provider.ts';

export interface RoundKey {
  runId: string;
  stage: string;
  shard: string;
  /** 1, 2, ...: each round is one wave of requests (backtranslate: reverse, then solve, ...). */
  round: number;
}

/** One batch of a round: a round has one per endpoint and model, and per file split. */
export interface BatchPart {
  part: number;
  batchId: string;
  /** The endpoint it went to (the poller builds its provider from it). */
  baseURL: string;
  apiKeyEnv: string;
  requests: number;
  /** The model, and the tokens it enqueues (prompt estimate + max_tokens): the queue limit's unit. */
  model?: string;
  tokens?: number;
  status: BatchStatus;
  counts: BatchInfo['counts'];
  /** Unix seconds, the provider's. */
  createdAt: number;
}

export type RoundState = 'claimed' | 'submitted' | 'ended' | 'collected';

export interface BatchRound extends RoundKey {
  /** claimed: being submitted (intent); submitted: batches open; ended: all terminal, not read yet; collected: results stored. */
  state: RoundState;
  owner: string;
  /** ms since the epoch. */
  claimedAt: number;
  /** Parts planned (input files written); parts created so far are in `parts`. */
  planned: number;
  parts: BatchPart[];
}

export interface BatchStore {
  /** A shard's rounds, oldest first. */
  rounds(runId: string, stage: string, shard: string): Promise<BatchRound[]>;
  /**
   * Claims a round for submission: creates it, or takes over a `claimed` round whose claim is older
   * than `staleMs` or whose holder `takeOver` says is dead. Null when a live holder has it or the
   * round is past `claimed`.
   */
  claim(key: RoundKey, owner: string, nowMs: number, staleMs: number, takeOver?: (holder: string) => boolean): Promise<BatchRound | null>;
  /** Writes `round` if its stored state is one of `from` (false otherwise: someone moved it on). */
  transition(round: BatchRound, from: RoundState[]): Promise<boolean>;
  /** Rounds still waiting on a provider (claimed or submitted), of one run or all. */
  listOpen(runId?: string): Promise<BatchRound[]>;
}

/** The owner of a claimed round whose submission waits for room in the provider's queue: anyone may take it. */
export const RELEASED = 'released';

export const roundName = (k: RoundKey): string => `${k.runId}/${k.stage}/${k.shard}/r${k.round}`;
