// Per-run caches of a host (lib/hosts/run-cache.ts) have an end: a run is dropped when it ends, the
// oldest run goes when a warm instance has served more than its bound, and a failed make is
// tried again next time instead of being remembered.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RunCache } from '../../lib/hosts/run-cache.ts';

test('one value per run, shared by concurrent callers; end() drops it', async () => {
  const c = new RunCache<number>(4);
  let made = 0;
  const make = async () => ++made;
  const [a, b] = await Promise.all([c.get('r1', make), c.get('r1', make)]);
  assert.deepEqual([a, b, made], [1, 1, 1]);
  c.end('r1');
  assert.equal(await c.get('r1', make), 2);
});

test('at most maxRuns runs are kept, the least recently used goes first', async () => {
  const c = new RunCache<string>(2);
  await c.get('a', () => 'A');
  await c.get('b', () => 'B');
  await c.get('a', () => 'A2'); // a is used again: b is now the oldest
  await c.get('c', () => 'C');
  assert.equal(c.size, 2);
  assert.equal(await c.get('a', () => 'A3'), 'A');
  assert.equal(await c.get('b', () => 'B2'), 'B2', 'b was evicted and made again');
});

test('a failed make is not cached', async () => {
  const c = new RunCache<string>();
  await assert.rejects(c.get('r', () => Promise.reject(new Error('S3 hiccup'))), /hiccup/);
  assert.equal(await c.get('r', () => 'ok'), 'ok');
});
