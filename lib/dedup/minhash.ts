// MinHash over token shingles, and LSH banding of the signatures.
// A shingle is `k` consecutive normalized tokens hashed to 32 bits; the signature holds, for each
// of `numPerm` hash functions, the minimum over the program's shingle set. The share of equal
// positions of two signatures estimates the Jaccard similarity of the two shingle sets
// (standard error sqrt(J(1-J)/numPerm): 0.032 at J=0.85 with 128 permutations).

/** murmur3's 32-bit finalizer: a bijection on uint32 with good avalanche. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The set of 32-bit shingle hashes of a token stream (`k` tokens per shingle; one shingle if shorter). */
export function shingleSet(tokens: string[], k = 5): Set<number> {
  const th = tokens.map(fnv1a);
  const out = new Set<number>();
  const last = Math.max(0, th.length - k);
  for (let i = 0; i <= last; i++) {
    let h = 0x9e3779b9 ^ Math.min(k, th.length);
    for (let j = i; j < i + k && j < th.length; j++) h = fmix32((Math.imul(h, 31) + th[j]) >>> 0);
    out.add(h);
  }
  return out;
}

export class MinHasher {
  readonly numPerm: number;
  private readonly seeds: Uint32Array;

  constructor(numPerm = 128, seed = 1) {
    this.numPerm = numPerm;
    this.seeds = new Uint32Array(numPerm);
    let s = seed >>> 0;
    for (let i = 0; i < numPerm; i++) {
      s = (s + 0x9e3779b9) >>> 0;
      this.seeds[i] = fmix32(s);
    }
  }

  /** The signature of a shingle set; all 0xffffffff for an empty set. */
  signature(shingles: Iterable<number>): Uint32Array {
    const sig = new Uint32Array(this.numPerm).fill(0xffffffff);
    const seeds = this.seeds;
    const n = this.numPerm;
    for (const h of shingles) {
      for (let i = 0; i < n; i++) {
        // h ^ seed, then a bijective mix: one pseudo-random permutation of uint32 per seed.
        let x = h ^ seeds[i];
        x ^= x >>> 16;
        x = Math.imul(x, 0x85ebca6b);
        x ^= x >>> 13;
        x = Math.imul(x, 0xc2b2ae35);
        x ^= x >>> 16;
        x >>>= 0;
        if (x < sig[i]) sig[i] = x;
      }
    }
    return sig;
  }
}

/** Share of equal positions: the MinHash estimate of Jaccard similarity. */
export function estimateJaccard(a: Uint32Array, b: Uint32Array): number {
  if (a.length !== b.length) throw new Error(`signature lengths differ: ${a.length} vs ${b.length}`);
  let eq = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) eq++;
  return a.length === 0 ? 0 : eq / a.length;
}

/** Exact Jaccard similarity of two sets. */
export function exactJaccard<T>(a: Set<T>, b: Set<T>): number {
  if (a.size === 0 && b.size === 0) return 1;
  const [small, big] = a.size <= b.size ? [a, b] : [b, a];
  let inter = 0;
  for (const x of small) if (big.has(x)) inter++;
  return inter / (a.size + b.size - inter);
}

/**
 * One key per LSH band: `bands` groups of `sig.length / bands` rows, each hashed to a 52-bit
 * integer (safe as a JS number and as a SQLite INTEGER). Two signatures sharing any band key are
 * candidates; with 16 bands of 8 rows a pair at J=0.85 shares one with p = 1-(1-0.85^8)^16 ~ 0.994.
 */
export function bandKeys(sig: Uint32Array, bands: number): number[] {
  if (bands < 1 || sig.length % bands !== 0) throw new Error(`signature length ${sig.length} is not a multiple of ${bands} bands`);
  const rows = sig.length / bands;
  const keys: number[] = new Array(bands);
  for (let b = 0; b < bands; b++) {
    let h1 = 0x811c9dc5 ^ b;
    let h2 = 0x1b873593 ^ Math.imul(b + 1, 0x9e3779b9);
    for (let r = b * rows; r < (b + 1) * rows; r++) {
      h1 = fmix32((Math.imul(h1, 0x01000193) ^ sig[r]) >>> 0);
      h2 = fmix32((Math.imul(h2, 0x5bd1e995) + sig[r]) >>> 0);
    }
    keys[b] = (h1 & 0xfffff) * 0x100000000 + h2;
  }
  return keys;
}

/** Normalized tokens -> signature, the one call the filter stage and the bench make. */
export function signatureOf(hasher: MinHasher, tokens: string[], shingleSize: number): Uint32Array {
  return hasher.signature(shingleSet(tokens, shingleSize));
}
