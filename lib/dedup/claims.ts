// Exact confirmation of near-duplicate candidates, shared by the SQLite and DynamoDB indexes.
//
// Why: a MinHash estimate has a standard error of ~0.03 at J=0.85 (128 permutations), so pairs just
// under the threshold get rejected and pairs just over it get kept; with near copies dense around
// the threshold that costs several points of precision. Exact confirmation keeps LSH for finding
// candidates and makes the decision itself exact.

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
