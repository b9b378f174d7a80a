// The DedupIndex port contract: any implementation (SQLite now, DynamoDB later) must pass it.
// Usage in a test file:
//   dedupIndexContract('SqliteDedupIndex', async () => { const ix = new SqliteDedupIndex(path); return { index: ix, close: async () => ix.close() }; });
// The factory must return an index configured with threshold 0.85 and 16 LSH bands; signatures
// here are 128 values. Each test uses fresh run ids, so one shared backing store is fine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { DedupIndex } from '../../lib/store/ports.ts';
import { isBatchDedupIndex } from '../../lib/dedup/claims.ts';

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

  withIndex('claimExact: the first claimer owns a hash; later claimers get its id', async (ix) => {
    const r = run();
    assert.equal(await ix.claimExact(r, 'h1', 'a'), 'a');
    assert.equal(await ix.claimExact(r, 'h1', 'b'), 'a');
    assert.equal(await ix.claimExact(r, 'h2', 'b'), 'b');
    // Another run is a separate namespace.
    assert.equal(await ix.claimExact(run(), 'h1', 'z'), 'z');
  });

  withIndex('claimExact is idempotent: a retried claim gets the same answer', async (ix) => {
    const r = run();
    assert.equal(await ix.claimExact(r, 'h', 'a'), 'a');
    assert.equal(await ix.claimExact(r, 'h', 'b'), 'a');
    assert.equal(await ix.claimExact(r, 'h', 'a'), 'a');
    assert.equal(await ix.claimExact(r, 'h', 'b'), 'a');
  });

  withIndex('claimNear: new, identical, similar above and below the threshold', async (ix) => {
    const r = run();
    const base = randomSignature(11);
    assert.equal(await ix.claimNear(r, 'a', base), null);
    assert.equal(await ix.claimNear(r, 'same', base), 'a');
    // 8 of 128 positions differ: estimated J = 0.9375 >= 0.85.
    assert.equal(await ix.claimNear(r, 'close', variant(base, 8, 1, 40)), 'a');
    // 32 contiguous positions differ: 12 of 16 bands still collide, but J = 0.75 < 0.85.
    assert.equal(await ix.claimNear(r, 'far', variant(base, 32, 2, 0)), null);
    assert.equal(await ix.claimNear(r, 'other', randomSignature(99)), null);
    // Threshold boundary: 19 differences -> 109/128 = 0.8516 is in; 20 -> 0.84375 is out.
    const b2 = randomSignature(12);
    assert.equal(await ix.claimNear(r, 'b', b2), null);
    assert.equal(await ix.claimNear(r, 'b-in', variant(b2, 19, 3, 64)), 'b');
    assert.equal(await ix.claimNear(r, 'b-out', variant(b2, 20, 4, 96)), null);
  });

  withIndex('claimNear answers name survivors, and runs are separate', async (ix) => {
    const r = run();
    const a = randomSignature(21);
    const b = variant(a, 12, 5, 0); // J(a,b) ~ 0.906: b is a duplicate of a
    const c = variant(b, 12, 6, 64); // J(b,c) ~ 0.906, J(a,c) ~ 0.81: not a duplicate of a
    assert.equal(await ix.claimNear(r, 'a', a), null);
    assert.equal(await ix.claimNear(r, 'b', b), 'a');
    // b was rejected, so c (similar only to b) must not be reported as b's duplicate.
    assert.equal(await ix.claimNear(r, 'c', c), null);
    assert.equal(await ix.claimNear(run(), 'b', b), null);
  });

  withIndex('claimNear is idempotent: a retried shard gets its first answers', async (ix) => {
    const r = run();
    const a = randomSignature(31);
    assert.equal(await ix.claimNear(r, 'a', a), null);
    assert.equal(await ix.claimNear(r, 'a2', a), 'a');
    // Retry both, in the other order: the answers do not change.
    assert.equal(await ix.claimNear(r, 'a2', a), 'a');
    assert.equal(await ix.claimNear(r, 'a', a), null);
  });

  withIndex('race: many concurrent claimers of one group leave exactly one survivor', async (ix) => {
    const r = run();
    const base = randomSignature(41);
    const ids = Array.from({ length: 40 }, (_, i) => `n${i}`);
    const near = await Promise.all(ids.map((id, i) => ix.claimNear(r, id, i % 2 ? base : variant(base, 6, i, i * 3))));
    const survivors = ids.filter((_, i) => near[i] === null);
    assert.equal(survivors.length, 1, `survivors: ${survivors.join(',')}`);
    assert.ok(near.every((v) => v === null || v === survivors[0]));

    const exact = await Promise.all(ids.map((id) => ix.claimExact(r, 'same-hash', id)));
    assert.equal(new Set(exact).size, 1);
    assert.ok(ids.includes(exact[0]));
  });

  // The optional claimMany capability (lib/dedup/claims.ts), for indexes that have it.
  withIndex('claimMany (if implemented) answers like the per-record claims in order, and is idempotent', async (ix) => {
    if (!isBatchDedupIndex(ix)) return;
    const r = run();
    const a = randomSignature(51);
    const claims = [
      { id: 'a', hash: 'ha', signature: a },
      { id: 'b', hash: 'ha', signature: a }, // exact duplicate of a
      { id: 'c', hash: 'hc', signature: variant(a, 8, 1, 0) }, // near duplicate of a
      { id: 'd', hash: 'hd', signature: randomSignature(52) },
      { id: 'e', hash: null, signature: randomSignature(52) }, // near only: duplicate of d
    ];
    const got = await ix.claimMany(r, claims);
    assert.deepEqual(got, [
      { kind: 'kept' },
      { kind: 'duplicate', of: 'a' },
      { kind: 'near_duplicate', of: 'a' },
      { kind: 'kept' },
      { kind: 'near_duplicate', of: 'd' },
    ]);
    assert.deepEqual(await ix.claimMany(r, claims), got);
    // The port's methods see the batch's claims.
    assert.equal(await ix.claimExact(r, 'hd', 'z'), 'd');
    assert.equal(await ix.claimNear(r, 'z', a), 'a');
  });
}
