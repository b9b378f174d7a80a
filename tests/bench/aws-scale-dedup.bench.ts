// bench:aws-scale-dedup — the run-wide dedup at many shards: the partitioned barrier (what the
// pipeline runs: lib/stages/dedup.ts) against the ordered chain it replaced, on the same planted
// corpus (tests/helpers/dedup-corpus.ts: exact copies, near copies, chains).
//
//   npx tsx tests/bench/aws-scale-dedup.bench.ts [--records 100000] [--shards 1000]
//       [--store s3|file] [--partitions auto] [--reference true]
//
// Prints, per phase, what one invocation costs (each task is run alone and timed, as one Lambda
// would run it; their peak live memory is sampled while they run: V8 heap + array buffers above
// the baseline, each sample after a forced GC), the S3 requests per record, and the wall-time floor on AWS: prepare and
// apply are per shard (parallel), the tasks run in parallel (the longest counts), the finish is
// one invocation. The ordered chain it is compared with: the SQLite reference index claiming the
// shards one after another (its compute, in this process), plus one SQS hop per shard measured on
// the emulator (send, receive, delete): a floor, a real Lambda hop (poller, cold starts) is longer.
// The answers of both are compared record by record.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import v8 from 'node:v8';
import vm from 'node:vm';
import { CreateQueueCommand, DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { S3BlobStore } from '../../lib/aws/s3-blob-store.ts';
import { RequestMeter } from '../../lib/aws/request-meter.ts';
import { makeClients } from '../../lib/aws/clients.ts';
import { loadPrices } from '../../lib/aws/cost.ts';
import { DedupConfigSchema } from '../../lib/codecot/filter-config.ts';
import { encodeData, encodeKeys } from '../../lib/dedup/claim-blobs.ts';
import { bandKeys } from '../../lib/dedup/minhash.ts';
import { shardId } from '../../lib/pipeline/flow.ts';
import { keys } from '../../lib/pipeline/keys.ts';
import type { BarrierStep } from '../../lib/pipeline/runner.ts';
import { CACO } from '../../lib/pipeline/spec.ts';
import { dedupFinish, dedupTask, partitionsFor } from '../../lib/stages/dedup.ts';
import { FileBlobStore } from '../../lib/store/file-blob-store.ts';
import type { BlobStore, DedupDecision } from '../../lib/store/ports.ts';
import { SqliteDedupIndex } from '../../lib/store/sqlite-dedup-index.ts';
import { createBucket, startAwsEmulators } from '../helpers/aws-emulators.ts';
import { plantedCorpus } from '../helpers/dedup-corpus.ts';

const { values: args } = parseArgs({
  options: {
    records: { type: 'string', default: '100000' },
    shards: { type: 'string', default: '1000' },
    store: { type: 'string', default: 's3' },
    partitions: { type: 'string', default: 'auto' },
    reference: { type: 'string', default: 'true' },
  },
});
const RECORDS = Number(args.records);
const SHARDS = Number(args.shards);
const shardSize = Math.ceil(RECORDS / SHARDS);

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
const mb = (b: number) => (b / 2 ** 20).toFixed(1);
const used = () => {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};

/**
 * Runs f alone; returns its result, ms and its peak LIVE bytes above the start: every 100 ms the
 * sampler forces a GC first, so garbage not yet collected (decoded blobs) does not count.
 */
async function measured<T>(f: () => Promise<T>): Promise<{ value: T; ms: number; peak: number }> {
  gc();
  const base = used();
  let peak = 0;
  const timer = setInterval(() => {
    gc();
    peak = Math.max(peak, used() - base);
  }, 100);
  const t0 = performance.now();
  const value = await f();
  const ms = performance.now() - t0;
  clearInterval(timer);
  peak = Math.max(peak, used() - base);
  return { value, ms, peak };
}

async function parallel<T>(items: T[], limit: number, f: (x: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await f(items[next++]!);
  }));
}

const emu = await startAwsEmulators();
const work = mkdtempSync(join(tmpdir(), 'bench-scale-dedup-'));
try {
  const cfg = DedupConfigSchema.parse(args.partitions === 'auto' ? {} : { partitions: Number(args.partitions) });
  const prices = loadPrices();
  const clients = makeClients(emu.clientOptions);
  const meter = new RequestMeter().attach(clients);
  await createBucket(emu, 'bench');
  const blobs: BlobStore = args.store === 's3' ? new S3BlobStore(clients.s3, 'bench') : new FileBlobStore(join(work, 'blobs'));

  console.log(`corpus: ${RECORDS.toLocaleString('en-US')} records in ${SHARDS} shards of ${shardSize} (planted exact copies, near copies, chains); store ${args.store}`);
  const t0 = performance.now();
  const shards = plantedCorpus({ records: RECORDS, shardSize, seed: 42, exact: 0.1, near: 0.1, chain: 0.1 });
  console.log(`  claims computed in ${((performance.now() - t0) / 1000).toFixed(1)} s (done by filter's host per shard in the pipeline)`);
  const ids = shards.map((_, i) => shardId(CACO, 'generate', i));
  const runId = 'bench';

  // prepare: what filter's host writes per shard
  let m0 = meter.snapshot();
  const tPrep = performance.now();
  await parallel([...shards.keys()], 16, async (i) => {
    const list = shards[i]!.map((claim) => ({ claim, bands: bandKeys(claim.signature!, cfg.bands) }));
    await blobs.put(keys.dedupClaimData(runId, ids[i]!), encodeData(list));
    await blobs.put(keys.dedupClaimKeys(runId, ids[i]!), encodeKeys(list));
  });
  const prepMs = performance.now() - tPrep;
  let m1 = meter.snapshot();

  const step: BarrierStep = { runId, branch: 'generate', shards: ids, tasks: partitionsFor(cfg, RECORDS) };
  console.log(`\npartitioned dedup: ${step.tasks} partition task(s)`);
  const tasks: { ms: number; peak: number; stats: Record<string, number> }[] = [];
  m0 = meter.snapshot();
  for (let p = 0; p < step.tasks; p++) {
    const r = await measured(() => dedupTask(step, p, cfg, blobs));
    tasks.push({ ms: r.ms, peak: r.peak, stats: r.value.stats });
    console.log(`  task ${p}: ${(r.ms / 1000).toFixed(2)} s, peak +${mb(r.peak)} MiB, ${JSON.stringify(r.value.stats)}`);
  }
  m1 = meter.snapshot();
  const taskGet = m1.s3Get - m0.s3Get;
  const fin = await measured(() => dedupFinish(step, cfg, blobs));
  console.log(`  finish: ${(fin.ms / 1000).toFixed(2)} s, peak +${mb(fin.peak)} MiB, ${JSON.stringify(fin.value)}`);
  // apply: one shard's reads (keys + decisions), timed over a sample
  const sample = ids.slice(0, Math.min(50, ids.length));
  const tApply = performance.now();
  for (const id of sample) {
    await blobs.get(keys.dedupClaimKeys(runId, id));
    await blobs.get(keys.dedupDecisions(runId, id));
  }
  const applyMs = (performance.now() - tApply) / sample.length;
  const m2 = meter.snapshot();
  const totalPut = m2.s3Put;
  const longestTask = Math.max(...tasks.map((t) => t.ms));
  const floor = prepMs / SHARDS + longestTask + fin.ms + applyMs;
  const s3PerRecordUsd = ((totalPut / 1000) * prices.s3.standardPutCopyPostListPer1000 + (m2.s3Get / 1000) * prices.s3.standardGetPer1000) / RECORDS;
  console.log(`  S3: ${(totalPut / RECORDS).toFixed(3)} PUT + ${(m2.s3Get / RECORDS).toFixed(3)} GET per record (${taskGet} GET by the tasks: each reads every keys blob once, data only where it has candidates)`);
  console.log(`  $ per 1M records (S3 requests): ${(s3PerRecordUsd * 1e6).toFixed(3)}`);
  console.log(`  wall-time floor on AWS (one shard's prepare + longest task + finish + one shard's apply): ${(floor / 1000).toFixed(2)} s`);
  console.log(`  peak memory of one invocation: task ${mb(Math.max(...tasks.map((t) => t.peak)))} MiB, finish ${mb(fin.peak)} MiB`);

  if (args.reference === 'true') {
    // the ordered chain: SQLite reference, one shard after another, plus a measured SQS hop per shard
    const q = await clients.sqs.send(new CreateQueueCommand({ QueueName: 'hop' }));
    const hops: number[] = [];
    for (let i = 0; i < 30; i++) {
      const h0 = performance.now();
      await clients.sqs.send(new SendMessageCommand({ QueueUrl: q.QueueUrl!, MessageBody: '{}' }));
      const got = await clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: q.QueueUrl!, MaxNumberOfMessages: 1, WaitTimeSeconds: 1 }));
      await clients.sqs.send(new DeleteMessageCommand({ QueueUrl: q.QueueUrl!, ReceiptHandle: got.Messages![0]!.ReceiptHandle! }));
      hops.push(performance.now() - h0);
    }
    hops.sort((a, b) => a - b);
    const hop = hops[Math.floor(hops.length / 2)]!;
    const ix = new SqliteDedupIndex(join(work, 'ref.sqlite'), { threshold: cfg.threshold, bands: cfg.bands });
    const tRef = performance.now();
    const want: DedupDecision[][] = shards.map((s) => ix.claimSync('ref', s));
    const refMs = performance.now() - tRef;
    ix.close();
    let diff = 0;
    for (let i = 0; i < shards.length; i++) {
      const got = JSON.parse((await blobs.get(keys.dedupDecisions(runId, ids[i]!)))!.toString('utf8')) as DedupDecision[];
      if (JSON.stringify(got) !== JSON.stringify(want[i])) diff++;
    }
    const chain = refMs + SHARDS * hop;
    console.log(`\nordered chain: ${(refMs / 1000).toFixed(2)} s of claims in shard order + ${SHARDS} hops x ${hop.toFixed(1)} ms (median SQS send+receive+delete here) = ${(chain / 1000).toFixed(2)} s floor`);
    console.log(`  shards whose decisions differ from the ordered algorithm: ${diff} of ${SHARDS}`);
    console.log(`\nwall-time floor, partitioned / chain: ${(floor / 1000).toFixed(2)} s / ${(chain / 1000).toFixed(2)} s = ${(floor / chain).toFixed(3)}`);
    if (diff > 0) process.exitCode = 1;
  }
  for (const c of Object.values(clients)) (c as { destroy(): void }).destroy();
} finally {
  await emu.stop();
  rmSync(work, { recursive: true, force: true });
}
