import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MinHasher, bandKeys, estimateJaccard, exactJaccard, shingleSet } from '../../lib/dedup/minhash.ts';
import { normalizeTokens } from '../../lib/dedup/normalize.ts';
import { mulberry32 } from '../../lib/util/random.ts';

// A deterministic PRNG so a failure can be reproduced.
const rng = mulberry32;

test('MinHash estimates track exact Jaccard within the expected error', () => {
  const hasher = new MinHasher(128);
  const rand = rng(7);
  let sqErr = 0;
  let trials = 0;
  for (const target of [0.2, 0.5, 0.7, 0.85, 0.95]) {
    for (let rep = 0; rep < 20; rep++) {
      // Two sets of 200 elements sharing a chosen number of them.
      const shared = Math.round((400 * target) / (1 + target));
      const common = Array.from({ length: shared }, () => (rand() * 2 ** 32) >>> 0);
      const a = new Set([...common, ...Array.from({ length: 200 - shared }, () => (rand() * 2 ** 32) >>> 0)]);
      const b = new Set([...common, ...Array.from({ length: 200 - shared }, () => (rand() * 2 ** 32) >>> 0)]);
      const j = exactJaccard(a, b);
      const est = estimateJaccard(hasher.signature(a), hasher.signature(b));
      const se = Math.sqrt((j * (1 - j)) / 128);
      assert.ok(Math.abs(est - j) < 5 * se + 0.01, `J=${j.toFixed(3)} estimated ${est.toFixed(3)}`);
      sqErr += (est - j) ** 2;
      trials++;
    }
  }
  // Root mean square error near the theoretical sqrt(J(1-J)/128) <= 0.044.
  assert.ok(Math.sqrt(sqErr / trials) < 0.045, `rmse ${Math.sqrt(sqErr / trials)}`);
});

test('identical programs have identical signatures and band keys; unrelated ones share no band', () => {
  const hasher = new MinHasher(128);
  const p1 = normalizeTokens('def f(a, b):\n    c = a * b\n    d = c + 7\n    return d - a\noutput = f(3, 4)\nprint(output)\n');
  const p2 = normalizeTokens('def g(x, y):\n    z = x * y\n    w = z + 7\n    return w - x\noutput = g(3, 4)\nprint(output)\n');
  const p3 = normalizeTokens('import math\nvals = [math.sqrt(i) for i in range(10)]\noutput = round(sum(vals), 3)\nprint(output)\n');
  const s1 = hasher.signature(shingleSet(p1));
  assert.deepEqual(hasher.signature(shingleSet(p2)), s1);
  assert.deepEqual(bandKeys(s1, 16), bandKeys(hasher.signature(shingleSet(p2)), 16));
  const k1 = bandKeys(s1, 16);
  const k3 = bandKeys(hasher.signature(shingleSet(p3)), 16);
  assert.equal(k1.filter((k, i) => k === k3[i]).length, 0);
  assert.ok(k1.every((k) => Number.isSafeInteger(k) && k >= 0));
  assert.throws(() => bandKeys(s1, 10), /multiple of 10 bands/);
});

test('shingles: a program shorter than k tokens still has one shingle', () => {
  assert.equal(shingleSet(['a', 'b'], 5).size, 1);
  assert.equal(shingleSet(['a', 'b', 'c', 'd', 'e', 'f'], 5).size, 2);
});
