// Batch mode over the real `openai` SDK and the fake server's Batch API (real HTTP), with the real
// unify stage, runner and SQLite state: a shard waits while its batch works, resumes when the
// poller sees it end, and maps results back by custom_id. Faults: failed lines (retried once, then
// the record fails with the provider's reason), an expired batch (the unfinished requests go in
// the next batch), a duplicate delivery (no second batch), a crash between creating a batch and
// recording its id (the batch is found by its metadata, not created again), a batch the provider
// fails as a whole. Also the file split at the request limit and the config checks.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { localDepsWithoutDedup } from '../helpers/local-deps.ts';
import { startFakeServer, type FakeBatchPlan, type FakeServer, type FakeServerOptions } from '../helpers/fake-openai-server.ts';
import { Cassette } from '../../lib/llm/cassette.ts';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseRunConfig, ConfigError } from '../../lib/config.ts';
import { llmClientsFor } from '../../lib/hosts/llm-clients.ts';
import { createPipeline } from '../../lib/pipeline/registry.ts';
import { processShardMessage } from '../../lib/pipeline/runner.ts';
import { keys } from '../../lib/pipeline/keys.ts';
import { parseJsonl, toJsonl } from '../../lib/pipeline/lines.ts';
import { batchServices } from '../../lib/llm/batch/host.ts';
import { SqliteBatchStore } from '../../lib/llm/batch/sqlite-store.ts';
import { pollOpenBatches } from '../../lib/llm/batch/poller.ts';
import { splitIntoFiles } from '../../lib/llm/batch/lines.ts';
import type { BatchProvider } from '../../lib/llm/batch/provider.ts';
import type { BatchServices } from '../../lib/llm/batch/shard-batch.ts';
import { parseSeed, type Seed } from '../../lib/stages/seeds.ts';

const servers: FakeServer[] = [];
after(async () => {
  for (const s of servers) await s.close();
});

const SEEDS: Seed[] = Array.from({ length: 6 }, (_, i) => {
  const r = parseSeed({ id: `s${i}`, question: `What is ${i} plus ${i}?`, answer: `${i}+${i}=${2 * i}\n#### ${2 * i}` });
  if (!r.ok) throw new Error(r.detail);
  return r.seed;
});

/** A unify reply that is a valid Code CoT for the seed named in the prompt. */
function unifyReply(body: Record<string, any>): string {
  const text = String(body.messages?.at(-1)?.content ?? '');
  const n = Number(/What is (\d+) plus/.exec(text)?.[1] ?? 0);
  return ['```python', `input = {"a": ${n}, "b": ${n}}`, '', 'def solve(a, b):', '    # add the two numbers', '    total = a + b', '    return total', '', 'output = solve(input["a"], input["b"])', 'print(output)', '```'].join('\n');
}

interface Harness {
  server: FakeServer;
  run: (owner?: string, wrap?: (p: BatchProvider) => BatchProvider) => Promise<string>;
  poll: () => Promise<{ resumed: number; open: number }>;
  untilDone: () => Promise<string>;
  kept: () => Promise<unknown[]>;
  failed: () => Promise<{ id: string; reason: string; detail?: string }[]>;
  counters: () => Promise<Record<string, number>>;
}

async function harness(
  plan?: (info: { id: string; metadata: Record<string, string> | null; lines: number }) => FakeBatchPlan,
  config: Record<string, any> = {},
  serverOptions: Partial<FakeServerOptions> = {},
  batchMode = true,
): Promise<Harness> {
  const server = await startFakeServer({ respond: (req) => unifyReply(req.body), batch: plan, ...serverOptions });
  servers.push(server);
  const { deps, db } = localDepsWithoutDedup('caco-batch-', 3);
  const runId = 'run-batchtest';
  const cfg = parseRunConfig({
    mode: 'unify',
    llm: { ...config.llm, default: { baseURL: config.baseURL ?? server.baseURL, model: 'm', batch: batchMode, price: { inputPerMTok: 2, outputPerMTok: 4 }, ...config.llm?.default } },
  });
  await deps.blobs.put(keys.config(runId), JSON.stringify(cfg));
  await deps.blobs.put(keys.survivors(runId, 'ingest', 'u00000'), toJsonl(SEEDS));
  const clients = llmClientsFor(cfg, { env: {} });
  const cassette = Object.values(clients).find((c) => c?.cassette)?.cassette ?? null;
  const store = new SqliteBatchStore(db);
  const impls = new Map<string, ReturnType<typeof createPipeline>>();
  const implFor = (owner: string, wrap?: (p: BatchProvider) => BatchProvider) => {
    const k = owner + (wrap ? '+wrap' : '');
    if (!impls.has(k) || wrap) {
      const base = batchServices({ store, blobs: deps.blobs, replayOf: async () => (cfg.llm.cassette.mode === 'replay' ? cassette : null), secrets: () => undefined, owner, staleMs: 60_000 });
      const svc: BatchServices = wrap ? { ...base, provider: (e, run) => wrap(base.provider(e, run)) } : base;
      impls.set(k, createPipeline({ sandbox: () => Promise.reject(new Error('no sandbox here')), llm: () => clients, batch: svc }));
    }
    return impls.get(k)!;
  };
  const msg = { runId, stage: 'unify', shard: 'u00000' };
  const h: Harness = {
    server,
    run: (owner = 'w1', wrap) => processShardMessage(msg, deps, implFor(owner, wrap)),
    async poll() {
      const svc = batchServices({ store, blobs: deps.blobs, replayOf: async () => null, secrets: () => undefined, owner: 'poller', staleMs: 60_000 });
      const sent: unknown[] = [];
      const r = await pollOpenBatches(svc, async (m) => void sent.push(m), runId);
      return { resumed: r.resumed.length, open: r.open.length };
    },
    async untilDone() {
      for (let i = 0; i < 100; i++) {
        const out = await h.run();
        if (out !== 'waiting') return out;
        // The fake batch moves one step per retrieve.
        for (;;) {
          const p = await h.poll();
          if (p.resumed > 0 || p.open === 0) break;
        }
      }
      throw new Error('shard never finished');
    },
    kept: async () => parseJsonl((await deps.blobs.get(keys.survivors(runId, 'unify', 'u00000')))!.toString('utf8'), 'kept'),
    failed: async () => {
      const b = await deps.blobs.get(keys.failed(runId, 'unify', 'u00000'));
      return b ? parseJsonl(b.toString('utf8'), 'failed') : [];
    },
    counters: async () => (await deps.state.getShard(runId, 'unify', 'u00000'))!.counts.counters,
  };
  return h;
}

const served = (s: FakeServer) => [...s.stats.batchServedByKey.values()];

test('a shard in batch mode waits on its batch, then every seed is answered by custom_id at the batch price', async () => {
  const h = await harness();
  assert.equal(await h.run(), 'waiting');
  assert.equal(h.server.batches.size, 1);
  const [b] = h.server.batches.values();
  assert.equal(b.request_counts.total, SEEDS.length);
  assert.deepEqual(b.metadata, { caco_run: 'run-batchtest', caco_stage: 'unify', caco_shard: 'u00000', caco_round: '1', caco_part: '0' });
  // Still running: a redelivered message only looks at the batch.
  assert.equal(await h.run(), 'waiting');
  assert.equal(await h.untilDone(), 'done');
  assert.equal(h.server.stats.total, 0, 'no interactive completion was bought');
  assert.equal(h.server.batches.size, 1);
  assert.deepEqual(served(h.server), Array(SEEDS.length).fill(1));
  const kept = (await h.kept()) as { id: string; code: string }[];
  assert.deepEqual(kept.map((k) => k.id).sort(), SEEDS.map((s) => s.id));
  assert.match(kept.find((k) => k.id === 's3')!.code, /"a": 3/);
  const c = await h.counters();
  assert.equal(c['llm|unify|m|batch_requests'], SEEDS.length);
  assert.equal(c['llm|unify|m|requests'], SEEDS.length);
  const full = (c['llm|unify|m|prompt_tokens'] * 2 + c['llm|unify|m|completion_tokens'] * 4) / 1e6;
  assert.ok(Math.abs(c['llm|unify|m|cost_usd'] - full / 2) < 1e-12, 'half the interactive price by default');
  assert.equal(c['llm_unavailable_unify'], undefined, 'the deferred rounds left no trace in the counters');
});

test('failed lines are retried once in the next batch, then the record fails with the provider reason', async () => {
  // s1 fails in every batch (a 400 from the provider); s2 fails once (a non-HTTP error), then succeeds.
  const h = await harness(() => ({
    lineError: (line) => {
      const text = String(line.body.messages.at(-1).content);
      if (/What is 1 plus/.test(text)) return { status: 400, message: 'Invalid prompt: flagged (injected)' };
      if (/What is 2 plus/.test(text) && !seen.has('s2')) {
        seen.add('s2');
        return { code: 'server_error', message: 'upstream failed (injected)' };
      }
      return undefined;
    },
  }));
  const seen = new Set<string>();
  assert.equal(await h.untilDone(), 'done');
  assert.equal(h.server.batches.size, 2, 'round 2 holds the two failed lines only');
  assert.deepEqual([...h.server.batches.values()].map((b) => b.request_counts.total), [SEEDS.length, 2]);
  const kept = (await h.kept()) as { id: string }[];
  assert.deepEqual(kept.map((k) => k.id).sort(), ['s0', 's2', 's3', 's4', 's5']);
  const failed = await h.failed();
  assert.equal(failed.length, 1);
  assert.equal(failed[0].id, 's1');
  assert.equal(failed[0].reason, 'llm_batch_error');
  assert.match(failed[0].detail!, /http_400: Invalid prompt: flagged \(injected\)/);
});

test('an expired batch: its answered lines are kept, the rest go in the next batch', async () => {
  const h = await harness((info) => (info.metadata?.caco_round === '1' ? { outcome: 'expired', finishBeforeEnd: 2 } : {}));
  assert.equal(await h.untilDone(), 'done');
  const bs = [...h.server.batches.values()];
  assert.deepEqual(bs.map((b) => b.status), ['expired', 'completed']);
  assert.equal(bs[1].request_counts.total, SEEDS.length - 2);
  assert.equal((await h.kept()).length, SEEDS.length);
  assert.ok(served(h.server).every((n) => n === 1), 'no answer bought twice');
});

test('a batch the provider fails as a whole: resubmitted once, then the records fail with its errors', async () => {
  const h = await harness(() => ({ outcome: 'failed' }));
  assert.equal(await h.untilDone(), 'done');
  assert.equal(h.server.batches.size, 2);
  const failed = await h.failed();
  assert.equal(failed.length, SEEDS.length);
  assert.ok(failed.every((f) => f.reason === 'llm_batch_error' && /batch_failed: failed: the batch failed \(injected\)/.test(f.detail!)));
});

test('a duplicate delivery of the shard message never creates a second batch (also two workers at once)', async () => {
  const h = await harness();
  const outcomes = await Promise.all([h.run('w1'), h.run('w2'), h.run('w1')]);
  assert.deepEqual(outcomes, ['waiting', 'waiting', 'waiting']);
  assert.equal(h.server.stats.batchCalls.create, 1);
  assert.equal(await h.untilDone(), 'done');
  assert.equal(h.server.stats.batchCalls.create, 1);
  // Delivered again after it finished: skipped, nothing submitted.
  assert.equal(await h.run('w2'), 'skipped');
  assert.equal(h.server.stats.batchCalls.create, 1);
});

test('a crash between creating the batch and recording its id: the retry finds it by metadata', async () => {
  const h = await harness();
  const crashAfterCreate = (p: BatchProvider): BatchProvider => ({
    ...p,
    retrieve: (id) => p.retrieve(id),
    find: (m, s) => p.find(m, s),
    fileText: (f) => p.fileText(f),
    create: async (...args) => {
      await p.create(...args);
      throw new Error('process died (simulated) before the batch id was recorded');
    },
  });
  await assert.rejects(h.run('w1', crashAfterCreate), /simulated/);
  assert.equal(h.server.stats.batchCalls.create, 1);
  assert.equal(await h.untilDone(), 'done');
  assert.equal(h.server.stats.batchCalls.create, 1, 'the batch was adopted, not created again');
  assert.ok((h.server.stats.batchCalls.list ?? 0) >= 1);
  assert.equal((await h.kept()).length, SEEDS.length);
});

test('input files are split at the request and size limits', () => {
  const lines = Array.from({ length: 7 }, (_, i) => 'x'.repeat(10 + i));
  assert.deepEqual(splitIntoFiles(lines, { maxRequests: 3, maxBytes: 1e9 }).map((f) => f.length), [3, 3, 1]);
  const bySize = splitIntoFiles(lines, { maxRequests: 100, maxBytes: 40 });
  assert.ok(bySize.every((f) => f.reduce((n, l) => n + l.length + 1, 0) <= 40));
  assert.deepEqual(bySize.flat(), lines);
  assert.throws(() => splitIntoFiles(['y'.repeat(50)], { maxRequests: 10, maxBytes: 40 }), /over the file limit/);
});

test('config: batch must be a boolean, the batch price factor in (0, 1]', () => {
  assert.throws(() => parseRunConfig({ llm: { default: { baseURL: 'http://x/v1', model: 'm', batch: 'yes' } } }), (e: Error) => e instanceof ConfigError && /llm\.default\.batch/.test(e.message));
  assert.throws(() => parseRunConfig({ llm: { default: { baseURL: 'http://x/v1', model: 'm', price: { batchFactor: 0 } } } }), /batchFactor/);
  assert.equal(parseRunConfig({ llm: { default: { baseURL: 'http://x/v1', model: 'm', batch: true } } }).llm.default.batch, true);
});

test('a batch cancelled at the provider: its answered lines are kept, the cancelled ones retried once', async () => {
  const h = await harness();
  assert.equal(await h.run(), 'waiting');
  const [b] = h.server.batches.values();
  // Someone cancels it (the dashboard, another tool): cancelling -> cancelled with partial output.
  const res = await fetch(`${h.server.baseURL}/batches/${b.id}/cancel`, { method: 'POST' });
  assert.equal(res.status, 200);
  assert.equal(await h.untilDone(), 'done');
  assert.equal(b.status, 'cancelled');
  const bs = [...h.server.batches.values()];
  assert.equal(bs.length, 2);
  assert.equal(bs[1].request_counts.total, SEEDS.length - Math.floor(SEEDS.length / 2), 'only the lines the cancelled batch did not run');
  assert.equal((await h.kept()).length, SEEDS.length);
});

test('429s from the files and batches endpoints are retried (Retry-After honoured)', async () => {
  const h = await harness(undefined, {}, { batchRateLimited: 3 });
  assert.equal(await h.untilDone(), 'done');
  assert.equal(h.server.stats.batchCalls['429'], 3);
  assert.equal(h.server.stats.batchCalls.create, 1);
  assert.equal((await h.kept()).length, SEEDS.length);
});

test('record mode: batch answers go into the cassette; an interactive replay of it gives the same shard', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'caco-batch-rec-')), 'rec.jsonl');
  const rec = await harness(undefined, { llm: { cassette: { mode: 'record', path } } });
  assert.equal(await rec.untilDone(), 'done');
  assert.equal(new Cassette(path).size, SEEDS.length);
  // Replayed interactively (no batch) against the same base URL: no request reaches any server.
  const replay = await harness(undefined, { baseURL: rec.server.baseURL, llm: { cassette: { mode: 'replay', path } } }, {}, false);
  assert.equal(await replay.run(), 'done');
  assert.deepEqual(await replay.kept(), await rec.kept());
  assert.equal(replay.server.stats.total + (replay.server.stats.batchCalls.create ?? 0), 0);
  // And replayed in batch mode: batches answered from the cassette.
  const batchReplay = await harness(undefined, { baseURL: rec.server.baseURL, llm: { cassette: { mode: 'replay', path } } });
  assert.equal(await batchReplay.untilDone(), 'done');
  assert.deepEqual(await batchReplay.kept(), await rec.kept());
});

test('a submission that died holding its claim: the poller sends the shard again once the claim is stale', async () => {
  const { db } = localDepsWithoutDedup('caco-batch-stale-', 3);
  const store = new SqliteBatchStore(db);
  const k = { runId: 'run-stale', stage: 'backtranslate', shard: 'g00001', round: 2 };
  await store.claim(k, 'lambda-dead#1', 1_000, 60_000);
  const sent: unknown[] = [];
  const svc = { store, provider: () => { throw new Error('no provider call for a claimed round'); }, now: () => 30_000, staleMs: 60_000 };
  let r = await pollOpenBatches(svc, async (m) => void sent.push(m));
  assert.equal(sent.length, 0, 'a fresh claim is left to its holder');
  assert.equal(r.open[0]!.status, 'submitting');
  r = await pollOpenBatches({ ...svc, now: () => 62_000 }, async (m) => void sent.push(m));
  assert.deepEqual(sent, [{ runId: 'run-stale', stage: 'backtranslate', shard: 'g00001' }]);
  assert.equal(r.resumed.length, 1);
});

test('the provider\'s enqueued-token limit: files split to fit it, and a batch waits until the queue has room', async () => {
  const openAtCreate: number[] = [];
  let server: FakeServer | undefined;
  const terminal = new Set(['completed', 'failed', 'expired', 'cancelled']);
  // A unify request is estimated at ~1,300 tokens (prompt + max_tokens 1024): room for two.
  const h = await harness(
    () => {
      openAtCreate.push([...server!.batches.values()].filter((b) => !terminal.has(b.status)).length);
      return {};
    },
    { llm: { default: { batchQueueTokens: 2_800 } } },
  );
  server = h.server;
  assert.equal(await h.untilDone(), 'done');
  assert.deepEqual([...h.server.batches.values()].map((b) => b.request_counts.total), [2, 2, 2], 'files of two requests');
  assert.deepEqual(openAtCreate, [0, 0, 0], 'a batch was created only when the queue had room');
  assert.equal((await h.kept()).length, SEEDS.length);
  assert.equal(h.server.stats.batchCalls.create, 3);
});
