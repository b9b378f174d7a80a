// SqliteDedupIndex against the DedupIndex contract, then a race between processes on one file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { SqliteDedupIndex } from '../../lib/store/sqlite-dedup-index.ts';
import { dedupIndexContract, randomSignature, variant } from '../contract/dedup-index.contract.ts';

const dir = mkdtempSync(join(tmpdir(), 'dedup-'));
const shared = join(dir, 'shared.sqlite');

dedupIndexContract('SqliteDedupIndex', async () => {
  const ix = new SqliteDedupIndex(shared, { threshold: 0.85, bands: 16 });
  return { index: ix, close: async () => ix.close() };
});

test('SqliteDedupIndex: answers survive closing and reopening the file', async () => {
  const path = join(dir, 'reopen.sqlite');
  const a = new SqliteDedupIndex(path);
  const sig = new Uint32Array(128).map((_, i) => i * 2654435761);
  assert.equal(await a.claimNear('r', 'x', sig), null);
  assert.equal(await a.claimExact('r', 'h', 'x'), 'x');
  a.close();
  const b = new SqliteDedupIndex(path);
  assert.equal(await b.claimNear('r', 'y', sig), 'x');
  assert.equal(await b.claimNear('r', 'x', sig), null);
  assert.equal(await b.claimExact('r', 'h', 'y'), 'x');
  assert.ok(b.sizeBytes() > 0);
  assert.throws(() => b.claimNearSync('r', 'z', new Uint32Array(100)), /multiple of 16 bands/);
  b.close();
});

function runWorker(path: string, runId: string, startAt: number, worker: number, claims: number): Promise<{ near: Record<string, string | null>; exact: Record<string, string> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', new URL('../contract/sqlite-race-worker.ts', import.meta.url).pathname, path, runId, String(startAt), String(worker), String(claims)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`worker ${worker} exited ${code}: ${err}`))));
  });
}

test('SqliteDedupIndex: 4 processes racing on one file leave exactly one survivor per group', async () => {
  const path = join(dir, 'race.sqlite');
  new SqliteDedupIndex(path).close(); // create the schema once, as the orchestrator would
  const groups = 300;
  const startAt = Date.now() + 2500; // time for the children to load tsx
  const results = await Promise.all([0, 1, 2, 3].map((w) => runWorker(path, 'race-run', startAt, w, groups)));
  const near = Object.assign({}, ...results.map((r) => r.near)) as Record<string, string | null>;
  const exact = Object.assign({}, ...results.map((r) => r.exact)) as Record<string, string>;
  assert.equal(Object.keys(near).length, groups * 4);
  for (let g = 0; g < groups; g++) {
    const members = [0, 1, 2, 3].map((w) => `g${g}-w${w}`);
    const survivors = members.filter((id) => near[id] === null);
    assert.equal(survivors.length, 1, `group ${g}: near survivors ${survivors.join(', ')}`);
    assert.ok(members.every((id) => near[id] === null || near[id] === survivors[0]), `group ${g}`);
    assert.equal(new Set(members.map((id) => exact[id])).size, 1, `group ${g}: exact owners`);
  }
  // A retry from a fresh process gets the recorded answers.
  const again = await runWorker(path, 'race-run', 0, 2, groups);
  for (const [id, v] of Object.entries(again.near)) assert.equal(v, near[id]);
  for (const [id, v] of Object.entries(again.exact)) assert.equal(v, exact[id]);
});

test('SqliteDedupIndex.claimMany: one transaction per batch, exact confirmation by shingles, idempotent', async () => {
  const ix = new SqliteDedupIndex(join(dir, 'many.sqlite'));
  const sig = randomSignature(5);
  const range = (lo: number, hi: number) => Uint32Array.from({ length: hi - lo }, (_, i) => lo + i);
  const claims = [
    { id: 'a', hash: 'ha', signature: sig, shingles: range(0, 100) },
    // Same signature (estimate 1.0) but exact Jaccard 50/150: exact confirmation keeps it.
    { id: 'b', hash: 'hb', signature: sig, shingles: range(50, 150) },
    // Estimate 0.75 (32 of 128 values differ, 12 bands still collide) but the same shingles as a: a near duplicate.
    { id: 'c', hash: 'hc', signature: variant(sig, 32, 1, 0), shingles: range(0, 100) },
    { id: 'd', hash: 'ha', signature: sig, shingles: range(0, 100) }, // an exact duplicate of a
    // Without shingles, the estimate decides: identical signature to a.
    { id: 'e', hash: 'he', signature: sig },
  ];
  const first = await ix.claimMany('run', claims);
  assert.deepEqual(first, [
    { kind: 'kept' },
    { kind: 'kept' },
    { kind: 'near_duplicate', of: 'a' },
    { kind: 'duplicate', of: 'a' },
    { kind: 'near_duplicate', of: 'a' },
  ]);
  assert.deepEqual(await ix.claimMany('run', claims), first, 'a retried batch gets the same answers');
  assert.deepEqual(await ix.claimMany('run', [claims[1]]), [first[1]]);
  assert.throws(() => ix.claimManySync('run', [{ id: 'x', hash: null, signature: new Uint32Array(7) }]), /multiple of 16/);
  ix.close();
});
