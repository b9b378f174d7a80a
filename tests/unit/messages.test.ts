// What crosses a process boundary is checked with zod where it is read: a bad shard message, a
// bad record in a stage's input blob or a bad checkpoint fails the shard with an error naming
// the field (and the blob and line), before any stage code sees it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileBlobStore } from '../../lib/store/file-blob-store.ts';
import { openStateDb, SqliteStateStore, SqliteWorkQueue } from '../../lib/store/sqlite-state.ts';
import type { PipelineDeps } from '../../lib/pipeline/deps.ts';
import { createPipeline } from '../../lib/pipeline/registry.ts';
import { processShardMessage } from '../../lib/pipeline/runner.ts';
import { keys } from '../../lib/pipeline/keys.ts';
import { parseRunConfig } from '../../lib/config.ts';
import { prepareDedup } from '../../lib/stages/dedup.ts';
import { FilterConfigSchema } from '../../lib/codecot/filter-config.ts';
import { parseShardMessage, PoisonMessageError } from '../../lib/aws/lambda-runtime.ts';

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'messages-'));
  const db = openStateDb(join(dir, 'state.db'));
  const deps: PipelineDeps = {
    blobs: new FileBlobStore(join(dir, 'blobs')),
    state: new SqliteStateStore(db),
    queue: new SqliteWorkQueue(db),
    log: { info() {}, warn() {}, error() {} },
    secrets: () => undefined,
  };
  const impl = createPipeline({
    sandbox: () => Promise.reject(new Error('no sandbox here')),
    llm: () => ({}),
  });
  return { deps, impl };
}

const exec = { id: 'a', status: 'ok', input: null, output: null, outputSource: null, stdout: '', stderr: '', truncated: false, error: null, durationMs: 1 };

test('a record that does not fit the stage input schema fails the shard, naming the blob, line and field', async () => {
  const { deps, impl } = setup();
  await deps.blobs.put(keys.config('r'), JSON.stringify(parseRunConfig({ llm: { default: { baseURL: 'http://127.0.0.1:9/v1', model: 'm' } } })));
  const good = { id: 'a', code: 'x = 1\n', exec };
  const bad = { id: 'b', code: 'y = 2\n', exec: { ...exec, id: 'b', status: 'exploded' } };
  await deps.blobs.put(keys.survivors('r', 'filter', 'g00000'), JSON.stringify(good) + '\n' + JSON.stringify(bad) + '\n');
  await assert.rejects(processShardMessage({ runId: 'r', stage: 'dedup', shard: 'g00000' }, deps, impl), (e: Error) => {
    assert.equal(e.name, 'RecordError');
    assert.match(e.message, /runs\/r\/filter\/g00000\.jsonl line 2: exec\.status/);
    return true;
  });
  // A line that is not JSON names the blob and line too.
  await deps.blobs.put(keys.survivors('r', 'filter', 'g00001'), JSON.stringify(good) + '\n{"id": \n');
  await assert.rejects(processShardMessage({ runId: 'r', stage: 'dedup', shard: 'g00001' }, deps, impl), /runs\/r\/filter\/g00001\.jsonl line 2 is not JSON/);
  // The good shard goes through (the check does not reject valid records), once its barrier has decided it.
  await deps.blobs.put(keys.survivors('r', 'filter', 'g00002'), JSON.stringify(good) + '\n');
  await prepareDedup([good as never], FilterConfigSchema.parse({}).dedup, deps.blobs, 'r', 'g00002');
  await deps.blobs.put(keys.dedupDecisions('r', 'g00002'), JSON.stringify([{ kind: 'kept' }]));
  assert.equal(await processShardMessage({ runId: 'r', stage: 'dedup', shard: 'g00002' }, deps, impl), 'done');
  assert.equal((await deps.blobs.get(keys.survivors('r', 'dedup', 'g00002')))!.toString(), JSON.stringify(good) + '\n');
});

test('a shard message naming no known stage, or missing a field, is refused before any work', async () => {
  const { deps, impl } = setup();
  await assert.rejects(processShardMessage({ runId: 'r', stage: 'dedupe', shard: 'g00000' }, deps, impl), /stage: stage must be one of ingest, unify/);
  await assert.rejects(processShardMessage({ runId: 'r', stage: 'dedup' } as never, deps, impl), /shard: /);
  assert.throws(() => parseShardMessage('{"runId": "r", "stage": "filter"}'), (e: Error) => e instanceof PoisonMessageError && /shard: /.test(e.message));
  assert.throws(() => parseShardMessage('{"runId": "r", "stage": "filter", "shard": "g1", "extra": 1}'), /unrecognized key/i);
  assert.deepEqual(parseShardMessage('{"runId": "r", "stage": "filter", "shard": "g00001"}'), { runId: 'r', stage: 'filter', shard: 'g00001' });
});

test('a checkpoint that does not fit its schema is an error naming the field', async () => {
  const { deps, impl } = setup();
  await deps.blobs.put(keys.config('r'), JSON.stringify(parseRunConfig({ llm: { default: { baseURL: 'http://127.0.0.1:9/v1', model: 'm' } } })));
  await deps.blobs.put(keys.survivors('r', 'filter', 'g00000'), JSON.stringify({ id: 'a', code: 'x = 1\n', exec }) + '\n');
  await deps.blobs.put(keys.checkpoint('r', 'dedup', 'g00000'), JSON.stringify({ done: 'one', out: { kept: [], rejected: [], failed: [], counters: {} } }));
  await assert.rejects(processShardMessage({ runId: 'r', stage: 'dedup', shard: 'g00000' }, deps, impl), /invalid checkpoint runs\/r\/checkpoint\/dedup\/g00000\.json: done:/);
});
