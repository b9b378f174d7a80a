// SqliteDedupIndex against the DedupIndex contract, then a race between processes on one file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { SqliteDedupIndex } from '../../lib/store/sqlite-dedup-index.ts';
import { dedupIndexContract } from '../contract/dedup-index.contract.ts';

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
  assert.deepEqual(await a.claim('r', [{ id: 'x', hash: 'h', signature: sig }]), [{ kind: 'kept' }]);
  a.close();
  const b = new SqliteDedupIndex(path);
  assert.deepEqual(await b.claim('r', [{ id: 'y', hash: null, signature: sig }]), [{ kind: 'near_duplicate', of: 'x' }]);
  assert.deepEqual(await b.claim('r', [{ id: 'x', hash: 'h', signature: sig }]), [{ kind: 'kept' }]);
  assert.deepEqual(await b.claim('r', [{ id: 'z', hash: 'h', signature: null }]), [{ kind: 'duplicate', of: 'x' }]);
  assert.ok(b.sizeBytes() > 0);
  assert.throws(() => b.claimSync('r', [{ id: 'z', hash: null, signature: new Uint32Array(100) }]), /multiple of 16 bands/);
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
