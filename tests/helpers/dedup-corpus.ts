// Claims for dedup tests and benches: shards of records whose shingle sets are planted as exact
// copies, near copies and chains (A ~ B, B ~ C, A !~ C: the case where the ordered algorithm's
// transitive effect decides C's fate), with MinHash signatures computed from the sets as the dedup
// stage does. Deterministic from the seed.
import { createHash } from 'node:crypto';
import { MinHasher } from '../../lib/dedup/minhash.ts';
import { shingleArray } from '../../lib/dedup/claims.ts';
import type { DedupClaim } from '../../lib/store/ports.ts';
import { mulberry32 } from '../../lib/util/random.ts';

const hasher = new MinHasher(128);

export interface CorpusOptions {
  records: number;
  shardSize: number;
  seed: number;
  /** Shingles per fresh record (default 60..140). */
  minShingles?: number;
  maxShingles?: number;
  /** Share of records that are exact copies / near copies / chain links of an earlier one. */
  exact?: number;
  near?: number;
  chain?: number;
  /** Keep the shingles on the claims (exact confirmation), as confirm: 'exact' does. */
  withShingles?: boolean;
}

/** `set` with `k` members replaced by fresh values (J = (n-k)/(n+k)). */
function mutate(set: number[], k: number, r: () => number): number[] {
  const out = [...set];
  for (let i = 0; i < k; i++) out[Math.floor(r() * out.length)] = (r() * 2 ** 32) >>> 0;
  return out;
}

export function claimOfSet(id: string, set: number[], withShingles: boolean): DedupClaim {
  const shingles = shingleArray(set);
  const hash = createHash('sha256').update(Buffer.from(shingles.buffer, shingles.byteOffset, shingles.byteLength)).digest('hex');
  return { id, hash, signature: hasher.signature(shingles), ...(withShingles ? { shingles } : {}) };
}

/** Shards of claims in (shard, position) order. */
export function plantedCorpus(o: CorpusOptions): DedupClaim[][] {
  const r = mulberry32(o.seed >>> 0 || 1);
  const sets: number[][] = [];
  const exact = o.exact ?? 0.1;
  const near = o.near ?? 0.1;
  const chain = o.chain ?? 0.1;
  const minS = o.minShingles ?? 60;
  const maxS = o.maxShingles ?? 140;
  const claims: DedupClaim[] = [];
  for (let i = 0; i < o.records; i++) {
    const u = r();
    let set: number[];
    if (i > 0 && u < exact) set = sets[Math.floor(r() * i)]!;
    else if (i > 0 && u < exact + near) {
      const src = sets[Math.floor(r() * i)]!;
      set = mutate(src, 1 + Math.floor(r() * Math.max(1, src.length * 0.06)), r); // J >= ~0.88
    } else if (i > 0 && u < exact + near + chain) {
      // a link of a chain: ~0.887 from its source, so two links apart fall under 0.85
      const src = sets[Math.max(0, i - 1 - Math.floor(r() * 3))]!;
      set = mutate(src, Math.round(src.length * 0.06), r);
    } else {
      const n = minS + Math.floor(r() * (maxS - minS + 1));
      set = Array.from({ length: n }, () => (r() * 2 ** 32) >>> 0);
    }
    sets.push(set);
    claims.push(claimOfSet(`rec-${String(i).padStart(7, '0')}`, set, o.withShingles ?? true));
  }
  const shards: DedupClaim[][] = [];
  for (let i = 0; i < claims.length; i += o.shardSize) shards.push(claims.slice(i, i + o.shardSize));
  return shards;
}
