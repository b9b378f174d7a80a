// The AWS side of the CLI (submit, status, pull, cost) against the emulators.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBucket, createTable, startAwsEmulators, type AwsEmulators } from '../helpers/aws-emulators.ts';
import { formatCost, formatStatus, pullDataset, resolveTarget, runCostReport, runStatus, submitRun, type RemoteTarget } from '../../lib/aws/remote.ts';
import { S3BlobStore } from '../../lib/aws/s3-blob-store.ts';
import { DynamoStateStore } from '../../lib/aws/dynamo-state-store.ts';
import { CostLedger } from '../../lib/aws/cost-ledger.ts';
import { parseRunConfig } from '../../lib/config.ts';
import { runIdFor } from '../../lib/hosts/run-id.ts';

let emu: AwsEmulators;
let t: RemoteTarget;
before(async () => {
  emu = await startAwsEmulators();
  await createBucket(emu, 'caco-cli');
  await createTable(emu, 'caco-cli-state');
  t = await resolveTarget({ bucket: 'caco-cli', table: 'caco-cli-state', clientOptions: emu.clientOptions });
});
after(async () => emu?.stop());

test('resolveTarget needs a stack or a bucket and a table', async () => {
  await assert.rejects(resolveTarget({ bucket: 'b' }), /--stack NAME, or --bucket and --table/);
});

test('submit uploads the config before the input and predicts the run id ingest computes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'submit-'));
  const input = join(dir, 'seeds.jsonl');
  writeFileSync(input, '{"id":"s1","question":"1+1?","answer":"2"}\n');
  const config = join(dir, 'run.json');
  const cfg = { mode: 'unify', shardSize: 10, llm: { default: { baseURL: 'http://127.0.0.1:9/v1', model: 'm' } } };
  writeFileSync(config, JSON.stringify(cfg));
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, JSON.stringify({ mode: 'unify' }));
  await assert.rejects(submitRun(t, input, bad), /baseURL/, 'an invalid config is refused before any upload');
  const created: string[] = [];
  const onEvent = (e: { Records: Array<{ eventName: string; s3: { object: { key: string } } }> }) =>
    created.push(...e.Records.filter((r) => r.eventName.startsWith('ObjectCreated')).map((r) => r.s3.object.key));
  emu.s3rver.on('event', onEvent);
  const s = await submitRun(t, input, config);
  await new Promise((r) => setTimeout(r, 200));
  emu.s3rver.off('event', onEvent);
  assert.match(s.inputKey, /^incoming\/seeds-[0-9a-f]{8}\.jsonl$/);
  assert.equal(s.configKey, s.inputKey.replace(/\.jsonl$/, '.config.json'));
  assert.deepEqual(created, [s.configKey, s.inputKey], 'config first, then the input that triggers ingest');
  const blobs = new S3BlobStore(t.clients.s3, 'caco-cli');
  assert.deepEqual(JSON.parse((await blobs.get(s.configKey))!.toString()), cfg);
  const expected = await runIdFor((async function* () { yield readFileSync(input); })(), parseRunConfig(cfg));
  assert.equal(s.runId, expected);
  const again = await submitRun(t, input, config);
  assert.equal(again.runId, s.runId, 'same input and config: same run');
});

test('status sums shard counts per stage; pull downloads the dataset; cost prices the ledger', async () => {
  const state = new DynamoStateStore(t.clients.doc, 'caco-cli-state');
  await state.createRun({ runId: 'r1', createdAt: 'now', status: 'running', input: 's3://x', mode: 'synthesize', expected: { generate: 2 } });
  const counts = (n: number, kept: number) => ({
    in: n,
    kept,
    rejected: { no_output: n - kept },
    failed: {},
    counters: { 'llm|generate|m1|requests': n, 'llm|generate|m1|prompt_tokens': 100 * n, 'llm|generate|m1|cost_usd': 0.01 * n },
  });
  await state.recordShard({ runId: 'r1', stage: 'generate', shard: 'g00000', counts: counts(10, 8), next: [] });
  await state.recordShard({ runId: 'r1', stage: 'generate', shard: 'g00001', counts: counts(5, 5), next: [] });
  const p = (await runStatus(t, 'r1'))!;
  assert.deepEqual(p.stages, [{ stage: 'generate', shards: 2, in: 15, kept: 13, rejected: 2, failed: 0 }]);
  assert.match(formatStatus(p), /generate: 2 shards/);
  assert.equal(await runStatus(t, 'nope'), null);

  const blobs = new S3BlobStore(t.clients.s3, 'caco-cli');
  await assert.rejects(pullDataset(t, 'r1', mkdtempSync(join(tmpdir(), 'pull-'))), /no dataset yet/);
  await blobs.put('runs/r1/dataset/stats.json', '{"runId":"r1"}\n');
  await blobs.put('runs/r1/dataset/sft/train-00000.parquet', 'PAR1...');
  const out = mkdtempSync(join(tmpdir(), 'pull-'));
  const files = await pullDataset(t, 'r1', out);
  assert.equal(files.length, 2);
  assert.equal(readFileSync(join(out, 'sft/train-00000.parquet'), 'utf8'), 'PAR1...');
  // Pulling again replaces the earlier copy of this run (no stale part survives); a folder holding
  // anything else is refused, not overwritten.
  writeFileSync(join(out, 'sft', 'train-00001.parquet'), 'stale');
  await pullDataset(t, 'r1', out);
  assert.ok(!existsSync(join(out, 'sft', 'train-00001.parquet')));
  const other = mkdtempSync(join(tmpdir(), 'pull-'));
  writeFileSync(join(other, 'notes.txt'), 'mine');
  await assert.rejects(pullDataset(t, 'r1', other), /refusing to write the dataset of run r1 into .*not empty/);
  assert.equal(readFileSync(join(other, 'notes.txt'), 'utf8'), 'mine');

  const ledger = new CostLedger(t.clients.doc, 'caco-cli-state');
  const use = { function: 'generate', invocations: 2, durationMs: 3000, memoryMb: 512, s3Put: 4, s3Get: 6, sqsRequests: 2, ddbWrite: 10, ddbRead: 5 };
  await ledger.add('r1', use);
  await ledger.add('r1', use); // a retried invocation is paid for again
  const c = await runCostReport(t, 'r1');
  assert.equal(c.aws.lines.length, 1);
  assert.equal(c.aws.lines[0]!.gbSeconds, 3); // 6 s at 0.5 GB
  assert.equal(c.candidates, 15);
  assert.equal(c.llm.length, 1);
  assert.deepEqual({ ...c.llm[0], costUsd: Math.round(c.llm[0]!.costUsd * 1e6) / 1e6 }, { role: 'generate', model: 'm1', requests: 15, promptTokens: 1500, completionTokens: 0, costUsd: 0.15 });
  assert.ok(c.scaled && c.scaled.perTarget > c.aws.total);
  assert.match(formatCost(c), /per 1,000,000 candidate programs/);
});
