// The flow at 1,000 shards on the emulated AWS adapters (s3rver, dynalite): the real runner, the
// real dedup barrier and the real S3/DynamoDB ports; the other stages pass records through (no LLM,
// no sandbox), so the test is about the machinery: completion, no DynamoDB item over 40 KB, and a
// critical path that does not grow with the shard count. Messages are driven in rounds (every
// message sent while processing round r is in round r+1): the number of rounds is the longest
// causal chain, the wall-time floor in hops. The ordered dedup it replaced needed a round per shard.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { itemSizeEstimate } from '../helpers/item-size.ts';
import { createBucket, createTable, startAwsEmulators, type AwsEmulators } from '../helpers/aws-emulators.ts';
import { S3BlobStore } from '../../lib/aws/s3-blob-store.ts';
import { DynamoStateStore } from '../../lib/aws/dynamo-state-store.ts';
import { DedupConfigSchema } from '../../lib/codecot/filter-config.ts';
import type { PipelineDeps } from '../../lib/pipeline/deps.ts';
import { keys } from '../../lib/pipeline/keys.ts';
import { parseJsonl } from '../../lib/pipeline/lines.ts';
import { fanInMessage, generateShards, processShardMessage, type PipelineImpl, type StageImpl } from '../../lib/pipeline/runner.ts';
import { CACO } from '../../lib/pipeline/spec.ts';
import { shardIndex } from '../../lib/pipeline/flow.ts';
import { dedupFinish, dedupShard, dedupTask, prepareDedup } from '../../lib/stages/dedup.ts';
import type { ExecutedRecord } from '../../lib/schema.ts';
import type { ShardMessage, WorkQueue } from '../../lib/store/ports.ts';

let emu: AwsEmulators;
before(async () => {
  emu = await startAwsEmulators();
  await createBucket(emu, 'scale');
  await createTable(emu, 'scale');
});
after(async () => emu?.stop());

const SHARD_SIZE = 2;
/** Record i's program; every 10th is a renamed copy of record i-7 (an exact duplicate, often in another shard). */
function program(i: number): string {
  const n = i % 10 === 0 && i > 0 ? i - 7 : i;
  const v = i % 10 === 0 && i > 0 ? 'renamed' : 'value';
  return `def solve(a, b):\n    ${v} = a * ${n} + b\n    return ${v} - ${n % 7}\n\ninput = {"a": ${n}, "b": 3}\noutput = solve(**input)\nprint(output)\n`;
}

/** A queue that collects what each round sends. */
class RoundQueue implements WorkQueue {
  next: ShardMessage[] = [];
  async send(m: ShardMessage): Promise<void> {
    this.next.push(m);
  }
  async sendMany(ms: ShardMessage[]): Promise<void> {
    this.next.push(...ms);
  }
}

async function runAt(runId: string, shards: number): Promise<{ rounds: number; ms: number; dataset: number; dedupRejected: number }> {
  const cfg = DedupConfigSchema.parse({ partitions: 3 });
  const queue = new RoundQueue();
  const state = new DynamoStateStore(emu.clients.doc, 'scale');
  const deps: PipelineDeps = { blobs: new S3BlobStore(emu.clients.s3, 'scale'), state, queue, log: { info() {}, warn() {}, error() {} }, secrets: () => undefined };
  const pass: StageImpl = { run: async (records) => ({ kept: records, rejected: [], failed: [], counters: {} }) };
  let datasetRows = 0;
  const impl: PipelineImpl = {
    spec: CACO,
    stages: {
      unify: pass,
      execute: pass,
      filter: pass,
      backtranslate: pass,
      generate: {
        ...pass,
        async makeInput(ctx) {
          const base = shardIndex(ctx.shard) * SHARD_SIZE;
          return Array.from({ length: SHARD_SIZE }, (_, k) => ({ id: `p${base + k}`, code: program(base + k) }));
        },
      },
      dedup: {
        barrier: {
          prepare: (kept, ctx) => prepareDedup(kept as ExecutedRecord[], cfg, ctx.deps.blobs, ctx.runId, ctx.shard),
          tasks: async () => cfg.partitions!,
          task: async (step, p, d) => void (await dedupTask(step, p, cfg, d.blobs)),
          finish: async (step, d) => void (await dedupFinish(step, cfg, d.blobs)),
        },
        run: async (records, ctx) => dedupShard(records as ExecutedRecord[], cfg, { runId: ctx.runId, shard: ctx.shard, blobs: ctx.deps.blobs }),
      },
    },
    onBranchComplete: async (_branch, id) => [fanInMessage(id)],
    async assemble(id, d) {
      for (const k of await d.blobs.list(keys.samples(id))) datasetRows += parseJsonl((await d.blobs.get(k))!.toString('utf8')).length;
      await d.state.setRunStatus(id, 'done');
    },
  };
  await state.createRun({ runId, createdAt: 'now', status: 'running', input: 'mem', mode: 'synthesize', expected: { generate: shards } });
  queue.next = generateShards(runId, shards * SHARD_SIZE, SHARD_SIZE);
  const t0 = performance.now();
  let rounds = 0;
  while (queue.next.length > 0) {
    const current = queue.next;
    queue.next = [];
    rounds++;
    let i = 0;
    await Promise.all(
      Array.from({ length: 24 }, async () => {
        while (i < current.length) await processShardMessage(current[i++]!, deps, impl);
      }),
    );
  }
  const ms = performance.now() - t0;
  assert.equal((await state.getRun(runId))?.status, 'done', `run ${runId} finished`);
  const dedup = await state.listShards(runId, 'dedup');
  return { rounds, ms, dataset: datasetRows, dedupRejected: dedup.reduce((a, s) => a + (s.counts.rejected.duplicate ?? 0), 0) };
}

test('1,000 shards through the real runner, dedup barrier and AWS adapters: done, small items, rounds independent of the shard count', { timeout: 900_000 }, async () => {
  const small = await runAt('scale-small', 20);
  const big = await runAt('scale-big', 1000);
  // copies planted: records 10, 20, ... each duplicate an earlier record (i - 7)
  const copies = (n: number) => Math.floor((n - 1) / 10);
  assert.equal(small.dedupRejected, copies(20 * SHARD_SIZE));
  assert.equal(big.dedupRejected, copies(1000 * SHARD_SIZE));
  assert.equal(big.dataset, 1000 * SHARD_SIZE - copies(1000 * SHARD_SIZE));
  // The critical path: generate, execute, filter, barrier tasks, finish, dedup, backtranslate, assemble.
  assert.equal(big.rounds, small.rounds, `rounds at 20 shards ${small.rounds}, at 1,000 shards ${big.rounds}`);
  assert.ok(big.rounds <= 8, `rounds ${big.rounds}`);
  // No DynamoDB item over 40 KB (estimated: attribute names + values as JSON).
  let largest = 0;
  let start: Record<string, unknown> | undefined;
  let items = 0;
  do {
    const res = await emu.clients.doc.send(new ScanCommand({ TableName: 'scale', ExclusiveStartKey: start }));
    for (const item of res.Items ?? []) {
      items++;
      largest = Math.max(largest, itemSizeEstimate(item));
    }
    start = res.LastEvaluatedKey;
  } while (start);
  assert.ok(items > 5000, `items scanned: ${items}`);
  assert.ok(largest < 40 * 1024, `largest item ${largest} bytes`);
  console.log(`scale: 20 shards ${small.rounds} rounds ${(small.ms / 1000).toFixed(1)} s; 1,000 shards ${big.rounds} rounds ${(big.ms / 1000).toFixed(1)} s; ${items} items, largest ${largest} B`);
});
