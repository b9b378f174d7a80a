// The real Lambda handlers (Powertools batch processing) against the emulators, driven by a poller
// that behaves like Lambda's SQS event source: an S3 drop starts exactly one run, a re-drop and a
// duplicated delivery start nothing new, and a poison message ends in the DLQ with a logged reason.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import {
  createBucket,
  createStageQueues,
  createTable,
  forwardS3Events,
  pollOnce,
  queueDepth,
  startAwsEmulators,
  type AwsEmulators,
  type StageQueues,
} from '../helpers/aws-emulators.ts';
import { makeIngestHandler, makeShardHandler } from '../../lib/aws/handlers.ts';
import type { LambdaEnv } from '../../lib/aws/lambda-runtime.ts';
import { resolveTarget, submitRun } from '../../lib/aws/remote.ts';
import { DynamoStateStore } from '../../lib/aws/dynamo-state-store.ts';
import { CostLedger } from '../../lib/aws/cost-ledger.ts';

process.env.POWERTOOLS_METRICS_DISABLED = 'true';
process.env.POWERTOOLS_METRICS_NAMESPACE = 'CacoTest';

let emu: AwsEmulators;
let q: StageQueues;
let stopForwarding: () => void;
const BUCKET = 'caco-handlers';
const TABLE = 'caco-handlers-state';

before(async () => {
  emu = await startAwsEmulators();
  await createBucket(emu, BUCKET);
  await createTable(emu, TABLE);
  q = await createStageQueues(emu, ['ingest', 'generate', 'execute', 'assemble'], { maxReceiveCount: 2, visibilityTimeoutSeconds: 1 });
  stopForwarding = forwardS3Events(emu, q.queues.ingest!);
});
after(async () => {
  stopForwarding?.();
  await emu?.stop();
});

const env = (functionName: string): LambdaEnv => ({
  bucket: BUCKET,
  table: TABLE,
  queues: { unify: q.queues.generate, generate: q.queues.generate, execute: q.queues.execute, assemble: q.queues.assemble },
  functionName,
  memoryMb: 1024,
});

/** Captures what the handlers log (Powertools writes JSON lines to stdout/stderr). */
async function captureLogs<T>(fn: () => Promise<T>): Promise<{ result: T; logs: string }> {
  let logs = '';
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((chunk: string) => ((logs += chunk), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string) => ((logs += chunk), true)) as typeof process.stderr.write;
  try {
    return { result: await fn(), logs };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

async function pollUntil(url: string, handler: Parameters<typeof pollOnce>[2], want: number, timeoutMs = 5000): Promise<number> {
  let got = 0;
  const deadline = Date.now() + timeoutMs;
  while (got < want && Date.now() < deadline) {
    got += await pollOnce(emu, url, handler);
    if (got < want) await new Promise((r) => setTimeout(r, 100));
  }
  return got;
}

test('an S3 drop starts one run; a re-drop and a duplicated delivery start nothing new', async () => {
  const ingest = makeIngestHandler({ env: env('ingest'), clientOptions: emu.clientOptions, processEnv: {} });
  const dir = mkdtempSync(join(tmpdir(), 'drop-'));
  const input = join(dir, 'seeds.jsonl');
  const seeds = Array.from({ length: 5 }, (_, i) => JSON.stringify({ id: `s${i}`, question: `What is ${i} + ${i}?`, answer: `#### ${2 * i}` }));
  writeFileSync(input, seeds.join('\n') + '\nnot json\n');
  const config = join(dir, 'run.json');
  writeFileSync(config, JSON.stringify({ mode: 'unify', shardSize: 2, decontam: { enabled: false }, llm: { default: { baseURL: 'http://127.0.0.1:9/v1', model: 'm' } } }));
  const target = await resolveTarget({ bucket: BUCKET, table: TABLE, clientOptions: emu.clientOptions });
  const { runId, inputKey } = await submitRun(target, input, config);

  const { logs } = await captureLogs(() => pollUntil(q.queues.ingest!, ingest, 1));
  const state = new DynamoStateStore(emu.clients.doc, TABLE);
  const run = await state.getRun(runId);
  assert.ok(run, `run ${runId} created; logs: ${logs.slice(0, 500)}`);
  assert.equal(run.mode, 'unify');
  assert.deepEqual(run.expected, { unify: 3 });
  const shard = await state.getShard(runId, 'ingest', 'input');
  assert.equal(shard!.counts.in, 6);
  assert.equal(shard!.counts.kept, 5);
  assert.equal(Object.values(shard!.counts.rejected).reduce((a, b) => a + b, 0), 1, 'the bad line is quarantined, not lost');
  assert.equal((await queueDepth(emu, q.queues.generate!)).visible, 3, 'three unify shards queued');

  // the same object dropped again, and the same notification delivered twice
  await submitRun(target, input, config);
  await captureLogs(() => pollUntil(q.queues.ingest!, ingest, 1));
  const duplicate = { Records: [{ eventName: 'ObjectCreated:Put', s3: { bucket: { name: BUCKET }, object: { key: inputKey } } }] };
  await emu.clients.sqs.send(new SendMessageCommand({ QueueUrl: q.queues.ingest!, MessageBody: JSON.stringify(duplicate) }));
  await captureLogs(() => pollUntil(q.queues.ingest!, ingest, 1));
  assert.equal((await queueDepth(emu, q.queues.ingest!)).visible + (await queueDepth(emu, q.queues.ingest!)).inFlight, 0);
  assert.equal((await queueDepth(emu, q.queues.generate!)).visible, 3, 'no new shards after a re-drop or a duplicate');
  assert.equal((await state.listShards(runId, 'ingest')).length, 1);

  // the ingest function's AWS usage is booked to the run
  const usage = await new CostLedger(emu.clients.doc, TABLE).list(runId);
  const ing = usage.find((u) => u.function === 'ingest')!;
  assert.equal(ing.invocations, 3);
  assert.ok(ing.s3Get >= 2 && ing.s3Put >= 3 && ing.ddbWrite >= 3, JSON.stringify(ing));
  assert.equal(ing.sqsRequests, 1, `the three shard messages go out in one SendMessageBatch: ${JSON.stringify(ing)}`);
});

test('a poison message is reported as a batch item failure, retried, then dead-lettered with a logged reason', async () => {
  const shardHandler = makeShardHandler({ env: env('execute'), clientOptions: emu.clientOptions, processEnv: {} });
  await emu.clients.sqs.send(new SendMessageCommand({ QueueUrl: q.queues.execute!, MessageBody: '{"runId": 42, "stage": "nope"}' }));
  const seen: string[][] = [];
  const spy: Parameters<typeof pollOnce>[2] = async (event, _ctx) => {
    const out = await shardHandler(event, _ctx);
    seen.push((out?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
    return out;
  };
  const { logs } = await captureLogs(async () => {
    const deadline = Date.now() + 8000;
    while (Date.now() < deadline && (await queueDepth(emu, q.dlqs.execute!)).visible === 0) {
      if ((await pollOnce(emu, q.queues.execute!, spy)) === 0) await new Promise((r) => setTimeout(r, 200));
    }
  });
  assert.equal(seen.length, 2, 'received maxReceiveCount times');
  assert.ok(seen.every((f) => f.length === 1), 'each time reported as a failed item');
  assert.equal((await queueDepth(emu, q.dlqs.execute!)).visible, 1, 'in the DLQ');
  assert.equal((await queueDepth(emu, q.queues.execute!)).visible, 0);
  assert.match(logs, /"poison":true/);
  assert.match(logs, /not a shard message/);
});
