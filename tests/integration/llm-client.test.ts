// The LLM client through the real openai SDK against the fake server (real HTTP on 127.0.0.1),
// one test per fault: nothing lost, nothing bought twice, the breaker opens and closes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeServer, type FaultKind, type FakeRequest } from '../helpers/fake-openai-server.ts';
import { LlmClient, type LlmPorts } from '../../lib/llm/client.ts';
import { LlmRequestError, LlmUnavailableError } from '../../lib/llm/errors.ts';
import { FileBlobStore } from '../../lib/store/file-blob-store.ts';
import type { LlmEndpointConfigInput } from '../../lib/llm/config.ts';

const ask = (content: string) => ({ messages: [{ role: 'user' as const, content }] });
const tmp = () => mkdtempSync(join(tmpdir(), 'llm-'));

function client(baseURL: string, extra: Partial<LlmEndpointConfigInput> = {}, ports: LlmPorts = {}) {
  return new LlmClient('unify', { baseURL, model: 'qwen', maxRetries: 6, timeoutMs: 5_000, ...extra }, { backoffBaseMs: 10, ...ports });
}

/** Fails the first `n` attempts of every request key with `kind`, then serves. */
function firstAttempts(kind: FaultKind, n = 1) {
  const seen = new Map<string, number>();
  return (req: FakeRequest): FaultKind | undefined => {
    const k = seen.get(req.key) ?? 0;
    seen.set(req.key, k + 1);
    return k < n ? kind : 'ok';
  };
}

test('every transient fault is retried: no record lost, none served twice', async (t) => {
  const s = await startFakeServer({
    latencyMs: 2,
    seed: 7,
    faults: { rates: { '429': 0.15, '500': 0.1, truncate: 0.05, reset: 0.05, garbage: 0.05 }, retryAfterMs: 20 },
  });
  t.after(() => s.close());
  const c = client(s.baseURL, { maxRetries: 12 }, { breaker: { failureRatio: 0.9 } });
  const n = 120;
  const results = await Promise.all(Array.from({ length: n }, (_, i) => c.complete(ask(`q${i}`))));
  results.forEach((r, i) => assert.equal(r.content, `echo: q${i}`));
  for (const k of ['429', '500', 'truncate', 'reset', 'garbage']) assert.ok((s.stats.byOutcome[k] ?? 0) > 0, `fault ${k} was injected`);
  assert.equal(s.stats.served, n);
  assert.deepEqual(s.repeatedKeys(), []);
  const u = c.usage.snapshot()[0];
  assert.equal(u.requests, n);
  assert.equal(u.attempts, s.stats.total);
  c.close();
  await s.close();
});

test('Retry-After is honoured before the retry', async (t) => {
  const arrivals = new Map<string, number[]>();
  const sched = firstAttempts('429');
  const s = await startFakeServer({
    faults: {
      retryAfterMs: 300,
      schedule: (req) => {
        arrivals.set(req.key, [...(arrivals.get(req.key) ?? []), performance.now()]);
  t.after(() => s.close());
        return sched(req);
      },
    },
  });
  const c = client(s.baseURL);
  const r = await c.complete(ask('wait for me'));
  assert.equal(r.content, 'echo: wait for me');
  const [t1, t2] = arrivals.get([...arrivals.keys()][0])!;
  assert.ok(t2 - t1 >= 290, `retry came ${Math.round(t2 - t1)} ms after the 429 (Retry-After 300 ms)`);
  c.close();
  await s.close();
});

test('a slow answer times out and is retried', async (t) => {
  const s = await startFakeServer({ latencyMs: 20, faults: { schedule: firstAttempts('slow'), slowMs: 3_000 } });
  t.after(() => s.close());
  const c = client(s.baseURL, { timeoutMs: 300, concurrency: 3 });
  const rs = await Promise.all(Array.from({ length: 6 }, (_, i) => c.complete(ask(`t${i}`))));
  rs.forEach((r, i) => assert.equal(r.content, `echo: t${i}`));
  assert.equal(c.usage.snapshot()[0].failures.timeout, 6);
  assert.deepEqual(s.repeatedKeys(), []);
  c.close();
  await s.close();
});

test('the concurrency cap holds', async (t) => {
  const s = await startFakeServer({ latencyMs: 30 });
  t.after(() => s.close());
  const c = client(s.baseURL, { concurrency: 3 });
  await Promise.all(Array.from({ length: 12 }, (_, i) => c.complete(ask(`c${i}`))));
  assert.equal(s.stats.maxConcurrent, 3);
  c.close();
  await s.close();
});

test('bad model output is data: empty content, finish_reason length, persistently broken bodies', async (t) => {
  const s = await startFakeServer({
    faults: { schedule: (req) => (JSON.stringify(req.body).includes('empty') ? 'empty' : JSON.stringify(req.body).includes('long') ? 'length' : JSON.stringify(req.body).includes('broken') ? 'truncate' : 'ok') },
  });
  t.after(() => s.close());
  const c = client(s.baseURL, { maxRetries: 2 }, { breaker: { minSamples: 100 } });
  const empty = await c.complete(ask('empty please'));
  assert.deepEqual([empty.content, empty.finishReason], ['', 'stop']);
  const long = await c.complete(ask('a long answer'));
  assert.equal(long.finishReason, 'length');
  assert.equal(long.content, 'echo: a long answer'.slice(0, 9));
  const broken = await c.complete(ask('broken server'));
  assert.deepEqual([broken.content, broken.finishReason, broken.cached], ['', 'malformed', false]);
  assert.equal(s.stats.byOutcome.truncate, 3, 'tried 1 + maxRetries times');
  c.close();
  await s.close();
});

test('400, 401 and 404 fail fast with a message that says what to fix', async (t) => {
  const s = await startFakeServer({ apiKey: 'sk-right', models: ['qwen'] });
  t.after(() => s.close());
  const wrongKey = client(s.baseURL, { apiKeyEnv: 'CACO_TEST_KEY' }, { env: { CACO_TEST_KEY: 'sk-wrong' } });
  await assert.rejects(wrongKey.complete(ask('x')), (e: Error) => e instanceof LlmRequestError && e.status === 401 && /CACO_TEST_KEY/.test(e.message) && /stage 'unify'/.test(e.message));
  const wrongModel = client(s.baseURL, { model: 'nope', apiKeyEnv: 'K' }, { env: { K: 'sk-right' } });
  await assert.rejects(wrongModel.complete(ask('x')), (e: Error) => e instanceof LlmRequestError && e.status === 404 && /model 'nope'/.test(e.message));
  assert.equal(s.stats.total, 2, 'one attempt each, no retries');
  assert.throws(() => new LlmClient('solve', { baseURL: 'https://api.example.com/v1', model: 'm', apiKeyEnv: 'UNSET_KEY_VAR' }, { env: {} }), /UNSET_KEY_VAR/);
  await s.close();
});

test('retries exhausted is LlmUnavailableError (the shard fails and is retried, nothing rejected)', async (t) => {
  const s = await startFakeServer({ faults: { rates: { '500': 1 } } });
  t.after(() => s.close());
  const c = client(s.baseURL, { maxRetries: 2 }, { breaker: { minSamples: 100 } });
  await assert.rejects(c.complete(ask('x')), (e: Error) => e instanceof LlmUnavailableError && e.attempts === 3 && /http|500|error/i.test(e.message));
  assert.equal(s.stats.total, 3);
  c.close();
  await s.close();
});

test('the breaker opens under sustained 5xx, sends nothing while open, half-opens and closes', async (t) => {
  let outage = true;
  const s = await startFakeServer({ faults: { schedule: () => (outage ? '500' : 'ok') } });
  t.after(() => s.close());
  const states: { to: string; total: number }[] = [];
  const c = client(
    s.baseURL,
    { maxRetries: 20, concurrency: 4 },
    { breaker: { window: 8, minSamples: 8, failureRatio: 0.5, cooldownMs: 150, maxCooldownMs: 300 }, onBreakerChange: (_f, to) => states.push({ to, total: s.stats.total }) },
  );
  setTimeout(() => (outage = false), 700);
  const rs = await Promise.all(Array.from({ length: 20 }, (_, i) => c.complete(ask(`b${i}`))));
  rs.forEach((r, i) => assert.equal(r.content, `echo: b${i}`));
  const seq = states.map((x) => x.to);
  assert.equal(seq[0], 'open');
  assert.ok(seq.includes('half-open'));
  assert.equal(seq.at(-1), 'closed');
  // While open, only the half-open probe reaches the server: at most one request per cycle
  // plus the few already in flight when it opened (concurrency 4).
  for (let i = 0; i + 1 < states.length; i++) {
    if (states[i].to === 'open') assert.ok(states[i + 1].total - states[i].total <= 4, `requests while open: ${states[i + 1].total - states[i].total}`);
    if (states[i].to === 'half-open' && states[i + 1].to === 'open') assert.equal(states[i + 1].total - states[i].total, 1, 'one probe');
  }
  assert.deepEqual(s.repeatedKeys(), []);
  c.close();
  await s.close();
});

test('the response cache: a re-run buys nothing; identical concurrent calls make one HTTP request', async (t) => {
  const s = await startFakeServer({ latencyMs: 30 });
  t.after(() => s.close());
  const blobs = new FileBlobStore(tmp());
  const c1 = client(s.baseURL, { price: { inputPerMTok: 1_000_000, outputPerMTok: 2_000_000 } }, { blobs });
  const same = await Promise.all(Array.from({ length: 5 }, () => c1.complete(ask('same'))));
  assert.equal(s.stats.total, 1);
  assert.deepEqual(same.map((r) => r.source).sort(), ['coalesced', 'coalesced', 'coalesced', 'coalesced', 'network']);
  const first = await Promise.all([0, 1, 2].map((i) => c1.complete({ ...ask('x'), sample: i })));
  assert.equal(s.stats.total, 4, 'distinct sample indices are distinct requests');
  const u = c1.usage.snapshot()[0];
  assert.equal(u.costUSD, u.promptTokens * 1 + u.completionTokens * 2);
  const keys = await blobs.list('cache/llm/');
  assert.equal(keys.length, 4);
  assert.match(keys[0], /^cache\/llm\/[0-9a-f]{64}\.json$/);
  const c2 = client(s.baseURL, {}, { blobs });
  const again = await Promise.all([0, 1, 2].map((i) => c2.complete({ ...ask('x'), sample: i })));
  assert.equal(s.stats.total, 4, 'no new HTTP request');
  assert.deepEqual(again.map((r) => r.content), first.map((r) => r.content));
  assert.ok(again.every((r) => r.cached && r.source === 'cache'));
  assert.equal(c2.usage.snapshot()[0].costUSD, 0);
  c1.close();
  c2.close();
  await s.close();
});

test('the token bucket keeps a client under the server limit; without it the server refuses', async (t) => {
  // The server tolerates a little arrival jitter (burst 4); the client never bursts, while an
  // unlimited client sends all 12 at once.
  const s = await startFakeServer({ rateLimit: { rpm: 1200, burst: 4 } });
  t.after(() => s.close());
  const limited = client(s.baseURL, { rpm: 1200 });
  await Promise.all(Array.from({ length: 12 }, (_, i) => limited.complete(ask(`r${i}`))));
  assert.equal(s.stats.byOutcome['429_limit'] ?? 0, 0);
  const unlimited = client(s.baseURL, { maxRetries: 30 }, { breaker: { minSamples: 1000 } });
  await Promise.all(Array.from({ length: 12 }, (_, i) => unlimited.complete(ask(`u${i}`))));
  assert.ok((s.stats.byOutcome['429_limit'] ?? 0) > 0, 'an unlimited client provokes 429s');
  assert.deepEqual(s.repeatedKeys(), []);
  limited.close();
  unlimited.close();
  await s.close();
});

test('completions API (unconditional CodeGen sampling with an empty prompt)', async (t) => {
  const s = await startFakeServer({ respond: (req) => `print(${req.body.seed})` });
  t.after(() => s.close());
  const c = client(s.baseURL, { api: 'completions', seed: 100, n: 3, temperature: 0.9 });
  const rs = await c.samples({ prompt: '' });
  assert.deepEqual(rs.map((r) => r.content), ['print(100)', 'print(101)', 'print(102)']);
  c.close();
  await s.close();
});
