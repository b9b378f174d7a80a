// The local ports a runner test drives a pipeline over: files for blobs, one SQLite database for
// state and queue.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileBlobStore } from '../../lib/store/file-blob-store.ts';
import { openStateDb, SqliteStateStore, SqliteWorkQueue } from '../../lib/store/sqlite-state.ts';
import type { PipelineDeps } from '../../lib/pipeline/deps.ts';

export function localDepsWithoutDedup(prefix: string, maxAttempts: number) {
  return localDepsIn(mkdtempSync(join(tmpdir(), prefix)), maxAttempts);
}

/** The same ports over a folder the caller chose (a bench that runs each step in its own process). */
export function localDepsIn(dir: string, maxAttempts?: number) {
  const db = openStateDb(join(dir, 'state.db'));
  const queue = new SqliteWorkQueue(db, maxAttempts === undefined ? undefined : { maxAttempts });
  const deps: PipelineDeps = {
    blobs: new FileBlobStore(join(dir, 'blobs')),
    state: new SqliteStateStore(db),
    queue,
    log: { info() {}, warn() {}, error() {} },
    secrets: () => undefined,
  };
  return { dir, db, queue, deps };
}
