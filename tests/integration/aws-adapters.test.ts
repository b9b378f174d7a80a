// The AWS adapters against real emulators (s3rver, dynalite, local-aws-sqs) on 127.0.0.1.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import {
  createBucket,
  createStageQueues,
  createTable,
  startAwsEmulators,
  type AwsEmulators,
} from '../helpers/aws-emulators.ts';
import { S3BlobStore } from '../../lib/aws/s3-blob-store.ts';
import { SqsWorkQueue } from '../../lib/aws/sqs-work-queue.ts';
import { DynamoStateStore } from '../../lib/aws/dynamo-state-store.ts';
import type { RunState, ShardState } from '../../lib/store/ports.ts';

let emu: AwsEmulators;
before(async () => {
  emu = await startAwsEmulators();
  await createBucket(emu, 'caco-test');
  await createTable(emu, 'caco-state');
});
after(async () => emu?.stop());

test('S3BlobStore: put/get/list(paginated)/delete, missing key is null', async () => {
  const blobs = new S3BlobStore(emu.clients.s3, 'caco-test', 3);
  assert.equal(await blobs.get('runs/r1/config.json'), null);
  await blobs.put('runs/r1/config.json', '{"a":1}');
  assert.equal((await blobs.get('runs/r1/config.json'))!.toString(), '{"a":1}');
  const bin = Buffer.from([0, 1, 2, 255]);
  await blobs.put('runs/r1/bin.dat', bin);
  assert.deepEqual(await blobs.get('runs/r1/bin.dat'), bin);
  // several ListObjectsV2 pages (page size 3 here)
  const many = Array.from({ length: 10 }, (_, i) => `runs/r2/execute/${String(9 - i).padStart(5, '0')}.jsonl`);
  for (const k of many) await blobs.put(k, 'x');
  const listed = await blobs.list('runs/r2/');
  assert.equal(listed.length, 10);
  assert.deepEqual(listed, [...many].sort());
  assert.deepEqual(await blobs.list('runs/r1/'), ['runs/r1/bin.dat', 'runs/r1/config.json']);
  await blobs.put('runs/r1/config.json', 'overwritten');
  assert.equal((await blobs.get('runs/r1/config.json'))!.toString(), 'overwritten');
  // rejected records carry the tag the lifecycle rule expires them by; other objects do not
  const { GetObjectTaggingCommand } = await import('@aws-sdk/client-s3');
  await blobs.put('runs/r1/rejected/filter/g00001.jsonl', '{}\n');
  const tags = async (Key: string) =>
    (await emu.clients.s3.send(new GetObjectTaggingCommand({ Bucket: 'caco-test', Key }))).TagSet ?? [];
  assert.deepEqual(await tags('runs/r1/rejected/filter/g00001.jsonl'), [{ Key: 'caco-expire', Value: 'rejected' }]);
  assert.deepEqual(await tags('runs/r1/bin.dat'), []);
  await blobs.delete('runs/r1/config.json');
  assert.equal(await blobs.get('runs/r1/config.json'), null);
});

test('SqsWorkQueue: one queue per stage, body is the JSON ShardMessage', async () => {
  const { queues } = await createStageQueues(emu, ['q-execute', 'q-filter']);
  const q = new SqsWorkQueue(emu.clients.sqs, { execute: queues['q-execute'], filter: queues['q-filter'] });
  await q.send({ runId: 'r1', stage: 'filter', shard: '0007' });
  const got = await emu.clients.sqs.send(
    new ReceiveMessageCommand({ QueueUrl: queues['q-filter'], MaxNumberOfMessages: 10, AttributeNames: ['All'] }),
  );
  assert.equal(got.Messages?.length, 1);
  assert.deepEqual(JSON.parse(got.Messages![0].Body!), { runId: 'r1', stage: 'filter', shard: '0007' });
  const other = await emu.clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: queues['q-execute'], AttributeNames: ['All'] }));
  assert.equal(other.Messages?.length ?? 0, 0);
  await assert.rejects(q.send({ runId: 'r1', stage: 'assemble', shard: 'x' }), /no queue configured for stage "assemble"/);
});

const run = (runId: string): RunState => ({
  runId,
  createdAt: '2026-11-26T00:00:00Z',
  status: 'running',
  input: 'incoming/seeds.jsonl',
  mode: 'synthesize',
  expected: {},
});
const shard = (runId: string, name: string, kept = 3): ShardState => ({
  runId,
  stage: 'execute',
  shard: name,
  counts: { in: 5, kept, rejected: { timeout: 5 - kept }, failed: {}, counters: { ms: 12 } },
  next: [name],
});

test('DynamoStateStore: runs are created once, status and expectations update', async () => {
  const state = new DynamoStateStore(emu.clients.doc, 'caco-state');
  assert.equal(await state.createRun(run('s1')), true);
  assert.equal(await state.createRun({ ...run('s1'), input: 'other' }), false);
  assert.equal((await state.getRun('s1'))!.input, 'incoming/seeds.jsonl');
  await state.setExpected('s1', 'generate', 4);
  await state.setExpected('s1', 'generate', 4);
  await state.setExpected('s1', 'unify', 2);
  await state.setRunStatus('s1', 'done');
  assert.deepEqual(await state.getRun('s1'), { ...run('s1'), status: 'done', expected: { generate: 4, unify: 2 } });
  assert.equal(await state.getRun('nope'), null);
  await assert.rejects(state.setExpected('nope', 'x', 1), /unknown run "nope"/);
});

test('DynamoStateStore: the same shard recorded concurrently -> exactly one first, completion seen, counters not lists', async () => {
  const state = new DynamoStateStore(emu.clients.doc, 'caco-state');
  await state.createRun(run('s2'));
  const names = ['a', 'b', 'c', 'd', 'e'];
  // every shard recorded 4 times at once, with different counts: the first completion's counts win
  const calls = names.flatMap((n) => [0, 1, 2, 3].map((k) => state.recordShard(shard('s2', n, k), 5)));
  const results = await Promise.all(calls);
  for (let i = 0; i < names.length; i++) {
    const mine = results.slice(i * 4, i * 4 + 4);
    assert.equal(mine.filter((r) => r.first).length, 1, `shard ${names[i]}: one first`);
  }
  assert.ok(results.some((r) => r.complete), 'some call saw the stage complete');
  assert.deepEqual(await state.recordShard(shard('s2', 'a'), 5), { first: false, complete: true });
  assert.deepEqual(await state.recordShard(shard('s2', 'a'), 6), { first: false, complete: false });
  // The progress item holds counters only: the same few attributes at any run size.
  const progress = await state.progress('s2');
  assert.deepEqual(progress.map((p) => [p.stage, p.shards, p.in]), [['execute', 5, 25]]);
  const { GetCommand } = await import('@aws-sdk/lib-dynamodb');
  const { keys: tk } = await import('../../lib/aws/table.ts');
  const item = (await emu.clients.doc.send(new GetCommand({ TableName: 'caco-state', Key: tk.progress('s2', 'execute') }))).Item!;
  assert.deepEqual(Object.keys(item).sort(), ['attempts', 'doneCount', 'expiresAt', 'failedCount', 'inCount', 'keptCount', 'pk', 'rejectedCount', 'sk']);
  assert.equal(item.attempts, 22);
  const listed = await state.listShards('s2', 'execute');
  assert.deepEqual(listed.map((s) => s.shard).sort(), names);
  const a = await state.getShard('s2', 'execute', 'a');
  assert.equal(a!.counts.in, 5);
  assert.equal(a!.counts.kept + a!.counts.rejected.timeout!, 5);
  assert.equal(await state.getShard('s2', 'filter', 'a'), null);
  assert.deepEqual(await state.listShards('s2', 'filter'), []);
  assert.equal((await state.listShards('s2')).length, 5);
});

test('DynamoStateStore: a crash between the shard put and the count is repaired by the retry', async () => {
  const state = new DynamoStateStore(emu.clients.doc, 'caco-state');
  await state.createRun(run('s3'));
  // simulate attempt 1 dying after writing the shard item: write it directly
  const { PutCommand } = await import('@aws-sdk/lib-dynamodb');
  const { keys } = await import('../../lib/aws/table.ts');
  await emu.clients.doc.send(
    new PutCommand({ TableName: 'caco-state', Item: { ...keys.shard('s3', 'execute', 'x'), ...shard('s3', 'x') } }),
  );
  // the retry does not make the record, but its count completes the stage
  assert.deepEqual(await state.recordShard(shard('s3', 'x'), 1), { first: false, complete: true });
  assert.deepEqual(await state.recordShard(shard('s3', 'x'), 1), { first: false, complete: true });
  assert.deepEqual(await state.recordShard(shard('s3', 'y'), 3), { first: true, complete: false });
});
