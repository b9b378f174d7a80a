// An LLM endpoint that answers 500 for a while, then recovers: the demo's seeds in LIVE mode
// against the fake OpenAI-compatible server (real HTTP, the demo responder), every request counted.
//   A. The endpoint is down from the start: the run shows the endpoint's state, stops once every
//      call has failed for the (test-sized) threshold, says why, exits 5; after the endpoint is
//      back, `--retry-failed` finishes it (exit 0) with the dataset of an undisturbed run.
//   B. An outage shorter than the threshold in the middle of the run: records fail
//      (llm_unavailable), the run finishes PARTIAL (exit 3); `--retry-failed` finishes it.
// In both, no answer is bought twice (the server counts completions served per request).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeServer, type FakeServer } from '../helpers/fake-openai-server.ts';
import { demoRule } from '../../examples/demo/responder.ts';
import { REPO_ROOT, runCli, type CliExit } from '../helpers/run-cli.ts';

const work = mkdtempSync(join(tmpdir(), 'caco-outage-'));
const demoConfig = JSON.parse(readFileSync(join(REPO_ROOT, 'examples/demo/run.json'), 'utf8'));
const input = join(work, 'seeds.jsonl');
writeFileSync(input, readFileSync(join(REPO_ROOT, 'examples/seeds/gsm8k-demo.jsonl'), 'utf8').split('\n').slice(0, 20).join('\n') + '\n');

interface Stats {
  runId: string;
  samples: number;
  stages: Record<string, { in: number; kept: number; rejected: Record<string, number>; failed: Record<string, number> }>;
}
const readStats = (out: string) => JSON.parse(readFileSync(join(out, 'dataset/stats.json'), 'utf8')) as Stats;
const view = (s: Stats) => ({ runId: s.runId, samples: s.samples, stages: Object.fromEntries(Object.entries(s.stages).map(([k, v]) => [k, { in: v.in, kept: v.kept, rejected: v.rejected, failed: v.failed }])) });

/** A config for the server at `baseURL`: few retries so an outage fails records within seconds. */
function configFor(server: FakeServer, name: string): string {
  const file = join(work, `${name}.json`);
  const cfg = {
    ...demoConfig,
    generate: { ...demoConfig.generate, samples: 20 },
    llm: { ...demoConfig.llm, default: { ...demoConfig.llm.default, baseURL: server.baseURL, maxRetries: 1 }, cassette: { mode: 'live' } },
  };
  writeFileSync(file, JSON.stringify(cfg, null, 2));
  return file;
}

function serve(): Promise<FakeServer> {
  return startFakeServer({ latencyMs: 20, respond: demoRule({ seedBase: demoConfig.llm.generate.seed }) });
}

const run = (cfg: string, out: string, ...extra: string[]): Promise<CliExit> => runCli(['run', input, '-c', cfg, '-o', out, ...extra]);

let reference: Stats;
/** Answers the undisturbed run bought. */
let referenceServed = 0;

before(async () => {
  const server = await serve();
  try {
    const out = join(work, 'ref');
    const exit = await run(configFor(server, 'ref'), out, '--quiet');
    assert.equal(exit.code, 0, `reference run: ${exit.stderr}`);
    reference = readStats(out);
    referenceServed = server.stats.served;
    assert.ok(reference.samples > 3, `reference has only ${reference.samples} samples`);
  } finally {
    await server.close();
  }
});

after(() => rmSync(work, { recursive: true, force: true }));

test('A: endpoint down from the start: shown, stopped with a reason (exit 5); --retry-failed finishes with nothing bought twice', async (t) => {
  const server = await serve();
  try {
    server.setFaults({ schedule: () => '500' });
    const cfg = configFor(server, 'a');
    const out = join(work, 'a');
    const first = await run(cfg, out, '--stop-after-failing', '3');
    t.diagnostic(`first run: exit ${first.code} after ${Math.round(first.ms)} ms; stderr:\n${first.stderr}`);
    assert.equal(first.code, 5, first.stderr);
    assert.match(first.stderr, /STOPPED: every call to the LLM endpoint of .* failed for \d+ s/);
    assert.ok(first.stderr.includes(server.baseURL), 'names the endpoint');
    assert.match(first.stderr, /last error: .*500/);
    assert.match(first.stderr, /--retry-failed/);
    // The progress lines (stderr is not a TTY here) showed the endpoint's state while it failed.
    assert.match(first.stderr, /LLM [a-z/]+ http:\/\/127\.0\.0\.1:\d+\/v1: (breaker OPEN|calls failing|breaker half-open)[^\n]*last error: [^\n]*500/);
    assert.match(first.stderr, /breaker OPEN[^\n]*next try in \d+ s/);
    assert.ok(first.ms < 60_000, `stopped after ${first.ms} ms`);
    assert.equal(server.stats.served, 0, 'nothing was served during the outage');

    server.setFaults(undefined);
    const second = await run(cfg, out, '--retry-failed');
    t.diagnostic(`retry: exit ${second.code}; last lines:\n${second.stdout.split('\n').slice(-6).join('\n')}`);
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual(view(readStats(out)), view(reference), 'the retried run equals an undisturbed one');
    assert.deepEqual(server.repeatedKeys(), [], 'an answer was bought twice');
    assert.equal(server.stats.served, referenceServed, 'bought exactly what an undisturbed run buys');
  } finally {
    await server.close();
  }
});

test('B: a short outage mid-run: PARTIAL (exit 3) with llm_unavailable records; --retry-failed finishes and buys only what failed', async (t) => {
  const server = await serve();
  try {
    // 500 for 4 s once 15 completions have been served (inside unify), then healthy again.
    let outageEnds: number | null = null;
    server.setFaults({
      schedule: () => {
        if (outageEnds === null && server.stats.served >= 15) outageEnds = Date.now() + 4_000;
        return outageEnds !== null && Date.now() < outageEnds ? '500' : undefined;
      },
    });
    const cfg = configFor(server, 'b');
    const out = join(work, 'b');
    const first = await run(cfg, out);
    t.diagnostic(`first run: exit ${first.code} after ${Math.round(first.ms)} ms; stderr:\n${first.stderr}`);
    const stats = readStats(out);
    const failed = Object.values(stats.stages).reduce((a, s) => a + (s.failed.llm_unavailable ?? 0), 0);
    t.diagnostic(`first run: exit ${first.code}, ${failed} records failed llm_unavailable, ${stats.samples} samples; stderr tail:\n${first.stderr.split('\n').slice(-5).join('\n')}`);
    assert.ok(failed > 0, 'the outage failed some records');
    assert.equal(first.code, 3, first.stderr);
    assert.match(first.stderr, /PARTIAL: \d+ records failed/);
    const servedBefore = server.stats.served;

    const second = await run(cfg, out, '--retry-failed');
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, new RegExp(`retrying run-\\w+: ${failed} failed records in \\d+ shards`));
    const retried = readStats(out);
    const bought = server.stats.served - servedBefore;
    t.diagnostic(`retry bought ${bought} answers for ${failed} failed records (the first run bought ${servedBefore}, an undisturbed run ${referenceServed})`);
    assert.deepEqual(server.repeatedKeys(), [], 'an answer was bought twice');
    // The outage hit unify (one call per record) before generation started: the retry buys exactly
    // those calls, and unify now ends as in an undisturbed run. Generation already ran on the pool
    // of the first attempt and is not redone (that would buy it again).
    assert.equal(bought, failed, 'the retry bought more than what failed');
    assert.deepEqual(view(retried).stages.unify, view(reference).stages.unify);
    for (const [stage, s] of Object.entries(retried.stages)) assert.deepEqual(s.failed, {}, `${stage} still has failed records`);
    assert.ok(retried.samples > 0);

    // A third run has nothing to retry and buys nothing.
    const third = await run(cfg, out, '--retry-failed');
    assert.equal(third.code, 0, third.stderr);
    assert.match(third.stderr, /has no failed records to retry/);
    assert.deepEqual(view(readStats(out)), view(retried));
    assert.equal(server.stats.served, referenceServed, 'a run with nothing to retry bought something');
  } finally {
    await server.close();
  }
});

test('C: a wrong API key: the run fails saying which key (exit 1); after the fix, --retry-failed revives the dead-lettered shards and finishes', async (t) => {
  const server = await startFakeServer({ latencyMs: 20, apiKey: 'the-right-key', respond: demoRule({ seedBase: demoConfig.llm.generate.seed }) });
  try {
    const file = configFor(server, 'c');
    const cfg = JSON.parse(readFileSync(file, 'utf8'));
    cfg.llm.default.apiKeyEnv = 'CACO_TEST_KEY';
    writeFileSync(file, JSON.stringify(cfg));
    const out = join(work, 'c');
    const first = await runCli(['run', input, '-c', file, '-o', out], { env: { CACO_TEST_KEY: 'a-wrong-key' } });
    t.diagnostic(`wrong key: exit ${first.code}; stderr tail:\n${first.stderr.split('\n').slice(-6).join('\n')}`);
    assert.equal(first.code, 1, first.stderr);
    assert.match(first.stderr, /FAILED/);
    assert.match(first.stderr, /401/);
    assert.match(first.stderr, /CACO_TEST_KEY/, 'names the variable that holds the key');
    assert.match(first.stderr, /--retry-failed/);
    assert.equal(server.stats.served, 0);

    const fixed = await runCli(['run', input, '-c', file, '-o', out, '--retry-failed'], { env: { CACO_TEST_KEY: 'the-right-key' } });
    assert.equal(fixed.code, 0, fixed.stderr);
    assert.match(fixed.stderr, /dead-lettered shard messages/);
    assert.deepEqual(view(readStats(out)), view(reference), 'the fixed run equals an undisturbed one');
    assert.deepEqual(server.repeatedKeys(), []);
    assert.equal(server.stats.served, referenceServed);
  } finally {
    await server.close();
  }
});
