// Small deterministic hashing and pseudo-randomness, shared so every seeded choice in the
// pipeline (few-shot examples, fault schedules, n-gram keys) uses the same well-known functions.

/** cyrb53 (public domain, bryc): both 32-bit halves of a fast string hash. */
function cyrb53Halves(s: string): [number, number] {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return [h1, h2];
}

/** A 53-bit hash of a string (exact in a JS number). */
export function hash53(s: string): number {
  const [h1, h2] = cyrb53Halves(s);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** A 32-bit hash of a string (cyrb53 folded). */
export function hash32(s: string): number {
  const [h1, h2] = cyrb53Halves(s);
  return (h1 ^ h2) >>> 0;
}

/** mulberry32 (public domain): a tiny seeded PRNG returning floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
