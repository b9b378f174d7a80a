// Batch mode on the emulated AWS stack: the demo submitted as `caco submit` does, in batch mode
// against the fake server's Batch API, with every message delivered twice and two containers of
// each LLM function. Shards wait without a function running; the batch poller (the stack's
// every-minute schedule, here every 100 ms) resumes them. The dataset equals the local interactive
// run's with the same replies, no round ever gets a second batch and no answer is bought twice.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAwsEmulators, type AwsEmulators } from '../helpers/aws-emulators.ts';
import { captureOutput, createEmulatedStack, driveStack, type EmulatedStack } from '../helpers/emulated-stack.ts';
import { startFakeServer, type FakeServer } from '../helpers/fake-openai-server.ts';
import { formatCost, formatStatus, resolveTarget, runCostReport, runStatus, submitRun } from '../../lib/aws/remote.ts';
import { S3BlobStore } from '../../lib/aws/s3-blob-store.ts';
import { DynamoStateStore } from '../../lib/aws/dynamo-state-store.ts';
import { DynamoBatchStore } from '../../lib/aws/dynamo-batch-store.ts';
import { CostLedger } from '../../lib/aws/cost-ledger.ts';
import { materializeDataset } from '../../lib/local/materialize.ts';
import { partFiles } from '../../lib/pipeline/dataset-read.ts';
import { loadConfigFile, runLocal } from '../../lib/local/run-local.ts';
import { DEMO_CONFIG, DEMO_INPUT } from '../../lib/cli/demo.ts';
import { demoRule } from '../../examples/demo/responder.ts';

process.env.POWERTOOLS_METRICS_DISABLED = 'true';
process.env.POWERTOOLS_METRICS_NAMESPACE = 'CacoE2E';

let emu: AwsEmulators;
let server: FakeServer;
const stacks: EmulatedStack[] = [];
const work = mkdtempSync(join(tmpdir(), 'caco-aws-batch-'));

before(async () => {
  emu = await startAwsEmulators();
  const demo = loadConfigFile(DEMO_CONFIG) as Record<string, any>;
  server = await startFakeServer({ respond: demoRule({ seedBase: demo.llm.generate.seed }) });
});
after(async () => {
  for (const s of stacks) await s.close();
  await server?.close();
  await emu?.stop();
});

function configFile(batch: boolean): string {
  const c = loadConfigFile(DEMO_CONFIG) as Record<string, any>;
  c.llm.default.baseURL = server.baseURL;
  c.llm.cassette = { mode: 'live' };
  if (batch) c.llm.default.batch = true;
  const file = join(work, `run-${batch ? 'batch' : 'interactive'}.json`);
  writeFileSync(file, JSON.stringify(c));
  return file;
}

test('the demo in batch mode on the emulated stack: the interactive dataset, one batch per round, nothing bought twice', { timeout: 300_000 }, async () => {
  const local = await runLocal({ input: DEMO_INPUT, config: loadConfigFile(configFile(false)), out: join(work, 'local'), progress: 'quiet' });
  assert.equal(local.status, 'done', JSON.stringify(local.deadLetters));
  const servedInteractively = server.stats.served;

  const stack = await createEmulatedStack(emu, 'batch', { visibilityTimeoutSeconds: 5, maxReceiveCount: 4, instances: { generate: 2, backtranslate: 2 } });
  stacks.push(stack);
  const target = await resolveTarget({ bucket: stack.bucket, table: stack.table, clientOptions: emu.clientOptions });
  const { result, output } = await captureOutput(async () => {
    const submitted = await submitRun(target, DEMO_INPUT, configFile(true));
    const drive = await driveStack(emu, stack, { faults: { duplicateEveryMessage: true }, timeoutMs: 240_000, batchPollMs: 100 });
    return { submitted, drive };
  });
  const runId = result.submitted.runId;
  const run = await new DynamoStateStore(emu.clients.doc, stack.table).getRun(runId);
  const errors = output.split('\n').filter((l) => /"level":"ERROR"/.test(l)).slice(0, 5).join('\n');
  assert.equal(run?.status, 'done', errors);
  assert.equal(runId, local.runId);
  const dir = await materializeDataset(new S3BlobStore(emu.clients.s3, stack.bucket), runId, join(work, 'aws'));
  const samples = (d: string) => Buffer.concat(partFiles(d, 'default').map((f) => readFileSync(f)));
  assert.ok(samples(dir).length > 0, 'the pulled dataset has Parquet parts');
  assert.ok(samples(dir).equals(samples(local.datasetDir!)), 'the same samples, byte for byte');

  assert.equal(server.stats.served, servedInteractively, 'no interactive completion on AWS in batch mode');
  assert.ok([...server.stats.batchServedByKey.values()].every((n) => n === 1), 'no answer bought twice');
  const rounds = new Set<string>();
  for (const b of server.batches.values()) {
    const k = JSON.stringify(b.metadata);
    assert.ok(!rounds.has(k), `a second batch for ${k}`);
    rounds.add(k);
  }
  assert.ok(result.drive.duplicatesSent > 20, 'duplicates were delivered');
  assert.ok(result.drive.batchPolls > 0);
  // Every round is collected and the open-batch index is empty again.
  assert.deepEqual(await new DynamoBatchStore(emu.clients.doc, stack.table).listOpen(), []);
  // caco cost: the same tokens priced both ways, side by side; this run bought them in batch mode.
  const cost = await runCostReport(target, runId);
  assert.ok(cost.tokens && cost.tokens.length >= 3);
  for (const l of cost.tokens!) {
    assert.equal(l.mode, 'batch', l.role);
    assert.ok(l.interactiveUsd > 0 && Math.abs(l.batchUsd - l.interactiveUsd / 2) < 1e-12, l.role);
  }
  assert.match(formatCost(cost), /interactive vs batch/);
  assert.match(formatCost(cost), /batch mode \$/);
  // caco status lists a shard's open batch (one recorded here as a provider would leave it).
  const store = new DynamoBatchStore(emu.clients.doc, stack.table);
  const claimed = await store.claim({ runId, stage: 'backtranslate', shard: 'g00009', round: 1 }, 'test#1', Date.now(), 60_000);
  await store.transition({ ...claimed!, state: 'submitted', planned: 1, parts: [{ part: 0, batchId: 'batch_open', baseURL: server.baseURL, apiKeyEnv: 'K', requests: 10, status: 'in_progress', counts: { total: 10, completed: 4, failed: 1 }, createdAt: Math.floor(Date.now() / 1000) - 125 }] }, ['claimed']);
  assert.match(formatStatus((await runStatus(target, runId))!), /open batch backtranslate\/g00009 r1 batch_open: in_progress 4\/10 done, 1 failed, 2m0[5-9]s/);

  // What the LLM functions spent (the run's cost ledger): no invocation waited on a model.
  const ledger = await new CostLedger(emu.clients.doc, stack.table).list(runId);
  const gbs = (f: string) => ledger.filter((u) => u.function === f).reduce((n, u) => n + (u.durationMs / 1000) * (u.memoryMb / 1024), 0);
  const inv = (f: string) => ledger.filter((u) => u.function === f).reduce((n, u) => n + u.invocations, 0);
  console.log(
    `batch on the emulated stack: ${server.batches.size} batches, ${result.drive.batchPolls} polls; ` +
      ['generate', 'backtranslate'].map((f) => `${f} ${inv(f)} invocations ${gbs(f).toFixed(2)} GB-s`).join(', '),
  );
});
