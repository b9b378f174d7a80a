// The demo's dataset before and after assemble ran in parallel: the local run (plan, a task per
// part, finish, through the local orchestrator) writes exactly what the single-invocation assemble
// (tests/helpers/assemble-single.ts) writes for the same run: the same files, byte for byte.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadConfigFile, runLocal } from '../../lib/local/run-local.ts';
import { DEMO_CONFIG, DEMO_INPUT } from '../../lib/cli/demo.ts';
import { parseRunConfig, resolveEndpoint, rolesUsed } from '../../lib/config.ts';
import { keys } from '../../lib/pipeline/keys.ts';
import { FileBlobStore } from '../../lib/store/file-blob-store.ts';
import { openStateDb, SqliteStateStore, SqliteWorkQueue } from '../../lib/store/sqlite-state.ts';
import type { BlobStore } from '../../lib/store/ports.ts';
import { assembleRunSingle } from '../helpers/assemble-single.ts';

async function folder(blobs: BlobStore, runId: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const k of await blobs.list(keys.dataset(runId))) out.set(k.slice(keys.dataset(runId).length), (await blobs.get(k))!);
  return out;
}

test("the demo's dataset is the single assemble's, byte for byte", { timeout: 240_000 }, async () => {
  const out = mkdtempSync(join(tmpdir(), 'caco-assemble-demo-'));
  const r = await runLocal({ input: DEMO_INPUT, config: loadConfigFile(DEMO_CONFIG), configDir: dirname(DEMO_CONFIG), out, progress: 'quiet' });
  assert.equal(r.status, 'done', JSON.stringify(r.deadLetters));
  const blobs = new FileBlobStore(join(out, '.caco', 'blobs'));
  const parallel = await folder(blobs, r.runId);
  assert.ok([...parallel.keys()].some((f) => f === 'data/train-00000.parquet'));

  // The same run's blobs and shard records, assembled the old way into a clean folder.
  for (const k of await blobs.list(keys.dataset(r.runId))) await blobs.delete(k);
  const db = openStateDb(join(out, '.caco', 'state.db'));
  const cfg = parseRunConfig(JSON.parse((await blobs.get(keys.config(r.runId)))!.toString('utf8')));
  const models = Object.fromEntries(rolesUsed(cfg).map((role) => [role, resolveEndpoint(cfg, role).model]));
  const deps = { blobs, state: new SqliteStateStore(db), queue: new SqliteWorkQueue(db), log: { info() {}, warn() {}, error() {} }, secrets: () => undefined };
  await assembleRunSingle(r.runId, { mode: cfg.mode, models, jsonl: cfg.dataset.jsonl }, deps);
  const single = await folder(blobs, r.runId);
  db.close();

  assert.deepEqual([...parallel.keys()].sort(), [...single.keys()].sort(), 'the same files');
  for (const [f, b] of single) assert.ok(parallel.get(f)!.equals(b), `${f} is byte-identical`);
});
