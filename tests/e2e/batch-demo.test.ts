// The demo in batch mode gives the same dataset as the interactive mode for the same replies:
// live against the fake server running the demo responder (every request is counted: in batch
// mode none goes to the interactive endpoint, none is bought twice, tokens are equal and the cost
// is half), and replayed from the demo cassette. Ctrl-C while batches are open, then the same
// command: the open batches are picked up, not created again.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadConfigFile, runLocal, type LocalRunResult } from '../../lib/local/run-local.ts';
import { DEMO_CONFIG, DEMO_INPUT } from '../../lib/cli/demo.ts';
import { demoRule } from '../../examples/demo/responder.ts';
import { startFakeServer, type FakeBatchPlan, type FakeServer } from '../helpers/fake-openai-server.ts';
import { usageFromCounters } from '../../lib/pipeline/llm-adapter.ts';
import { partFiles } from '../../lib/pipeline/dataset-read.ts';

const demoConfig = loadConfigFile(DEMO_CONFIG) as Record<string, any>;
const work = mkdtempSync(join(tmpdir(), 'caco-batch-demo-'));
const servers: FakeServer[] = [];
after(async () => {
  for (const s of servers) await s.close();
});

function config(baseURL: string | null, batch: boolean): Record<string, any> {
  const c = structuredClone(demoConfig);
  if (baseURL) {
    c.llm.default.baseURL = baseURL;
    c.llm.cassette = { mode: 'live' };
  }
  if (batch) {
    c.llm.default.batch = true;
    c.llm.batchPollSeconds = 0.02;
  }
  return c;
}

async function run(name: string, cfg: Record<string, any>, signal?: AbortSignal): Promise<LocalRunResult> {
  return runLocal({ input: DEMO_INPUT, config: cfg, configDir: dirname(DEMO_CONFIG), out: join(work, name), progress: 'quiet', signal });
}

/** The dataset's samples as written: the bytes of the default config's Parquet parts, in order. */
const data = (r: LocalRunResult) => {
  const parts = partFiles(r.datasetDir!, 'default');
  assert.ok(parts.length > 0, `no Parquet part in ${r.datasetDir}`);
  return Buffer.concat(parts.map((f) => readFileSync(f))).toString('base64');
};
const stats = (r: LocalRunResult) => JSON.parse(readFileSync(join(r.datasetDir!, 'stats.json'), 'utf8'));
const usage = (r: LocalRunResult) => {
  const s = stats(r);
  return usageFromCounters(Object.values(s.stages).map((st: any) => st.counters as Record<string, number>));
};
/** A batch per (run, stage, shard, round, part), never two. */
function assertNoSecondBatch(server: FakeServer): void {
  const seen = new Set<string>();
  for (const b of server.batches.values()) {
    const k = JSON.stringify(b.metadata);
    assert.ok(!seen.has(k), `two batches for ${k}`);
    seen.add(k);
  }
}

async function demoServer(plan?: () => FakeBatchPlan): Promise<FakeServer> {
  const s = await startFakeServer({ respond: demoRule({ seedBase: demoConfig.llm.generate.seed }), batch: plan });
  servers.push(s);
  return s;
}

test('live: batch mode gives the interactive dataset, same tokens, half the cost, no interactive call', { timeout: 240_000 }, async () => {
  const server = await demoServer();
  const interactive = await run('live-interactive', config(server.baseURL, false));
  assert.equal(interactive.status, 'done', JSON.stringify(interactive.deadLetters));
  const boughtInteractively = server.stats.served;
  assert.ok(boughtInteractively > 100);

  const batch = await run('live-batch', config(server.baseURL, true));
  assert.equal(batch.status, 'done', JSON.stringify(batch.deadLetters));
  assert.equal(batch.runId, interactive.runId, 'batch mode does not change the run id');
  assert.equal(data(batch), data(interactive), 'the same dataset, byte for byte');
  assert.equal(stats(batch).samples, stats(interactive).samples);
  assert.equal(server.stats.served, boughtInteractively, 'batch mode made no interactive completion call');
  assert.ok([...server.stats.batchServedByKey.values()].every((n) => n === 1), 'no answer bought twice');
  assert.equal(server.stats.batchServedByKey.size, boughtInteractively, 'the same requests, each bought once');
  assertNoSecondBatch(server);
  // backtranslate went through rounds: reverse first, then solve.
  const bt = [...server.batches.values()].filter((b) => b.metadata?.caco_stage === 'backtranslate');
  assert.ok(bt.some((b) => b.metadata?.caco_round === '2'), 'solve waited for its own round');

  const iu = usage(interactive);
  const bu = usage(batch);
  for (const row of iu) {
    const b = bu.find((x) => x.role === row.role && x.model === row.model)!;
    assert.equal(b.requests, row.requests, row.role);
    assert.equal(b.batchRequests, row.requests, row.role);
    assert.equal(b.promptTokens, row.promptTokens, row.role);
    assert.equal(b.completionTokens, row.completionTokens, row.role);
    assert.ok(Math.abs(b.costUSD - row.costUSD / 2) < 1e-9, `${row.role}: batch ${b.costUSD} vs interactive ${row.costUSD}`);
  }
});

test('replay: batch mode over the demo cassette gives the interactive replay dataset', { timeout: 180_000 }, async () => {
  const interactive = await run('replay-interactive', config(null, false));
  const batch = await run('replay-batch', config(null, true));
  assert.equal(interactive.status, 'done');
  assert.equal(batch.status, 'done', JSON.stringify(batch.deadLetters));
  assert.equal(data(batch), data(interactive));
});

test('Ctrl-C with batches open, then the same command: the same batches are picked up', { timeout: 240_000 }, async () => {
  // Each batch needs 4 x 3 retrieves to finish: the stop comes while the first ones are open.
  const server = await demoServer(() => ({ pollsPerStep: 3 }));
  const cfg = config(server.baseURL, true);
  const stop = new AbortController();
  const watch = setInterval(() => {
    if (server.batches.size > 0) stop.abort();
  }, 5);
  const stopped = await run('ctrl-c', cfg, stop.signal);
  clearInterval(watch);
  assert.equal(stopped.status, 'stopped');
  assert.ok((stopped.openBatches ?? []).length > 0, 'the stop summary lists the open batches');
  const openIds = new Set(stopped.openBatches!.map((b) => b.batchId));
  const createdBefore = server.stats.batchCalls.create;
  for (const id of openIds) assert.ok(server.batches.has(id!), `${id} is a batch at the provider`);

  const resumed = await run('ctrl-c', cfg);
  assert.equal(resumed.status, 'done', JSON.stringify(resumed.deadLetters));
  assertNoSecondBatch(server);
  for (const id of openIds) assert.equal(server.batches.get(id!)!.status, 'completed', 'the open batch was polled to its end and used');
  assert.ok(server.stats.batchCalls.create > createdBefore, 'later rounds were created after the resume');
  assert.ok([...server.stats.batchServedByKey.values()].every((n) => n === 1), 'no answer bought twice');
});
