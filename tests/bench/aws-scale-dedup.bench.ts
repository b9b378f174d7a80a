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
 * Peak LIVE bytes of f above the start: every 250 ms the sampler forces a GC first, so garbage not
 * yet collected (decoded blobs) does not count. Run apart from the timed run (forced GCs distort time).
 */
async function peakLive(f: () => Promise<unknown>): Promise<number> {
  gc();
  const base = used();
  let peak = 0;
  const timer = setInterval(() => {
    gc();
    peak = Math.max(peak, used() - base);
  }, 250);
  await f();
  clearInterval(timer);
  return Math.max(peak, used() - base);
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
  // timed, one after another (each as one Lambda would run it), with the S3 requests metered
  const tasks: { ms: number; stats: Record<string, number> }[] = [];
  m0 = meter.snapshot();
  for (let p = 0; p < step.tasks; p++) {
    const t = performance.now();
    const r = await dedupTask(step, p, cfg, blobs);
    tasks.push({ ms: performance.now() - t, stats: r.stats });
  }
  const tFin = performance.now();
  const finStats = await dedupFinish(step, cfg, blobs);
  const finMs = performance.now() - tFin;
  // apply: one shard's reads (keys + decisions)
  const tApply = performance.now();
  await parallel(ids, 16, async (id) => {
    await blobs.get(keys.dedupClaimKeys(runId, id));
    await blobs.get(keys.dedupDecisions(runId, id));
  });
  const applyAllMs = performance.now() - tApply;
  m1 = meter.snapshot();
  const puts = m1.s3Put; // everything written: claims, parts, decisions
  const gets = m1.s3Get - m0.s3Get;
  // then each again for its peak live memory
  const peaks: number[] = [];
  for (let p = 0; p < step.tasks; p++) peaks.push(await peakLive(() => dedupTask(step, p, cfg, blobs)));
  const finPeak = await peakLive(() => dedupFinish(step, cfg, blobs));
  tasks.forEach((t, p) => console.log(`  task ${p}: ${(t.ms / 1000).toFixed(2)} s, peak live +${mb(peaks[p]!)} MiB (${(peaks[p]! / (RECORDS / step.tasks)).toFixed(0)} B per record of the partition), ${JSON.stringify(t.stats)}`));
  console.log(`  finish: ${(finMs / 1000).toFixed(2)} s, peak live +${mb(finPeak)} MiB, ${JSON.stringify(finStats)}`);
  console.log(`  prepare: ${(prepMs / 1000).toFixed(2)} s for all ${SHARDS} shards here (16 at a time); apply reads: ${(applyAllMs / 1000).toFixed(2)} s for all`);
  const longestTask = Math.max(...tasks.map((t) => t.ms));
  const floor = (prepMs / SHARDS) * 16 + longestTask + finMs + (applyAllMs / SHARDS) * 16;
  const s3PerRecordUsd = ((puts / 1000) * prices.s3.standardPutCopyPostListPer1000 + ((gets) / 1000) * prices.s3.standardGetPer1000) / RECORDS;
  console.log(`  S3: ${(puts / RECORDS).toFixed(3)} PUT + ${(gets / RECORDS).toFixed(3)} GET per record; $ per 1M records (S3 requests): ${(s3PerRecordUsd * 1e6).toFixed(3)}`);
  console.log(`  wall-time floor on AWS (a shard's prepare + the longest task + the finish + a shard's apply; shards in parallel): ${(floor / 1000).toFixed(2)} s`);
  console.log(`  peak live memory of one invocation: task ${mb(Math.max(...peaks))} MiB, finish ${mb(finPeak)} MiB`);

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
