import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStateDb, SqliteStateStore, SqliteWorkQueue } from '../../lib/store/sqlite-state.ts';
import type { ShardState } from '../../lib/store/ports.ts';

const dbFile = () => join(mkdtempSync(join(tmpdir(), 'state-')), 'state.db');
const shard = (s: string, kept = 1): ShardState => ({
  runId: 'r', stage: 'execute', shard: s, next: [],
  counts: { in: kept, kept, rejected: {}, failed: {}, counters: {} },
});

test('a run is created once; a re-drop of the same input finds it', async () => {
  const st = new SqliteStateStore(openStateDb(dbFile()));
  const run = { runId: 'r', createdAt: 'now', status: 'running' as const, input: 'in.jsonl', mode: 'full' as const, expected: {} };
  assert.equal(await st.createRun(run), true);
  assert.equal(await st.createRun({ ...run, input: 'other' }), false);
  await st.setExpected('r', 'unify', 3);
  await st.setRunStatus('r', 'done');
  assert.deepEqual(await st.getRun('r'), { ...run, status: 'done', expected: { unify: 3 } });
});

test('recording a shard twice counts it once and keeps the first record', async () => {
  const st = new SqliteStateStore(openStateDb(dbFile()));
  assert.deepEqual(await st.recordShard(shard('a', 5), 2), { first: true, complete: false });
  assert.deepEqual(await st.recordShard(shard('a', 7), 2), { first: false, complete: false });
  assert.deepEqual(await st.recordShard(shard('b'), 2), { first: true, complete: true });
  assert.deepEqual(await st.recordShard(shard('b')), { first: false, complete: false });
  assert.equal((await st.getShard('r', 'execute', 'a'))!.counts.kept, 5);
  assert.equal((await st.listShards('r', 'execute')).length, 2);
  assert.equal(await st.getShard('r', 'filter', 'a'), null);
});

test('two connections recording the same shard: exactly one first', async () => {
  const file = dbFile();
  const a = new SqliteStateStore(openStateDb(file));
  const b = new SqliteStateStore(openStateDb(file));
  const results = await Promise.all([a.recordShard(shard('x')), b.recordShard(shard('x'))]);
  assert.equal(results.filter((r) => r.first).length, 1);
});

test('queue: leases hide a message until acked, nacked or the lease expires; dead letters after max attempts', async () => {
  const q = new SqliteWorkQueue(openStateDb(dbFile()), { maxAttempts: 2 });
  await q.send({ runId: 'r', stage: 'execute', shard: 's1' });
  await q.send({ runId: 'r', stage: 'filter', shard: 's1' });
  const [m] = q.receive(['execute'], 10, 1000, 0);
  assert.equal(m.msg.shard, 's1');
  assert.equal(q.receive(['execute'], 10, 1000, 500).length, 0, 'leased message is invisible');
  assert.equal(q.receive(['execute'], 10, 1000, 1500).length, 1, 'visible again after the lease');
  assert.equal(q.nack(m.receipt, 'boom', 0, 1600), 'dead');
  assert.equal(q.receive(['execute'], 10, 1000, 5000).length, 0);
  assert.deepEqual(q.deadLetters().map((d) => d.error), ['boom']);
  const [f] = q.receive(['filter'], 10, 1000, 0);
  q.ack(f.receipt);
  assert.equal(q.pending(), 0);
});
