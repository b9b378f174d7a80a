// Shared by the report builder (Node) and the page: how record lists are written to the facet
// files (sorted indexes as base-36 deltas, "3,1,1,a") and which file a seed's list lives in.
import { hash32 } from '../util/random.ts';

export function encodeDeltas(sorted: ArrayLike<number>): string {
  const parts: string[] = [];
  let prev = -1;
  for (let i = 0; i < sorted.length; i++) {
    const v = sorted[i]!;
    if (v === prev) continue;
    parts.push((v - prev).toString(36));
    prev = v;
  }
  return parts.join(',');
}

export function decodeDeltas(text: string): Int32Array {
  if (text === '') return new Int32Array(0);
  const parts = text.split(',');
  const out = new Int32Array(parts.length);
  let prev = -1;
  for (let i = 0; i < parts.length; i++) out[i] = prev += parseInt(parts[i]!, 36);
  return out;
}

/** The seed file a seed's list lives in (same hash in Node and in the page). */
export const seedBucketOf = (seed: string, buckets: number): number => hash32(seed) % buckets;

/** File names under report/data/. */
export const files = {
  chunk: (group: number, k: number) => `data/g${group}-${k}.js`,
  shape: (i: number) => `data/shape-${i}.js`,
  seeds: (b: number) => `data/seeds-${b}.js`,
};
/** The global each data file calls: `__caco_load(name, payload)` (a script, so file:// works). */
export const LOAD_FN = '__caco_load';
