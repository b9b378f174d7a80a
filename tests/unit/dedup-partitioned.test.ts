// The partitioned dedup (lib/dedup/partitioned.ts) gives the ordered algorithm's answers: the
// SQLite index claiming shards one after another is the reference, on planted corpora (exact
// copies, near copies, chains where a rejected record must not block a later one), with shards
// and partitions read in shuffled orders and several partition counts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteDedupIndex } from '../../lib/store/sqlite-dedup-index.ts';
import { buildPartition, memorySource, sweep, type PartitionParams } from '../../lib/dedup/partitioned.ts';
import type { DedupClaim, DedupDecision } from '../../lib/store/ports.ts';
import { mulberry32 } from '../../lib/util/random.ts';
import { claimOfSet, plantedCorpus } from '../helpers/dedup-corpus.ts';

function ordered(shards: DedupClaim[][]): DedupDecision[][] {
  const dir = mkdtempSync(join(tmpdir(), 'dedup-ref-'));
  const ix = new SqliteDedupIndex(join(dir, 'ix.sqlite'), { threshold: 0.85, bands: 16 });
  try {
    return shards.map((s) => ix.claimSync('run', s));
  } finally {
    ix.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function shuffled<T>(xs: T[], seed: number): T[] {
  const r = mulberry32(seed);
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

async function partitioned(shards: DedupClaim[][], partitions: number, seed: number): Promise<DedupDecision[][]> {
  const params: PartitionParams = { threshold: 0.85, partitions };
  let pass = 0;
  // every pass of every partition reads the shards in a different order
  const source = memorySource(shards, 16, (ranks) => shuffled(ranks, seed * 1000 + pass++));
  const results = await Promise.all(shuffled([...Array(partitions).keys()], seed).map((p) => buildPartition(p, params, source)));
  const { decisions } = sweep(shuffled(results, seed + 1));
  return shards.map((_, rank) => decisions.get(rank)!);
}

const tally = (ds: DedupDecision[][]) => {
  const t: Record<string, number> = {};
  for (const d of ds.flat()) t[d.kind] = (t[d.kind] ?? 0) + 1;
  return t;
};

test('partitioned dedup: a chain A ~ B ~ C with A !~ C keeps A and C, in any shard order', async () => {
  const r = mulberry32(7);
  const a = Array.from({ length: 100 }, () => (r() * 2 ** 32) >>> 0);
  const b = [...a.slice(0, 94), ...Array.from({ length: 6 }, () => (r() * 2 ** 32) >>> 0)]; // J(a,b) = 94/106
  const c = [...b.slice(6), ...Array.from({ length: 6 }, () => (r() * 2 ** 32) >>> 0)]; // J(b,c) = 94/106, J(a,c) = 88/112
  const shards = [[claimOfSet('a', a, true)], [claimOfSet('b', b, true), claimOfSet('b2', b, true)], [claimOfSet('c', c, true)]];
  const want = ordered(shards);
  assert.deepEqual(want, [[{ kind: 'kept' }], [{ kind: 'near_duplicate', of: 'a' }, { kind: 'duplicate', of: 'b' }], [{ kind: 'kept' }]]);
  for (const p of [1, 2, 7]) for (const seed of [1, 2, 3]) assert.deepEqual(await partitioned(shards, p, seed), want);
  // B first: B survives and both A and C are its near copies
  const bFirst = [[claimOfSet('b', b, true)], [claimOfSet('a', a, true), claimOfSet('c', c, true)]];
  assert.deepEqual(await partitioned(bFirst, 3, 4), [[{ kind: 'kept' }], [{ kind: 'near_duplicate', of: 'b' }, { kind: 'near_duplicate', of: 'b' }]]);
});

test('partitioned dedup: equal to the ordered SQLite index on planted corpora, any arrival order and partition count', async () => {
  for (const [seed, withShingles] of [
    [11, true],
    [12, true],
    [13, false],
  ] as const) {
    const shards = plantedCorpus({ records: 1500, shardSize: 37, seed, withShingles, exact: 0.12, near: 0.12, chain: 0.2 });
    const want = ordered(shards);
    const t = tally(want);
    // the corpus really exercises every path
    assert.ok(t.duplicate! > 50 && t.near_duplicate! > 100 && t.kept! > 500, JSON.stringify(t));
    for (const [p, s] of [
      [1, 1],
      [4, 2],
      [16, 3],
      [16, 4],
    ] as const) {
      const got = await partitioned(shards, p, seed * 10 + s);
      assert.deepEqual(got, want, `seed ${seed}, ${p} partitions`);
    }
  }
});

test('partitioned dedup: a partition holds about 1/P of the bucket entries', async () => {
  const shards = plantedCorpus({ records: 800, shardSize: 100, seed: 5 });
  const params = { threshold: 0.85, partitions: 8 };
  const results = await Promise.all([...Array(8).keys()].map((p) => buildPartition(p, params, memorySource(shards, 16))));
  const entries = results.map((r) => r.stats.bucketEntries);
  assert.equal(entries.reduce((a, b) => a + b, 0), 800 * 16);
  for (const e of entries) assert.ok(e > 800 * 16 / 8 / 2 && e < 800 * 16 / 8 * 2, `entries per partition ${entries.join(',')}`);
});
