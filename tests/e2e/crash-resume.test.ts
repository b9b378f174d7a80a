// Crash test: the demo (input and config) in LIVE mode against the fake OpenAI-compatible server
// running the demo responder, so every request the pipeline makes reaches the server and is
// counted. An uninterrupted run gives the reference dataset; then the same command, run as a
// child process, is killed with SIGKILL at 5 seeded random points spread over the run and
// restarted each time until it finishes. Its dataset must equal the reference byte for byte,
// conservation must hold, and no served request may be bought twice. A Ctrl-C case checks the
// graceful stop (exit 130) and the resume.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeServer, fakeRequestKey, type FakeServer } from '../helpers/fake-openai-server.ts';
import { httpBody, type CacheEntry } from '../../lib/llm/request.ts';
import { demoRule } from '../../examples/demo/responder.ts';
import { REPO_ROOT, spawnCli, waitGroupGone, type CliExit, type CliProcess } from '../helpers/run-cli.ts';
import { mulberry32 } from '../../lib/util/random.ts';
import { partsOf, readConfig } from '../helpers/dataset.ts';

const LATENCY_MS = 30;
const KILLS = 5;
const SEED = 20261127;
const INPUT = join(REPO_ROOT, 'examples/seeds/gsm8k-demo.jsonl');
const demoConfig = JSON.parse(readFileSync(join(REPO_ROOT, 'examples/demo/run.json'), 'utf8'));

const work = mkdtempSync(join(tmpdir(), 'caco-crash-'));
const configFile = join(work, 'run.json');
let port = 0;
/** Children still to clean up if an assertion fails mid-test. */
const started = new Set<CliProcess>();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A fresh fake server on the shared port (the port is part of the config, hence of the run id). */
/** When each request key was last answered (performance.now() of this process). */
const answeredAt = new Map<string, number>();
function serve(): Promise<FakeServer> {
  const rule = demoRule({ seedBase: demoConfig.llm.generate.seed });
  return startFakeServer({
    port,
    latencyMs: LATENCY_MS,
    respond: (req) => {
      answeredAt.set(req.key, performance.now());
      return rule(req);
    },
  });
}

function caco(out: string): CliProcess {
  const p = spawnCli(['run', INPUT, '-c', configFile, '-o', out, '--quiet']);
  started.add(p);
  void p.exited.then(() => started.delete(p));
  return p;
}

/** Server-side keys of every response in the out folder's LLM cache: what survived a kill. */
function cachedServerKeys(out: string): Set<string> {
  const dir = join(out, '.caco/blobs/cache/llm');
  const keys = new Set<string>();
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return keys;
  }
  for (const f of names.filter((n) => n.endsWith('.json'))) {
    const e = JSON.parse(readFileSync(join(dir, f), 'utf8')) as CacheEntry;
    const path = e.request.api === 'chat' ? '/v1/chat/completions' : '/v1/completions';
    keys.add(fakeRequestKey(path, httpBody(e.request)));
  }
  return keys;
}

interface Stats {
  runId: string;
  samples: number;
  conservation: { ok: boolean; problems: string[] };
  stages: Record<string, { in: number; kept: number; rejected: Record<string, number>; failed: Record<string, number>; counters: Record<string, number> }>;
}

const readStats = (out: string) => JSON.parse(readFileSync(join(out, 'dataset/stats.json'), 'utf8')) as Stats;
/** The samples' Parquet parts, concatenated: byte-identical datasets give identical buffers. */
const readData = (out: string) => Buffer.concat(partsOf(join(out, 'dataset'), 'default').map((f) => readFileSync(f)));

function assertConservation(s: Stats, label: string): void {
  assert.equal(s.conservation.ok, true, `${label}: ${s.conservation.problems.join('; ')}`);
  const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);
  for (const [stage, st] of Object.entries(s.stages)) {
    assert.equal(st.kept + sum(st.rejected) + sum(st.failed), st.in, `${label}: conservation of ${stage}`);
  }
}

/** What must not depend on crashes: per stage in/kept/rejected/failed, and calls made (bought + cache hits) per role. */
function outcomeView(s: Stats) {
  return Object.fromEntries(
    Object.entries(s.stages).map(([stage, st]) => {
      const calls: Record<string, number> = {};
      for (const [k, v] of Object.entries(st.counters)) {
        const m = /^llm\|([^|]+)\|[^|]*\|(requests|cache_hits)$/.exec(k);
        if (m) calls[m[1]] = (calls[m[1]] ?? 0) + v;
      }
      return [stage, { in: st.in, kept: st.kept, rejected: st.rejected, failed: st.failed, calls }];
    }),
  );
}

let ref: { out: string; wallMs: number; servedAt: number[]; data: Buffer; stats: Stats; served: number };

before(async () => {
  // Reserve a port: the servers of both runs listen on it so the configs (and run ids) are equal.
  const probe = await startFakeServer();
  port = probe.port;
  await probe.close();
  const cfg = {
    ...demoConfig,
    llm: { ...demoConfig.llm, default: { ...demoConfig.llm.default, baseURL: `http://127.0.0.1:${port}/v1` }, cassette: { mode: 'live' } },
  };
  writeFileSync(configFile, JSON.stringify(cfg, null, 2));

  // The reference: one uninterrupted run, timing every served response from the child's spawn.
  const server = await serve();
  try {
    const out = join(work, 'A');
    // servedAt counts from the server's start, a few ms before the child's spawn.
    const exit = await caco(out).exited;
    assert.equal(exit.code, 0, `reference run failed: ${exit.stderr}`);
    ref = {
      out,
      wallMs: exit.ms,
      servedAt: server.stats.servedAt.slice(),
      data: readData(out),
      stats: readStats(out),
      served: server.stats.served,
    };
    assert.deepEqual(server.repeatedKeys(), [], 'the uninterrupted run bought an answer twice');
  } finally {
    await server.close();
  }
});

after(async () => {
  for (const p of started) p.killGroup('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

test('reference run: a non-empty dataset, conservation holds', async () => {
  assert.ok(ref.stats.samples > 10, `only ${ref.stats.samples} samples`);
  assert.equal((await readConfig(join(ref.out, 'dataset'), 'default')).length, ref.stats.samples);
  assertConservation(ref.stats, 'reference');
});

test('SIGKILL at 5 random points, resumed each time: same dataset; only answers lost in flight with the killed process are bought again', async (t) => {
  // Kill points, seeded and spread over the run's progress, measured as distinct requests
  // served over the whole sequence (it only grows, so restarts cannot overtake a point). The
  // demo's LLM work comes in short bursts between long sandbox phases (a program loops until
  // the 3 s timeout), so: kills 1, 3, 5 once a random count in the 1st, 3rd and 5th fifth of the
  // reference's requests has been served, plus 0-2 latencies (requests in flight); kills 2 and 4
  // inside the reference's two longest quiet gaps (sandbox, filter): once the requests before
  // the gap are served, plus 20-80% of the gap.
  const random = mulberry32(SEED);
  const gaps = ref.servedAt
    .slice(1)
    .map((t, i) => ({ after: i + 1, start: ref.servedAt[i], len: t - ref.servedAt[i] }))
    .sort((a, b) => b.len - a.len)
    .slice(0, 2);
  const points = [
    ...[0, 2, 4].map((i) => ({ afterDistinct: Math.ceil((ref.served * (i + random())) / KILLS), extraMs: Math.round(2 * LATENCY_MS * random()) })),
    ...gaps.map((g) => ({ afterDistinct: g.after, extraMs: Math.round(g.len * (0.2 + 0.6 * random())) })),
  ].sort((a, b) => a.afterDistinct - b.afterDistinct);

  const server = await serve();
  const out = join(work, 'B');
  const kills: { point: (typeof points)[number]; served: number; lost: number; aliveMs: number }[] = [];
  // Purchases lost with a killed process, per request key: served to it since the previous kill
  // and not in its cache when it died.
  const lostBuys = new Map<string, number>();
  let before = new Map<string, number>();
  try {
    for (const point of points) {
      const p = caco(out);
      while (p.running() && server.stats.servedByKey.size < point.afterDistinct) await sleep(2);
      await sleep(point.extraMs);
      if (!p.running()) {
        const e = await p.exited;
        assert.fail(`the run finished (code ${e.code}) before kill point ${JSON.stringify(point)}; kills so far: ${JSON.stringify(kills)}`);
      }
      const killedAt = performance.now();
      p.kill('SIGKILL');
      const exit: CliExit = await p.exited;
      assert.equal(exit.signal, 'SIGKILL', `killed run exited by itself (code ${exit.code}): ${exit.stderr}`);
      await sleep(200); // answers to requests the dead process left in flight settle (served or client_gone)
      const cached = cachedServerKeys(out);
      const lost = [...server.stats.servedByKey].filter(([k, n]) => n > (before.get(k) ?? 0) && !cached.has(k)).map(([k]) => k);
      for (const k of lost) lostBuys.set(k, (lostBuys.get(k) ?? 0) + 1);
      before = new Map(server.stats.servedByKey);
      kills.push({ point, served: server.stats.served, lost: lost.length, aliveMs: Math.round(exit.ms) });
      const ago = lost.filter((k) => answeredAt.get(k)! <= killedAt).map((k) => Math.round(killedAt - answeredAt.get(k)!));
      t.diagnostic(
        `kill ${kills.length} once ${point.afterDistinct} distinct requests were served + ${point.extraMs} ms (the process lived ${Math.round(exit.ms)} ms): ` +
          `${server.stats.served} served so far; ${lost.length} served to it but not cached: ` +
          `${lost.length - ago.length} answered after the kill, ${ago.length} answered ${ago.length ? Math.min(...ago) + '-' + Math.max(...ago) + ' ms' : ''} before it`,
      );
      // Nothing the CLI started (sandbox workers) outlives it.
      assert.ok(await waitGroupGone(p.pid, 5000), `processes of the killed run (group ${p.pid}) are still alive`);
    }
    const last = caco(out);
    const exit = await last.exited;
    assert.equal(exit.code, 0, `the resumed run failed: ${exit.stderr}`);

    const repeated = server.repeatedKeys();
    const lostTotal = [...lostBuys.values()].reduce((a, b) => a + b, 0);
    t.diagnostic(`served ${server.stats.served} (reference ${ref.served}); repeated keys ${repeated.length}; purchases lost with a killed process ${lostTotal}`);

    // The client caches a response before it uses it, so a request is bought again only when
    // the process died after the server sent the answer and before the cache write: the
    // answer was in flight, in the socket buffer or waiting for a busy event loop. Any other
    // repeat is a paid request bought twice.
    for (const [k, n] of server.stats.servedByKey) {
      assert.equal(n, 1 + (lostBuys.get(k) ?? 0), `request ${k.slice(0, 12)} served ${n} times, ${lostBuys.get(k) ?? 0} of them lost with a killed process`);
    }
    assert.equal(server.stats.served, ref.served + lostTotal, 'every request of the reference, bought once (plus the lost ones)');

    const stats = readStats(out);
    assertConservation(stats, 'resumed');
    assert.equal(stats.runId, ref.stats.runId);
    assert.deepEqual(outcomeView(stats), outcomeView(ref.stats));
    // Byte for byte: parts are concatenated in shard order, ids come from shard and sample.
    assert.ok(readData(out).equals(ref.data), 'the resumed dataset differs from the uninterrupted one');
  } finally {
    await server.close();
  }
});

test('Ctrl-C stops gracefully with exit code 130; the same command resumes to the same dataset', async (t) => {
  const server = await serve();
  const out = join(work, 'C');
  try {
    const p = caco(out);
    // Mid-run: after about half the reference's requests.
    const half = Math.floor(ref.served / 2);
    while (p.running() && server.stats.served < half) await sleep(2);
    assert.ok(p.running(), 'the run finished before Ctrl-C');
    // A terminal's Ctrl-C reaches the whole foreground group, sandbox workers included.
    p.killGroup('SIGINT');
    const stopped = await p.exited;
    assert.equal(stopped.code, 130, `exit ${stopped.code} ${stopped.signal}: ${stopped.stderr}`);
    assert.match(stopped.stderr, /run the same command/);
    t.diagnostic(`stopped after ${server.stats.served} served requests in ${Math.round(stopped.ms)} ms`);
    // A graceful stop finishes the shards in flight: every bought answer is cached.
    const cached = cachedServerKeys(out);
    assert.deepEqual([...server.stats.servedByKey.keys()].filter((k) => !cached.has(k)), []);
    assert.ok(await waitGroupGone(p.pid, 5000), 'processes of the stopped run are still alive');

    const exit = await caco(out).exited;
    assert.equal(exit.code, 0, exit.stderr);
    assert.deepEqual(server.repeatedKeys(), [], 'a request was bought twice across the Ctrl-C');
    assert.equal(server.stats.served, ref.served);
    assertConservation(readStats(out), 'after Ctrl-C');
    assert.ok(readData(out).equals(ref.data), 'the dataset after Ctrl-C and resume differs from the uninterrupted one');
  } finally {
    await server.close();
  }
});
