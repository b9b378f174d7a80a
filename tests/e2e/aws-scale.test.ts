// The emulated AWS stack at 1,000 shards per stage (issue 15): the real handlers (lib/aws/handlers.ts)
// on s3rver, dynalite and local-aws-sqs, the real stages (generate, execute in the real sandbox,
// filter, the dedup barrier, backtranslate with the answer check, assemble), the fake LLM server
// over HTTP (the bench's rule: varied programs, planted copies, crashes, leaks and wrong answers),
// shards of 2 candidates. The same run at a small shard count is the baseline, measured in the same
// process. Asserted: both runs finish and every candidate ends somewhere (each stage reads what the
// previous one kept), no DynamoDB item over 40 KB, and a critical path that does not grow with the
// shard count the way the old dedup chain did.
//
// Wall time on this machine is bounded by its CPUs (every invocation of every stage runs on the
// same 2 cores), so it grows with the work for any design and is printed, not asserted. What Lambda
// makes of the run is its critical path: the longest chain of invocations each waiting for the
// previous one, from each invocation's measured duration: ingest, then the slowest shard through
// generate, execute and filter, the slowest barrier task, the finish, the slowest shard through
// dedup and backtranslate, assemble. The chain it replaced ran dedup shard k after shard k-1, so its
// critical path held at least the sum of the dedup invocations.
//
// A second test drives the flow alone at 1,000 shards (the runner, the barrier and the S3/DynamoDB
// adapters; the other stages pass records through, no SQS): what the full stack costs per shard on
// 2 cores (below) puts 1,000 shards of the full stack past CI's budget, so the full stack runs at
// CACO_SCALE_SHARDS (default 250) and the flow at 1,000.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { itemSizeEstimate } from '../helpers/item-size.ts';
import { startAwsEmulators, type AwsEmulators } from '../helpers/aws-emulators.ts';
import { createEmulatedStack, submitAndDrive } from '../helpers/emulated-stack.ts';
import { startFakeServer, type FakeServer } from '../helpers/fake-openai-server.ts';
import { benchRule, exampleRecords } from '../bench/pipeline-fixtures/synth-rule.ts';
import { keys } from '../../lib/pipeline/keys.ts';
import { S3BlobStore } from '../../lib/aws/s3-blob-store.ts';
import { createBucket, createTable } from '../helpers/aws-emulators.ts';
import { DynamoStateStore } from '../../lib/aws/dynamo-state-store.ts';
import { DedupConfigSchema } from '../../lib/codecot/filter-config.ts';
import type { PipelineDeps } from '../../lib/pipeline/deps.ts';
import { parseJsonl } from '../../lib/pipeline/lines.ts';
import { fanInMessage, generateShards, processShardMessage, type PipelineImpl, type StageImpl } from '../../lib/pipeline/runner.ts';
import { CACO } from '../../lib/pipeline/spec.ts';
import { shardIndex } from '../../lib/pipeline/flow.ts';
import { dedupFinish, dedupShard, dedupTask, prepareDedup } from '../../lib/stages/dedup.ts';
import type { ExecutedRecord } from '../../lib/schema.ts';
import type { ShardMessage, WorkQueue } from '../../lib/store/ports.ts';

process.env.POWERTOOLS_METRICS_DISABLED = 'true';
process.env.POWERTOOLS_METRICS_NAMESPACE = 'CacoE2E';
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';

const SHARD_SIZE = 2;
const SMALL = Number(process.env.CACO_SCALE_SMALL ?? 25);
const BIG = Number(process.env.CACO_SCALE_SHARDS ?? 250);
const SEED_BASE = 1000;
const STAGES = ['generate', 'execute', 'filter', 'dedup', 'backtranslate'] as const;

let emu: AwsEmulators;
let server: FakeServer;
let dir: string;
before(async () => {
  emu = await startAwsEmulators();
  server = await startFakeServer({ respond: benchRule({ seedBase: SEED_BASE }) });
  dir = mkdtempSync(join(tmpdir(), 'caco-aws-scale-'));
  await createBucket(emu, 'flow');
  await createTable(emu, 'flow');
});
after(async () => {
  await server?.close();
  await emu?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Figures {
  shards: number;
  wallMs: number;
  invocations: number;
  /** Longest chain of invocations that wait on each other (see the header). */
  criticalMs: number;
  /** The old chain's floor: the dedup shard invocations one after another. */
  dedupSumMs: number;
  /** The critical path with that chain in place of the barrier (tasks, finish, the slowest dedup + backtranslate shard). */
  chainMs: number;
  perStage: Record<string, { shards: number; in: number; kept: number; out: number }>;
  largestItem: number;
  items: number;
}

async function scaleRun(name: string, shards: number): Promise<Figures> {
  const input = join(dir, `${name}.jsonl`);
  writeFileSync(input, exampleRecords().map((r) => JSON.stringify(r)).join('\n') + '\n');
  const configFile = join(dir, `${name}.json`);
  writeFileSync(
    configFile,
    JSON.stringify({
      mode: 'synthesize',
      seed: 0,
      shardSize: SHARD_SIZE,
      generate: { mode: 'fewshot', samples: shards * SHARD_SIZE, k: 2 },
      backtranslate: { variants: 1, judge: false },
      llm: {
        default: { baseURL: server.baseURL, model: 'bench/coder', concurrency: 8 },
        generate: { seed: SEED_BASE },
        reverse: { model: 'bench/writer' },
        solve: { model: 'bench/solver' },
        cassette: { mode: 'live' },
      },
    }),
  );
  // Several containers for the I/O-bound functions (each is one warm Lambda container); one for
  // execute, whose sandbox pool already runs its programs in parallel workers.
  const stack = await createEmulatedStack(emu, name, { visibilityTimeoutSeconds: 300, instances: { generate: 3, filter: 3, backtranslate: 3 } });
  const spent = new Map<string, number>(); // `${stage}/${shard}` -> ms of its invocations
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const { runId, drive, state } = await submitAndDrive(emu, stack, input, configFile, 1_500_000, (fn, bodies, start, end) => {
    for (const b of bodies) {
      const m = JSON.parse(b) as { stage?: string; shard?: string };
      const k = m.stage ? `${m.stage}/${m.shard}` : `${fn}/input`;
      spent.set(k, (spent.get(k) ?? 0) + (end - start));
    }
  });
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const cpuS = (cpu.user + cpu.system) / 1e6; // this process: the handlers, dynalite, the SQS emulator, the fake LLM (not s3rver, a child)

  const perStage: Figures['perStage'] = {};
  for (const st of STAGES) {
    const list = await state.listShards(runId, st);
    const out = (s: (typeof list)[number]) => s.counts.kept + Object.values(s.counts.rejected).reduce((a, b) => a + b, 0) + Object.values(s.counts.failed).reduce((a, b) => a + b, 0);
    perStage[st] = {
      shards: list.length,
      in: list.reduce((a, s) => a + s.counts.in, 0),
      kept: list.reduce((a, s) => a + s.counts.kept, 0),
      out: list.reduce((a, s) => a + out(s), 0),
    };
  }
  assert.ok(await new S3BlobStore(emu.clients.s3, stack.bucket).get(keys.dataset(runId, 'stats.json')), 'the dataset is assembled');

  // Critical path from the measured invocations.
  const ms = (k: string) => spent.get(k) ?? 0;
  const ids = (st: string) => [...spent.keys()].filter((k) => k.startsWith(`${st}/`)).map((k) => k.slice(st.length + 1));
  const front = Math.max(...ids('generate').map((s) => ms(`generate/${s}`) + ms(`execute/${s}`) + ms(`filter/${s}`)));
  const tasks = Math.max(...ids('dedup').filter((s) => s.includes('.task')).map((s) => ms(`dedup/${s}`)));
  const dedupShards = ids('dedup').filter((s) => !s.includes('.'));
  const back = Math.max(...dedupShards.map((s) => ms(`dedup/${s}`) + ms(`backtranslate/${s}`)));
  const ingest = [...spent].filter(([k]) => k.startsWith('ingest/')).reduce((a, [, v]) => a + v, 0);
  const criticalMs = ingest + front + tasks + ms('dedup/g.finish') + back + ms('assemble/all');
  const dedupSumMs = dedupShards.reduce((a, s) => a + ms(`dedup/${s}`), 0);
  const lastBacktranslate = ms(`backtranslate/${dedupShards.sort().at(-1)}`);
  const chainMs = criticalMs - tasks - ms('dedup/g.finish') - back + dedupSumMs + lastBacktranslate;

  let largestItem = 0;
  let items = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const res = await emu.clients.doc.send(new ScanCommand({ TableName: stack.table, ExclusiveStartKey: start }));
    for (const item of res.Items ?? []) {
      items++;
      largestItem = Math.max(largestItem, itemSizeEstimate(item));
    }
    start = res.LastEvaluatedKey;
  } while (start);

  const f: Figures = { shards, wallMs, invocations: Object.values(drive.invocations).reduce((a, b) => a + b, 0), criticalMs, dedupSumMs, chainMs, perStage, largestItem, items };
  console.log(
    `${name}: ${shards} shards of ${SHARD_SIZE}: wall ${(wallMs / 1000).toFixed(1)} s, CPU ${cpuS.toFixed(1)} s (${((cpuS * 1000) / f.invocations).toFixed(0)} ms an invocation), ${f.invocations} invocations, critical path ${(criticalMs / 1000).toFixed(1)} s ` +
      `(ingest ${(ingest / 1000).toFixed(1)}, generate+execute+filter ${(front / 1000).toFixed(1)}, task ${(tasks / 1000).toFixed(1)}, finish ${(ms('dedup/g.finish') / 1000).toFixed(1)}, ` +
      `dedup+backtranslate ${(back / 1000).toFixed(1)}, assemble ${(ms('assemble/all') / 1000).toFixed(1)}), dedup shards summed ${(dedupSumMs / 1000).toFixed(1)} s, so the chain's critical path ${(chainMs / 1000).toFixed(1)} s; ` +
      `invocation time by function ${JSON.stringify(Object.fromEntries(STAGES.map((st) => [st, Math.round([...spent].filter(([k]) => k.startsWith(`${st}/`)).reduce((x, [, v]) => x + v, 0) / 1000)])))} s; ` +
      `${items} items, largest ${largestItem} B; ${Object.entries(perStage).map(([s, v]) => `${s} ${v.in}>${v.kept}`).join(' ')}; load ${loadavg().map((x) => x.toFixed(1)).join(' ')}`,
  );
  // Every candidate ends somewhere: each stage's shards all recorded, each reads what the previous kept.
  for (const st of STAGES) assert.equal(perStage[st]!.shards, shards, `${st}: every shard recorded`);
  assert.equal(perStage.generate!.in, shards * SHARD_SIZE);
  for (const st of STAGES) assert.equal(perStage[st]!.out, perStage[st]!.in, `${st}: kept + rejected + failed = in`);
  for (let i = 1; i < STAGES.length; i++) assert.equal(perStage[STAGES[i]!]!.in, perStage[STAGES[i - 1]!]!.kept, `${STAGES[i]} reads what ${STAGES[i - 1]} kept`);
  assert.ok(perStage.dedup!.kept < perStage.dedup!.in, 'the planted copies are rejected');
  assert.ok(perStage.backtranslate!.kept > 0);
  assert.ok(largestItem <= 40 * 1024, `largest DynamoDB item ${largestItem} B`);
  assert.ok(items > shards * STAGES.length, `items scanned ${items}`);
  return f;
}

test(`the emulated stack at ${BIG} shards per stage: done, every candidate accounted for, items <= 40 KB, a critical path that does not grow like a chain`, { timeout: 1_800_000 }, async () => {
  const small = await scaleRun('scale-small', SMALL);
  const big = await scaleRun('scale-big', BIG);
  const k = BIG / SMALL;
  const ratio = (a: number, b: number) => (a / b).toFixed(2);
  console.log(
    `x${k} shards: wall x${ratio(big.wallMs, small.wallMs)} (2 shared cores: the work grows for any design), critical path x${ratio(big.criticalMs, small.criticalMs)}, ` +
      `the dedup chain's critical path x${ratio(big.chainMs, small.chainMs)}; at ${BIG} shards: critical path ${(big.criticalMs / 1000).toFixed(1)} s, with the chain ${(big.chainMs / 1000).toFixed(1)} s`,
  );
  // Generous bounds that a per-shard serial chain breaks: its critical path holds every dedup
  // invocation, so it grows like the shard count; the barrier's grows with the shards read by a
  // task, the finish and assemble only.
  assert.ok(big.criticalMs < big.chainMs, `critical path ${big.criticalMs.toFixed(0)} ms vs ${big.chainMs.toFixed(0)} ms with the dedup chain`);
  assert.ok(big.criticalMs / small.criticalMs < k / 2, `critical path grew x${ratio(big.criticalMs, small.criticalMs)} for x${k} shards`);
});

// ---------------------------------------------------------------------------------------------
// The flow alone at 1,000 shards, driven in causal rounds (every message sent while processing
// round r is in round r+1): the number of rounds is the longest causal chain, the wall-time floor in
// hops. The ordered dedup it replaced needed a round per shard.
const FLOW_SHARD_SIZE = 2;
/** Record i's program; every 10th is a renamed copy of record i-7 (an exact duplicate, often in another shard). */
function flowProgram(i: number): string {
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

async function flowRunAt(runId: string, shards: number): Promise<{ rounds: number; ms: number; dataset: number; dedupRejected: number }> {
  const cfg = DedupConfigSchema.parse({ partitions: 3 });
  const queue = new RoundQueue();
  const state = new DynamoStateStore(emu.clients.doc, 'flow');
  const deps: PipelineDeps = { blobs: new S3BlobStore(emu.clients.s3, 'flow'), state, queue, log: { info() {}, warn() {}, error() {} }, secrets: () => undefined };
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
          const base = shardIndex(ctx.shard) * FLOW_SHARD_SIZE;
          return Array.from({ length: FLOW_SHARD_SIZE }, (_, k) => ({ id: `p${base + k}`, code: flowProgram(base + k) }));
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
  queue.next = generateShards(runId, shards * FLOW_SHARD_SIZE, FLOW_SHARD_SIZE);
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

test('the flow alone at 1,000 shards (the real runner, dedup barrier and S3/DynamoDB adapters; other stages pass records through): done, small items, rounds independent of the shard count', { timeout: 900_000 }, async () => {
  const small = await flowRunAt('scale-small', 20);
  const big = await flowRunAt('scale-big', 1000);
  // copies planted: records 10, 20, ... each duplicate an earlier record (i - 7)
  const copies = (n: number) => Math.floor((n - 1) / 10);
  assert.equal(small.dedupRejected, copies(20 * FLOW_SHARD_SIZE));
  assert.equal(big.dedupRejected, copies(1000 * FLOW_SHARD_SIZE));
  assert.equal(big.dataset, 1000 * FLOW_SHARD_SIZE - copies(1000 * FLOW_SHARD_SIZE));
  // The critical path: generate, execute, filter, barrier tasks, finish, dedup, backtranslate, assemble.
  assert.equal(big.rounds, small.rounds, `rounds at 20 shards ${small.rounds}, at 1,000 shards ${big.rounds}`);
  assert.ok(big.rounds <= 8, `rounds ${big.rounds}`);
  // No DynamoDB item over 40 KB (estimated: attribute names + values as JSON).
  let largest = 0;
  let start: Record<string, unknown> | undefined;
  let items = 0;
  do {
    const res = await emu.clients.doc.send(new ScanCommand({ TableName: 'flow', ExclusiveStartKey: start }));
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
