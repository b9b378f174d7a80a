// The AWS deployment end to end, emulated on 127.0.0.1 (s3rver, dynalite, local-aws-sqs): the demo
// seeds and config are submitted exactly as `caco submit` does (cassette, config, then input into
// incoming/), the S3 notification starts ingest, and the real handlers run under a poller that
// behaves like Lambda's SQS event source. The dataset in S3 must equal what `caco run` makes locally
// from the same input and cassette, byte for byte (the dataset is assembled from the backtranslate
// shards in key order, and dedup's answers do not depend on arrival order, so nothing depends on timing).
// Then the same run under faults: every message delivered twice, crashes mid-shard, lost acks and
// poison messages; the dataset must not change and the poison must end in a DLQ with its reason.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { startAwsEmulators, queueDepth, type AwsEmulators } from '../helpers/aws-emulators.ts';
import { captureOutput, createEmulatedStack, driveStack, type EmulatedStack, type Faults } from '../helpers/emulated-stack.ts';
import { pullDataset, resolveTarget, submitRun } from '../../lib/aws/remote.ts';
import { DynamoStateStore } from '../../lib/aws/dynamo-state-store.ts';
import { filesUnder, readConfig, recordFiles, verdicts, type Row } from '../helpers/dataset.ts';
import { loadConfigFile, runLocal } from '../../lib/local/run-local.ts';
import { DEMO_CONFIG, DEMO_INPUT } from '../../lib/cli/demo.ts';

process.env.POWERTOOLS_METRICS_DISABLED = 'true';
process.env.POWERTOOLS_METRICS_NAMESPACE = 'CacoE2E';

let emu: AwsEmulators;
let local: { runId: string; data: Row[]; dir: string };
const stacks: EmulatedStack[] = [];

before(async () => {
  emu = await startAwsEmulators();
  const out = mkdtempSync(join(tmpdir(), 'caco-local-'));
  const r = await runLocal({ input: DEMO_INPUT, config: loadConfigFile(DEMO_CONFIG), configDir: dirname(DEMO_CONFIG), out, progress: 'quiet' });
  assert.equal(r.status, 'done', JSON.stringify(r.deadLetters));
  local = { runId: r.runId, data: await readConfig(r.datasetDir!, 'default'), dir: r.datasetDir! };
});
after(async () => {
  for (const s of stacks) await s.close();
  await emu?.stop();
});

const lines = (text: string) => text.split('\n').filter(Boolean);

/** The pulled folder holds the local run's files, its records byte for byte. */
function assertSameDataset(pulled: string, localDir: string): void {
  assert.deepEqual(filesUnder(pulled).filter((f) => !f.startsWith('report/')), filesUnder(localDir).filter((f) => !f.startsWith('report/')), 'the same files as the local run');
  for (const f of recordFiles(localDir)) assert.ok(readFileSync(join(pulled, f)).equals(readFileSync(join(localDir, f))), `${f} equals the local run's`);
}
/** The handlers' error log lines, for assertion messages. */
const failureLines = (output: string) => lines(output).filter((l) => /"level":"ERROR"|"message failed"/.test(l)).slice(0, 8).join('\n');

/** Submits the demo to a fresh emulated stack, drives it to the end, pulls the dataset (`caco pull`). */
async function emulatedRun(name: string, faults?: Faults, extra?: (s: EmulatedStack) => Promise<void>) {
  const stack = await createEmulatedStack(emu, name, {
    // Failed messages come back after the visibility timeout. It must exceed the longest
    // invocation (or a slow one is received again while running, which counts toward the DLQ):
    // 5 s on these 2 busy cores; the stack uses 6x the function timeout and 4 receives.
    visibilityTimeoutSeconds: faults ? 5 : 30,
    maxReceiveCount: 4,
    // Two containers for the functions where a duplicate can run concurrently with its original.
    instances: faults ? { generate: 2, filter: 2, backtranslate: 2, assemble: 2 } : {},
  });
  stacks.push(stack);
  const target = await resolveTarget({ bucket: stack.bucket, table: stack.table, clientOptions: emu.clientOptions });
  const { result, output } = await captureOutput(async () => {
    const submitted = await submitRun(target, DEMO_INPUT, DEMO_CONFIG);
    await extra?.(stack);
    // A bound on a hang, not a speed target: the faulty run takes ~30 s idle and 90+ s at load 20
    // (dedup's barrier adds two hops per branch).
    const drive = await driveStack(emu, stack, { faults, timeoutMs: 300_000 });
    return { submitted, drive };
  });
  const runId = result.submitted.runId;
  if (process.env.CACO_E2E_LOG) writeFileSync(join(process.env.CACO_E2E_LOG, `${name}.log`), output);
  const dir = join(mkdtempSync(join(tmpdir(), `caco-${name}-`)), 'pulled');
  await pullDataset(target, runId, dir);
  const state = new DynamoStateStore(emu.clients.doc, stack.table);
  return {
    stack,
    runId,
    drive: result.drive,
    output,
    run: await state.getRun(runId),
    data: await readConfig(dir, 'default'),
    dir,
    stats: existsSync(join(dir, 'stats.json')) ? JSON.parse(readFileSync(join(dir, 'stats.json'), 'utf8')) : null,
  };
}

test('emulated AWS run of the demo gives the local dataset, byte for byte', { timeout: 360_000 }, async () => {
  const r = await emulatedRun('clean');
  assert.equal(r.run?.status, 'done', failureLines(r.output));
  assert.equal(r.runId, local.runId, 'same run id as the local run (same input and config)');
  assert.equal(r.stats.conservation.ok, true, r.stats.conservation.problems?.join('\n'));
  assert.equal(r.drive.failedItems, 0, failureLines(r.output));
  const ids = r.data.map((d) => d.id);
  assert.ok(ids.length >= 20, `a real dataset, got ${ids.length} samples`);
  assert.equal(new Set(ids).size, ids.length, 'no duplicate sample id');
  assertSameDataset(r.dir, local.dir);
  assert.deepEqual(await verdicts(r.dir), await verdicts(local.dir), 'the same records rejected for the same reasons');
  // assemble wrote the report page next to the dataset, with the local run's records in the same
  // files (record chunks compared by ids: execution times differ between two runs; facet lists whole).
  assert.ok(existsSync(join(r.dir, 'report', 'index.html')), 'report/index.html is uploaded with the dataset');
  const reportIds = (dir: string) =>
    readdirSync(join(dir, 'report', 'data'))
      .sort()
      .map((f) => {
        const text = readFileSync(join(dir, 'report', 'data', f), 'utf8');
        return `${f}:${f.startsWith('g') ? (text.match(/"id":"[^"]*"/g) ?? []).join(',') : text}`;
      });
  assert.deepEqual(reportIds(r.dir), reportIds(local.dir));
  for (const fn of ['ingest', 'generate', 'execute', 'filter', 'backtranslate', 'assemble'] as const) {
    assert.ok(r.drive.invocations[fn] > 0, `${fn} ran`);
    assert.equal((await queueDepth(emu, r.stack.queues.dlqs[fn]!)).visible, 0, `${fn} DLQ is empty`);
  }
});

test('under duplicated deliveries, crashes mid-shard, lost acks and poison messages the dataset does not change', { timeout: 360_000 }, async () => {
  const poison = { filter: 'this is not a shard message', backtranslate: '{"runId": 42, "stage": "nope"}' };
  const r = await emulatedRun(
    'faults',
    {
      duplicateEveryMessage: true,
      crashes: [
        // unify shard: its output written, not yet recorded
        { message: /"stage":"unify","shard":"u00001"/, service: 'sqs', command: 'SendMessageCommand' },
        // execute: dies on writing its output. A seed shard: the demo's dice-simulation program (a
        // generate reply) passes the determinism rule when its two runs happen to agree (~0.5%
        // per execution), and re-executing it would add another chance.
        { message: /"stage":"execute","shard":"u00002"/, service: 's3', command: 'PutObjectCommand', input: /"Key":"runs\/[^"]+\/execute\/u00002/ },
        // filter (the first generate shard with rejections): kept records written, rejections not
        { message: /"stage":"filter","shard":"g/, service: 's3', command: 'PutObjectCommand', input: /rejected\/filter\/g/ },
        // dedup: a partition task dies writing its result; the finish dies after the decisions,
        // before the shards are sent; a shard dies after its output is written
        { message: /"stage":"dedup","shard":"g\.task0"/, service: 's3', command: 'PutObjectCommand', input: /dedup-index\/generate\/part-0/ },
        { message: /"stage":"dedup","shard":"g\.finish"/, service: 'sqs', command: 'SendMessageBatchCommand' },
        { message: /"stage":"dedup","shard":"g00002"/, service: 'sqs', command: 'SendMessageCommand' },
        // backtranslate: dies right after writing its output
        { message: /"stage":"backtranslate","shard":"g00000"/, service: 'dynamodb', command: 'PutCommand' },
        // assemble (a plan, a task per part, a finish): a task dies writing its part; the finish
        // after the parts, before stats.json
        { message: /"stage":"assemble","shard":"all\.[0-9a-f]+\.task1"/, service: 's3', command: 'PutObjectCommand', input: /"Key":"runs\/[^"]+\/dataset\/sft\/train-00000\.parquet/ },
        { message: /"stage":"assemble"/, service: 's3', command: 'PutObjectCommand', input: /stats\.json/ },
      ],
      // The finish's ack lost: redelivered after the run is done, it is skipped.
      lostAcks: [/"stage":"generate","shard":"g00003"/, /"stage":"dedup","shard":"u00002"/, /"stage":"assemble","shard":"all\.[0-9a-f]+\.finish"/],
    },
    async (stack) => {
      for (const [fn, body] of Object.entries(poison)) {
        await emu.clients.sqs.send(new SendMessageCommand({ QueueUrl: stack.queues.queues[fn]!, MessageBody: body }));
      }
    },
  );
  assert.equal(r.run?.status, 'done', failureLines(r.output));
  assert.equal(r.drive.crashesFired.length, 9, `every crash point fired: ${r.drive.crashesFired.map((c) => c.message).join(', ')}`);
  assert.ok(r.drive.duplicatesSent >= 40, `duplicates sent: ${r.drive.duplicatesSent}`);
  assert.equal(r.drive.lostAcks, 3);
  assert.equal(r.stats.conservation.ok, true, r.stats.conservation.problems?.join('\n'));
  const ids = r.data.map((d) => d.id);
  assert.equal(new Set(ids).size, ids.length, 'no duplicate sample id');
  assertSameDataset(r.dir, local.dir);

  // The poison messages, and only they, are in the DLQs, and the logs say why.
  for (const [fn, body] of Object.entries(poison)) {
    const dlq = r.stack.queues.dlqs[fn]!;
    const bodies: string[] = [];
    for (let i = 0; i < 3; i++) {
      const got = await emu.clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: dlq, MaxNumberOfMessages: 10, VisibilityTimeout: 60 }));
      bodies.push(...(got.Messages ?? []).map((m) => m.Body!));
    }
    // Two copies: the poison message was delivered twice too.
    assert.deepEqual(bodies, [body, body], `${fn} DLQ holds the poison message (both deliveries) only`);
  }
  for (const fn of ['ingest', 'generate', 'execute', 'assemble']) {
    assert.equal((await queueDepth(emu, r.stack.queues.dlqs[fn]!)).visible, 0, `${fn} DLQ is empty`);
  }
  assert.match(r.output, /"poison":true/);
  assert.match(r.output, /message body is not JSON: this is not a shard message/);
  assert.match(r.output, /not a shard message \{runId, stage, shard\}/);
  assert.match(r.output, /InjectedCrash|injected crash/);
});
