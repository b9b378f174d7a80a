// The DedupIndex port contract: the ordered algorithm's definition, which the SQLite reference
// index passes (the pipeline computes the same answers in partitions: lib/dedup/partitioned.ts,
// checked against this reference in tests/unit/dedup-partitioned.test.ts). Usage in a test file:
//   dedupIndexContract('SqliteDedupIndex', async () => { const ix = new SqliteDedupIndex(path); return { index: ix, close: async () => ix.close() }; });
// The factory must return an index configured with threshold 0.85 and 16 LSH bands; signatures
// here are 128 values. Each test uses fresh run ids, so one shared backing store is fine. The
// port has one protocol, `claim` of a shard's records in order, one writer per run; concurrent
// writers are not part of the contract.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { DedupClaim, DedupIndex } from '../../lib/store/ports.ts';

export interface DedupIndexHandle {
  index: DedupIndex;
  close?: () => Promise<void>;
}

const NUM_PERM = 128;

/** A random signature, reproducible from `seed`. */
export function randomSignature(seed: number, length = NUM_PERM): Uint32Array {
  let s = seed >>> 0 || 1;
  const sig = new Uint32Array(length);
  for (let i = 0; i < length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    sig[i] = s >>> 0;
  }
  return sig;
}

/** `base` with `changed` positions replaced; `from` picks where the changes start (they stay contiguous). */
export function variant(base: Uint32Array, changed: number, salt: number, from = 0): Uint32Array {
  const sig = base.slice();
  for (let i = 0; i < changed; i++) sig[(from + i) % sig.length] = (sig[(from + i) % sig.length] ^ (0x9e3779b9 + salt * 7919 + i)) >>> 0;
  return sig;
}

const exact = (id: string, hash: string): DedupClaim => ({ id, hash, signature: null });
const near = (id: string, signature: Uint32Array, shingles?: Uint32Array): DedupClaim => ({ id, hash: null, signature, ...(shingles ? { shingles } : {}) });
/** One claim per call, as a shard of one record: the answer of each. */
const one = async (ix: DedupIndex, runId: string, c: DedupClaim) => {
  const [d] = await ix.claim(runId, [c]);
  return d!.kind === 'kept' ? null : d!.of;
};

export function dedupIndexContract(name: string, makeIndex: () => Promise<DedupIndexHandle>): void {
  const run = () => `run-${randomUUID()}`;

  const withIndex = (title: string, body: (ix: DedupIndex) => Promise<void>) =>
    test(`${name} contract: ${title}`, async () => {
      const h = await makeIndex();
      try {
        await body(h.index);
      } finally {
        await h.close?.();
      }
    });

  withIndex('exact: the first claimer owns a hash; later claimers, in the batch or after it, get its id', async (ix) => {
    const r = run();
    assert.deepEqual(await ix.claim(r, [exact('a', 'h1'), exact('b', 'h1'), exact('c', 'h2')]), [
      { kind: 'kept' },
      { kind: 'duplicate', of: 'a' },
      { kind: 'kept' },
    ]);
    assert.equal(await one(ix, r, exact('d', 'h2')), 'c');
    // Another run is a separate namespace.
    assert.equal(await one(ix, run(), exact('z', 'h1')), null);
  });

  withIndex('near: new, identical, similar above and below the threshold (MinHash estimate without shingles)', async (ix) => {
    const r = run();
    const base = randomSignature(11);
    assert.equal(await one(ix, r, near('a', base)), null);
    assert.equal(await one(ix, r, near('same', base)), 'a');
    // 8 of 128 positions differ: estimated J = 0.9375 >= 0.85.
    assert.equal(await one(ix, r, near('close', variant(base, 8, 1, 40))), 'a');
    // 32 contiguous positions differ: 12 of 16 bands still collide, but J = 0.75 < 0.85.
    assert.equal(await one(ix, r, near('far', variant(base, 32, 2, 0))), null);
    assert.equal(await one(ix, r, near('other', randomSignature(99))), null);
    // Threshold boundary: 19 differences -> 109/128 = 0.8516 is in; 20 -> 0.84375 is out.
    const b2 = randomSignature(12);
    assert.deepEqual(await ix.claim(r, [near('b', b2), near('b-in', variant(b2, 19, 3, 64)), near('b-out', variant(b2, 20, 4, 96))]), [
      { kind: 'kept' },
      { kind: 'near_duplicate', of: 'b' },
      { kind: 'kept' },
    ]);
  });

  withIndex('near answers name survivors, and runs are separate', async (ix) => {
    const r = run();
    const a = randomSignature(21);
    const b = variant(a, 12, 5, 0); // J(a,b) ~ 0.906: b is a duplicate of a
    const c = variant(b, 12, 6, 64); // J(b,c) ~ 0.906, J(a,c) ~ 0.81: not a duplicate of a
    assert.equal(await one(ix, r, near('a', a)), null);
    assert.equal(await one(ix, r, near('b', b)), 'a');
    // b was rejected, so c (similar only to b) must not be reported as b's duplicate.
    assert.equal(await one(ix, r, near('c', c)), null);
    assert.equal(await one(ix, run(), near('b', b)), null);
  });

  withIndex('exact confirmation: with shingles on both sides, exact Jaccard decides, not the estimate', async (ix) => {
    const r = run();
    const sig = randomSignature(5);
    const range = (lo: number, hi: number) => Uint32Array.from({ length: hi - lo }, (_, i) => lo + i);
    assert.deepEqual(
      await ix.claim(r, [
        near('a', sig, range(0, 100)),
        // Same signature (estimate 1.0) but exact Jaccard 50/150: kept.
        near('b', sig, range(50, 150)),
        // Estimate 0.75 (32 of 128 values differ, 12 bands still collide) but a's shingles: a near duplicate.
        near('c', variant(sig, 32, 1, 0), range(0, 100)),
        // Without shingles the estimate decides: identical signature to a.
        near('e', sig),
      ]),
      [{ kind: 'kept' }, { kind: 'kept' }, { kind: 'near_duplicate', of: 'a' }, { kind: 'near_duplicate', of: 'a' }],
    );
  });

  withIndex('a shard: exact then near per record, in order, seeing its own earlier claims; a retried shard gets its first answers', async (ix) => {
    const r = run();
    const a = randomSignature(51);
    const claims: DedupClaim[] = [
      { id: 'a', hash: 'ha', signature: a },
      { id: 'b', hash: 'ha', signature: a }, // exact duplicate of a
      { id: 'c', hash: 'hc', signature: variant(a, 8, 1, 0) }, // near duplicate of a
      { id: 'd', hash: 'hd', signature: randomSignature(52) },
      { id: 'e', hash: null, signature: randomSignature(52) }, // near only: duplicate of d
    ];
    const got = await ix.claim(r, claims);
    assert.deepEqual(got, [
      { kind: 'kept' },
      { kind: 'duplicate', of: 'a' },
      { kind: 'near_duplicate', of: 'a' },
      { kind: 'kept' },
      { kind: 'near_duplicate', of: 'd' },
    ]);
    assert.deepEqual(await ix.claim(r, claims), got);
    // A later shard sees the first one's survivors.
    assert.deepEqual(await ix.claim(r, [{ id: 'z', hash: 'hd', signature: randomSignature(53) }, near('y', a)]), [
      { kind: 'duplicate', of: 'd' },
      { kind: 'near_duplicate', of: 'a' },
    ]);
  });

  withIndex('a signature that does not fit the bands is an error', async (ix) => {
    await assert.rejects(ix.claim(run(), [near('x', new Uint32Array(100))]), /multiple of 16 bands/);
  });
}
