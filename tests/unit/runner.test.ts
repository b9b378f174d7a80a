// The runner and local orchestrator with small real stage functions over numbers: the flow
// through both branches, fan-in exactly once, redelivery and crash safety, checkpoints.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PipelineDeps } from '../../lib/pipeline/deps.ts';
import { localDepsWithoutDedup } from '../helpers/local-deps.ts';
import { checkpointMarginMs, processShardMessage, generateShards, type BarrierImpl, type PipelineImpl, type StageImpl } from '../../lib/pipeline/runner.ts';
import { drainLocal } from '../../lib/pipeline/local-orchestrator.ts';
import { ingestRun } from '../../lib/pipeline/ingest.ts';
import { keys } from '../../lib/pipeline/keys.ts';
import { CACO } from '../../lib/pipeline/spec.ts';
import { parseJsonl } from '../../lib/pipeline/lines.ts';
import type { StageOutput } from '../../lib/stages/types.ts';

type Rec = { id: string; v: number };

function keepUnless(pred: (r: Rec) => boolean, reason: string): StageImpl {
  return {
    async run(records) {
      const out: StageOutput<unknown> = { kept: [], rejected: [], failed: [], counters: {} };
      for (const r of records as Rec[]) {
        if (pred(r)) out.rejected.push({ id: r.id, stage: 'x', reason });
        else out.kept.push(r);
      }
      return out;
    },
  };
}

/** A barrier that only records what ran when (the real one: lib/stages/dedup.ts). */
function recordingBarrier(log: string[], tasks = 3): BarrierImpl {
  return {
    async prepare(_kept, ctx) {
      log.push(`prepare ${ctx.shard}`);
    },
    tasks: async () => tasks,
    async task(step, i) {
      log.push(`task ${step.branch} ${i}/${step.tasks} of ${step.shards.length}`);
    },
    async finish(step) {
      log.push(`finish ${step.branch}`);
    },
  };
}

function setup(opts: { samples: number; shardSize: number }) {
  const { dir, queue, deps } = localDepsWithoutDedup('runner-', 3);
  const assembled: string[] = [];
  const barrierLog: string[] = [];
  const calls: Record<string, number> = {};
  const count = (name: string, impl: StageImpl): StageImpl => ({
    ...impl,
    run: (records, ctx) => {
      calls[name] = (calls[name] ?? 0) + 1;
      return impl.run(records, ctx);
    },
  });
  const impl: PipelineImpl = {
    spec: CACO,
    stages: {
      unify: count('unify', keepUnless((r) => r.v % 5 === 0, 'five')),
      execute: count('execute', keepUnless(() => false, '')),
      filter: count('filter', keepUnless((r) => r.v % 7 === 0, 'seven')),
      dedup: { ...count('dedup', keepUnless(() => false, '')), barrier: recordingBarrier(barrierLog) },
      generate: count('generate', {
        ...keepUnless(() => false, ''),
        async makeInput(ctx) {
          const base = Number(ctx.shard.slice(1)) * opts.shardSize;
          const n = Math.min(opts.shardSize, opts.samples - base);
          return Array.from({ length: n }, (_, i) => ({ id: `${ctx.shard}-${i}`, v: 100 + base + i }));
        },
      }),
      backtranslate: count('backtranslate', keepUnless((r) => r.v % 3 === 0, 'three')),
    },
    async onBranchComplete(branch, runId) {
      if (branch === 'unify') {
        const msgs = generateShards(runId, opts.samples, opts.shardSize);
        await deps.state.setExpected(runId, 'generate', msgs.length);
        return msgs.length ? msgs : [{ runId, stage: 'assemble', shard: 'all' }];
      }
      return [{ runId, stage: 'assemble', shard: 'all' }];
    },
    async assemble(runId) {
      assembled.push(runId);
      await deps.state.setRunStatus(runId, 'done');
      const shards = await deps.blobs.list(keys.samples(runId));
      const rows: Rec[] = [];
      for (const k of shards) rows.push(...parseJsonl<Rec>((await deps.blobs.get(k))!.toString()));
      await deps.blobs.put(keys.dataset(runId, 'data.jsonl'), rows.map((r) => JSON.stringify(r) + '\n').join(''));
    },
  };
  return { dir, deps, queue, impl, calls, assembled, barrierLog };
}

async function ingestNumbers(deps: PipelineDeps, n: number, shardSize: number, samples = 0) {
  const lines = Array.from({ length: n }, (_, i) => JSON.stringify({ id: `s${i}`, v: i })).join('\n') + '\nnot json\n';
  return ingestRun(
    {
      runId: 'run1', input: 'mem', mode: 'full', shardSize, configJson: '{}',
      source: async function* () { yield Buffer.from(lines); },
      validate: (v) => (typeof (v as Rec).v === 'number' ? { ok: true, record: v as Rec } : { ok: false, reason: 'bad', detail: '' }),
      startGenerate: (runId) => generateShards(runId, samples, shardSize),
    },
    deps,
  );
}

async function dataset(deps: PipelineDeps): Promise<number[]> {
  const blob = await deps.blobs.get(keys.dataset('run1', 'data.jsonl'));
  return parseJsonl<Rec>(blob!.toString()).map((r) => r.v).sort((a, b) => a - b);
}

const expectedDataset = (samples: number) =>
  Array.from({ length: samples }, (_, i) => 100 + i).filter((v) => v % 7 !== 0 && v % 3 !== 0);

test('both branches flow to one dataset, assembled exactly once', async () => {
  const s = setup({ samples: 23, shardSize: 4 });
  const ing = await ingestNumbers(s.deps, 10, 4);
  assert.deepEqual([ing.accepted, ing.quarantined], [10, 1]);
  const r = await drainLocal({ queue: s.queue, deps: s.deps, impl: s.impl, concurrency: { unify: 2, generate: 3, backtranslate: 2 } });
  assert.deepEqual(r.deadLetters, []);
  assert.deepEqual(s.assembled, ['run1']);
  assert.deepEqual(await dataset(s.deps), expectedDataset(23));
  const unify = await s.deps.state.listShards('run1', 'unify');
  assert.equal(unify.length, 3);
  assert.equal(unify.reduce((a, x) => a + x.counts.in, 0), 10);
  assert.equal(unify.reduce((a, x) => a + (x.counts.rejected.five ?? 0), 0), 2);
});

test('every message delivered twice: same dataset, each stage ran once per shard', async () => {
  const s = setup({ samples: 10, shardSize: 4 });
  await ingestNumbers(s.deps, 6, 4);
  const origSend = s.deps.queue.send.bind(s.deps.queue);
  const twice = async (m: Parameters<typeof origSend>[0]) => { await origSend(m); await origSend(m); };
  s.deps.queue = { send: twice, sendMany: async (ms) => { for (const m of ms) await twice(m); } };
  // One shard in flight per stage, so the second copy arrives after the first is recorded.
  await drainLocal({ queue: s.queue, deps: s.deps, impl: s.impl, concurrency: {} });
  assert.deepEqual(await dataset(s.deps), expectedDataset(10));
  assert.equal(s.calls.generate, 3, 'a recorded shard is skipped, not recomputed');
  assert.equal(s.calls.backtranslate, 3);
  assert.deepEqual(s.assembled, ['run1'], 'the duplicated fan-in assembles once');
});

test('a crash between writing outputs and recording the shard is repaired by the retry', async () => {
  const s = setup({ samples: 4, shardSize: 4 });
  await ingestNumbers(s.deps, 4, 4);
  const realRecord = s.deps.state.recordShard.bind(s.deps.state);
  let crashes = 0;
  s.deps.state.recordShard = async (st, expected) => {
    if (st.stage === 'filter' && crashes === 0) {
      crashes++;
      throw new Error('simulated crash');
    }
    return realRecord(st, expected);
  };
  const r = await drainLocal({ queue: s.queue, deps: s.deps, impl: s.impl, concurrency: {}, retryDelayMs: () => 0 });
  assert.equal(crashes, 1);
  assert.deepEqual(r.deadLetters, []);
  assert.deepEqual(await dataset(s.deps), expectedDataset(4));
});

test('near the time limit a shard checkpoints and the re-sent message finishes it', async () => {
  const s = setup({ samples: 0, shardSize: 10 });
  await ingestNumbers(s.deps, 10, 10);
  s.impl.stages.unify.chunkSize = 3;
  let left = 3; // the invocation's start and two checks pass (chunks 2 and 3 start), then the deadline is near
  s.deps.remainingMs = () => (left-- > 0 ? 10 * 60_000 : 1000);
  const [m] = s.queue.receive(['unify'], 1, 60_000);
  assert.equal(await processShardMessage(m.msg, s.deps, s.impl), 'checkpointed');
  s.queue.ack(m.receipt);
  assert.ok(await s.deps.blobs.get(keys.checkpoint('run1', 'unify', 'u00000')));
  s.deps.remainingMs = undefined;
  const [again] = s.queue.receive(['unify'], 1, 60_000);
  assert.equal(await processShardMessage(again.msg, s.deps, s.impl), 'done');
  const shard = await s.deps.state.getShard('run1', 'unify', 'u00000');
  assert.deepEqual([shard!.counts.in, shard!.counts.kept, shard!.counts.rejected], [10, 8, { five: 2 }]);
  assert.equal(await s.deps.blobs.get(keys.checkpoint('run1', 'unify', 'u00000')), null);
});

test('a stage that loses records fails the shard loudly; it ends in the dead letters', async () => {
  const s = setup({ samples: 0, shardSize: 10 });
  await ingestNumbers(s.deps, 3, 10);
  s.impl.stages.unify = { async run() { return { kept: [], rejected: [], failed: [], counters: {} }; } };
  const r = await drainLocal({ queue: s.queue, deps: s.deps, impl: s.impl, concurrency: {}, retryDelayMs: () => 0 });
  assert.equal(r.deadLetters.length, 1);
  assert.match(r.deadLetters[0].error!, /conservation violated in unify\/u00000: 3 in, 0 kept/);
});

test('dedup starts behind its barrier: every filter shard prepared, the tasks, the finish, then the shards (filter finishing out of order)', async () => {
  const s = setup({ samples: 40, shardSize: 5 });
  await ingestNumbers(s.deps, 0, 5, 40);
  const log = s.barrierLog;
  const delays = [30, 5, 20, 0, 15, 25, 10, 1];
  s.impl.stages.filter = {
    async run(records, ctx) {
      await new Promise((r) => setTimeout(r, delays[Number(ctx.shard.slice(1)) % delays.length]));
      return { kept: records, rejected: [], failed: [], counters: {} };
    },
  };
  s.impl.stages.dedup = {
    barrier: recordingBarrier(log),
    async run(records, ctx) {
      log.push(`shard ${ctx.shard}`);
      return { kept: records, rejected: [], failed: [], counters: {} };
    },
  };
  await drainLocal({ queue: s.queue, deps: s.deps, impl: s.impl, concurrency: { generate: 8, execute: 8, filter: 8, dedup: 8 } });
  const where = (prefix: string) => log.flatMap((l, i) => (l.startsWith(prefix) ? [i] : []));
  // each step exactly once, in barrier order
  assert.equal(where('prepare g').length, 8);
  assert.deepEqual(where('task').map((i) => log[i]).sort(), ['task generate 0/3 of 8', 'task generate 1/3 of 8', 'task generate 2/3 of 8']);
  assert.equal(where('finish').length, 1);
  assert.deepEqual(where('shard').map((i) => log[i]).sort(), Array.from({ length: 8 }, (_, k) => `shard g0000${k}`));
  assert.ok(Math.max(...where('prepare')) < Math.min(...where('task')), log.join('\n'));
  assert.ok(Math.max(...where('task')) < where('finish')[0]!, log.join('\n'));
  assert.ok(where('finish')[0]! < Math.min(...where('shard')), log.join('\n'));
  // This filter keeps everything, so only backtranslate's multiples of three are dropped.
  assert.deepEqual(await dataset(s.deps), Array.from({ length: 40 }, (_, i) => 100 + i).filter((v) => v % 3 !== 0));
});

/** Wraps the queue to count every message sent, by stage/shard. */
function countSends(s: ReturnType<typeof setup>, failOnce?: (m: { stage: string; shard: string }) => boolean) {
  const sent = new Map<string, number>();
  const real = s.deps.queue;
  let failed = false;
  const note = (m: { stage: string; shard: string }) => {
    if (!failed && failOnce?.(m)) {
      failed = true;
      throw new Error('simulated crash before the close sends');
    }
    sent.set(`${m.stage}/${m.shard}`, (sent.get(`${m.stage}/${m.shard}`) ?? 0) + 1);
  };
  s.deps.queue = {
    send: async (m) => { note(m); await real.send(m); },
    sendMany: async (ms) => { ms.forEach(note); await real.sendMany(ms); },
  };
  return sent;
}

test('a close runs once: redelivering the closing messages sends nothing again (generate fan-out, barrier tasks, finish, fan-in)', async () => {
  const s = setup({ samples: 12, shardSize: 4 });
  await ingestNumbers(s.deps, 8, 4);
  const sent = countSends(s);
  await drainLocal({ queue: s.queue, deps: s.deps, impl: s.impl, concurrency: {} });
  assert.deepEqual(s.assembled, ['run1']);
  const closeSends = () => [...sent].filter(([k]) => /^generate\/|\.task|\.finish|^assemble\//.test(k));
  const before = closeSends();
  assert.equal(before.length, 3 + 2 * 3 + 2 + 1, before.join(' ')); // 3 generate shards, 3 tasks and a finish per branch, the fan-in
  assert.ok(before.every(([, n]) => n === 1), before.join(' '));
  // Redeliver, twice, every message whose shard completed a count: the last stage of each branch
  // (fan-in; the unify branch's starts generate), filter (the barrier's tasks), the tasks (finish).
  const total = () => [...sent.values()].reduce((a, b) => a + b, 0);
  const sentBefore = total();
  const redeliver: { stage: string; shard: string }[] = [
    ...['u00000', 'u00001'].flatMap((shard) => [{ stage: 'dedup', shard }, { stage: 'filter', shard }]),
    ...['g00000', 'g00001', 'g00002'].flatMap((shard) => [{ stage: 'backtranslate', shard }, { stage: 'filter', shard }]),
    ...['u', 'g'].flatMap((b) => [0, 1, 2].map((i) => ({ stage: 'dedup', shard: `${b}.task${i}` }))),
    ...['u', 'g'].map((b) => ({ stage: 'dedup', shard: `${b}.finish` })),
  ];
  for (let round = 0; round < 2; round++) {
    for (const m of redeliver) assert.equal(await processShardMessage({ runId: 'run1', ...m }, s.deps, s.impl), 'skipped', `${m.stage}/${m.shard}`);
  }
  assert.equal(total() - sentBefore, 0, `re-sent: ${JSON.stringify(closeSends().filter(([, n]) => n > 1))}`);
});

test('a close whose owner crashed before sending is sent by the owner\'s redelivery, once; other shards do not send it', async () => {
  const s = setup({ samples: 12, shardSize: 4 });
  await ingestNumbers(s.deps, 8, 4);
  // the first send of a generate shard (the unify branch's close) fails once: the claim is written, nothing sent
  const sent = countSends(s, (m) => m.stage === 'generate');
  const r = await drainLocal({ queue: s.queue, deps: s.deps, impl: s.impl, concurrency: {}, retryDelayMs: () => 0 });
  assert.deepEqual(r.deadLetters, []);
  const claim = await s.deps.state.getShard('run1', 'close:fanIn:unify', 'claim');
  const owner = claim!.next[0]!;
  const other = owner === 'u00000' ? 'u00001' : 'u00000';
  assert.equal(await processShardMessage({ runId: 'run1', stage: 'dedup', shard: other }, s.deps, s.impl), 'skipped');
  assert.deepEqual(['g00000', 'g00001', 'g00002'].map((g) => sent.get(`generate/${g}`)), [1, 1, 1]);
  assert.deepEqual(s.assembled, ['run1']);
  assert.deepEqual(await dataset(s.deps), expectedDataset(12));
});

test('ingest fans out in checkpointed chunks: a retry after a failed send does not send the first chunks again', async () => {
  const s = setup({ samples: 4500, shardSize: 1 });
  const { FAN_OUT_CHUNK } = await import('../../lib/pipeline/ingest.ts');
  const sent: string[] = [];
  let calls = 0;
  const real = s.deps.queue;
  s.deps.queue = {
    send: (m) => real.send(m),
    sendMany: async (ms) => {
      if (++calls === 2) throw new Error('throttled');
      sent.push(...ms.map((m) => m.shard));
      await real.sendMany(ms);
    },
  };
  await assert.rejects(ingestNumbers(s.deps, 0, 1, 4500), /throttled/);
  assert.equal(sent.length, FAN_OUT_CHUNK);
  await ingestNumbers(s.deps, 0, 1, 4500); // the retry
  assert.equal(sent.length, 4500, 'each message sent once');
  assert.equal(new Set(sent).size, 4500);
  assert.equal(s.queue.pending(), 4500);
  const input = await s.deps.state.getShard('run1', 'ingest', 'input');
  assert.deepEqual(input!.next, [], 'the ingest record lists no shards');
});

test('the checkpoint margin grows with the longest chunk seen, so a slow chunk still fits', () => {
  assert.equal(checkpointMarginMs(900_000, 0), 60_000);
  assert.equal(checkpointMarginMs(45_000, 0), 4_500); // a tenth of a short invocation
  assert.equal(checkpointMarginMs(900_000, 160_000), 320_000); // 16 programs x 2 runs x 10 s on 2 workers
});
