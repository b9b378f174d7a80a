// The local ports a runner test drives a pipeline over: files for blobs, one SQLite database for
// state and queue.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileBlobStore } from '../../lib/store/file-blob-store.ts';
import { openStateDb, SqliteStateStore, SqliteWorkQueue } from '../../lib/store/sqlite-state.ts';
import type { PipelineDeps } from '../../lib/pipeline/deps.ts';

export function localDepsWithoutDedup(prefix: string, maxAttempts: number) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const db = openStateDb(join(dir, 'state.db'));
  const queue = new SqliteWorkQueue(db, { maxAttempts });
  const deps: PipelineDeps = {
    blobs: new FileBlobStore(join(dir, 'blobs')),
    state: new SqliteStateStore(db),
    queue,
    log: { info() {}, warn() {}, error() {} },
    secrets: () => undefined,
  };
  return { dir, db, queue, deps };
}
