// An optional capability a DedupIndex may add beyond the port (lib/store/ports.ts): claim a whole
// shard's records in one atomic step, with near-duplicate candidates confirmed by exact Jaccard of
// stored shingle sets instead of the MinHash estimate. The filter stage uses it when the index has
// it and falls back to the port's per-record claimExact/claimNear otherwise.
//
// Why: a MinHash estimate has a standard error of ~0.03 at J=0.85 (128 permutations), so pairs just
// under the threshold get rejected and pairs just over it get kept; with near copies dense around
// the threshold that costs several points of precision. Exact confirmation keeps LSH for finding
// candidates and makes the decision itself exact. One transaction per shard instead of two per
// record is also what makes the SQLite index fast (a commit rewrites every B-tree page it touched).
import type { DedupIndex } from '../store/ports.ts';

export interface DedupClaim {
  id: string;
  /** Normalized-code hash for the exact claim; null skips it. */
  hash: string | null;
  /** MinHash signature for the near claim; null skips it. */
  signature: Uint32Array | null;
  /** The record's shingle hashes (any order); when given, candidates are confirmed by exact Jaccard. */
  shingles?: Uint32Array;
}

export type DedupDecision = { kind: 'kept' } | { kind: 'duplicate' | 'near_duplicate'; of: string };

export interface BatchDedupIndex extends DedupIndex {
  /**
   * For each claim in order: the exact claim, then (if it survived) the near claim; all of it
   * atomic, idempotent per (runId, id) like the port's methods, and seeing earlier claims of the
   * same batch. A near duplicate's `of` is always a survivor.
   */
  claimMany(runId: string, claims: DedupClaim[]): Promise<DedupDecision[]>;
}

export function isBatchDedupIndex(ix: DedupIndex): ix is BatchDedupIndex {
  return typeof (ix as Partial<BatchDedupIndex>).claimMany === 'function';
}

/** Exact Jaccard of two sorted, duplicate-free Uint32Arrays (a merge walk). */
export function sortedJaccard(a: Uint32Array, b: Uint32Array): number {
  if (a.length === 0 && b.length === 0) return 1;
  let i = 0;
  let j = 0;
  let inter = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) (inter++, i++, j++);
    else if (a[i] < b[j]) i++;
    else j++;
  }
  return inter / (a.length + b.length - inter);
}

/** Sorted, duplicate-free array of a shingle set, the form the index stores. */
export function shingleArray(shingles: Iterable<number>): Uint32Array {
  const arr = Uint32Array.from(new Set(shingles));
  arr.sort();
  return arr;
}
