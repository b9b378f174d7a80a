// The dataset folder is copied from the blob store (local files or S3) a bounded number of
// objects at a time, keeping the relative paths; a key that would land outside is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BlobStore } from '../../lib/store/ports.ts';
import { COPY_CONCURRENCY, copyTree, downloadDataset } from '../../lib/local/materialize.ts';

/** An in-memory store whose reads take a few ms, counting how many are in flight. */
function slowStore(objects: Record<string, string>) {
  const seen = { inFlight: 0, max: 0 };
  const blobs: BlobStore = {
    async get(k) {
      seen.inFlight++;
      seen.max = Math.max(seen.max, seen.inFlight);
      await new Promise((r) => setTimeout(r, 5));
      seen.inFlight--;
      return k in objects ? Buffer.from(objects[k]!) : null;
    },
    async put() {},
    async list(prefix) {
      return Object.keys(objects).filter((k) => k.startsWith(prefix)).sort();
    },
    async delete() {},
  };
  return { blobs, seen };
}

test('copies the dataset tree in parallel, never more than the bound at once', async () => {
  const objects: Record<string, string> = { 'runs/r/dataset/stats.json': '{"runId":"r"}' };
  for (let i = 0; i < 40; i++) objects[`runs/r/dataset/data/train-${String(i).padStart(5, '0')}.parquet`] = `part ${i}`;
  const { blobs, seen } = slowStore(objects);
  const dir = join(mkdtempSync(join(tmpdir(), 'mat-')), 'ds');
  const files = await downloadDataset(blobs, 'r', dir);
  assert.equal(files.length, 41);
  assert.equal(readFileSync(join(dir, 'data', 'train-00039.parquet'), 'utf8'), 'part 39');
  assert.equal(seen.max, COPY_CONCURRENCY, 'fetches overlap up to the bound');
});

test('refuses a key that would write outside the destination', async () => {
  const { blobs } = slowStore({ 'p/../../escape.txt': 'x' });
  await assert.rejects(copyTree(blobs, ['p/../../escape.txt'], 'p/', mkdtempSync(join(tmpdir(), 'mat-'))), /refusing to write outside/);
});

test('a folder holding something else is left alone', async () => {
  const { blobs } = slowStore({ 'runs/r/dataset/stats.json': '{"runId":"r"}' });
  const dir = mkdtempSync(join(tmpdir(), 'mat-'));
  writeFileSync(join(dir, 'stats.json'), '{"runId":"another"}');
  await assert.rejects(downloadDataset(blobs, 'r', dir), /not empty and holds no earlier copy/);
  assert.equal(readFileSync(join(dir, 'stats.json'), 'utf8'), '{"runId":"another"}');
});
