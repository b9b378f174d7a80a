import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileBlobStore } from '../../lib/store/file-blob-store.ts';

test('put, get, list and delete round-trip with S3-style keys', async () => {
  const store = new FileBlobStore(mkdtempSync(join(tmpdir(), 'blob-')));
  assert.equal(await store.get('runs/r1/config.json'), null);
  await store.put('runs/r1/config.json', '{"a":1}');
  await store.put('runs/r1/execute/0001.jsonl', Buffer.from('x\n'));
  await store.put('runs/r2/config.json', '{}');
  assert.equal((await store.get('runs/r1/config.json'))!.toString(), '{"a":1}');
  assert.deepEqual(await store.list('runs/r1/'), ['runs/r1/config.json', 'runs/r1/execute/0001.jsonl']);
  await store.put('runs/r1/config.json', 'overwritten');
  assert.equal((await store.get('runs/r1/config.json'))!.toString(), 'overwritten');
  await store.delete('runs/r1/config.json');
  assert.equal(await store.get('runs/r1/config.json'), null);
});

test('keys that escape the root are refused', async () => {
  const store = new FileBlobStore(mkdtempSync(join(tmpdir(), 'blob-')));
  await assert.rejects(store.put('../evil', 'x'), /invalid blob key/);
  await assert.rejects(store.get('/etc/passwd'), /invalid blob key/);
});

test('list with a prefix inside a folder, or a partial name, or nothing', async () => {
  const store = new FileBlobStore(mkdtempSync(join(tmpdir(), 'blob-')));
  await store.put('runs/r1/filter/u00000.jsonl', 'a');
  await store.put('runs/r1/filter/g00000.jsonl', 'b');
  await store.put('runs/r1/dedup/u00000.jsonl', 'c');
  await store.put('cache/llm/ab.json', 'd');
  assert.deepEqual(await store.list('runs/r1/filter/u'), ['runs/r1/filter/u00000.jsonl']);
  assert.deepEqual(await store.list('runs/r1/f'), ['runs/r1/filter/g00000.jsonl', 'runs/r1/filter/u00000.jsonl']);
  assert.deepEqual(await store.list('runs/none/'), []);
  assert.equal((await store.list('')).length, 4);
});
