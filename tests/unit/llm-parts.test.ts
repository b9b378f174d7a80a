import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LlmEndpointConfigSchema } from '../../lib/llm/config.ts';
import { backoffMs, parseRetryAfter } from '../../lib/llm/errors.ts';
import { buildWireRequest, canonicalJson, requestKey } from '../../lib/llm/request.ts';
import { requestDiff } from '../../lib/llm/cassette.ts';
import { CircuitBreaker, type BreakerState } from '../../lib/llm/circuit-breaker.ts';
import { Semaphore, TokenBucket } from '../../lib/llm/token-bucket.ts';

const cfg = LlmEndpointConfigSchema.parse({ baseURL: 'http://127.0.0.1:9/v1', model: 'm', temperature: 0.7 });

test('config: defaults filled, unknown keys and bad URLs refused', () => {
  assert.equal(cfg.api, 'chat');
  assert.equal(cfg.apiKeyEnv, 'OPENAI_API_KEY');
  assert.equal(LlmEndpointConfigSchema.safeParse({ baseURL: 'nope', model: 'm' }).success, false);
  assert.equal(LlmEndpointConfigSchema.safeParse({ baseURL: 'http://x/v1', model: 'm', apiKey: 'sk-secret' }).success, false);
});

test('Retry-After: milliseconds header wins, seconds and HTTP dates are read', () => {
  assert.equal(parseRetryAfter(new Headers({ 'retry-after-ms': '250', 'retry-after': '9' })), 250);
  assert.equal(parseRetryAfter(new Headers({ 'retry-after': '2' })), 2000);
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(parseRetryAfter(new Headers({ 'retry-after': 'Thu, 01 Jan 2026 00:00:03 GMT' }), now), 3000);
  assert.equal(parseRetryAfter(new Headers({})), null);
});

test('backoff: grows exponentially with jitter, never below Retry-After', () => {
  assert.equal(backoffMs(0, null, 100, 10_000, () => 0), 50);
  assert.equal(backoffMs(3, null, 100, 10_000, () => 1), 800);
  assert.equal(backoffMs(10, null, 100, 1_000, () => 1), 1_000);
  for (const r of [0, 0.5, 0.999]) assert.ok(backoffMs(0, 1500, 100, 10_000, () => r) >= 1500);
});

test('request key: independent of key order, changed by anything that shapes the answer', () => {
  const a = buildWireRequest(cfg, { messages: [{ role: 'user', content: 'hi' }] });
  assert.equal(canonicalJson({ b: 1, a: { d: 2, c: 3 } }), '{"a":{"c":3,"d":2},"b":1}');
  const k = requestKey(a);
  assert.equal(requestKey(JSON.parse(canonicalJson(a))), k);
  assert.notEqual(requestKey(buildWireRequest(cfg, { messages: [{ role: 'user', content: 'hi' }], sample: 1 })), k);
  assert.notEqual(requestKey(buildWireRequest(cfg, { messages: [{ role: 'user', content: 'hi' }], temperature: 0.8 })), k);
  assert.notEqual(requestKey(buildWireRequest({ ...cfg, model: 'm2' }, { messages: [{ role: 'user', content: 'hi' }] })), k);
  assert.notEqual(requestKey(buildWireRequest({ ...cfg, baseURL: 'http://127.0.0.1:10/v1' }, { messages: [{ role: 'user', content: 'hi' }] })), k);
  assert.throws(() => buildWireRequest(cfg, { prompt: '' }), /chat API: pass messages/);
});

test('request diff names the first differing message and the char where it differs', () => {
  const a = buildWireRequest(cfg, { messages: [{ role: 'system', content: 's' }, { role: 'user', content: 'Solve 2+2 now' }] });
  const b = buildWireRequest(cfg, { messages: [{ role: 'system', content: 's' }, { role: 'user', content: 'Solve 2+3 now' }] });
  const d = requestDiff(a, b);
  assert.equal(d.length, 1);
  assert.match(d[0], /messages\[1\]\.content differs at char 8/);
});

test('circuit breaker: opens on a failure majority, pauses callers, one probe closes it', async () => {
  const seen: string[] = [];
  const br = new CircuitBreaker({ window: 4, minSamples: 4, failureRatio: 0.5, cooldownMs: 40, onStateChange: (f: BreakerState, t: BreakerState) => seen.push(`${f}>${t}`) });
  br.success();
  br.failure();
  br.success();
  assert.equal(br.state, 'closed');
  br.failure();
  assert.equal(br.state, 'open');
  const t0 = performance.now();
  const admitted = await Promise.all([br.admit(), br.admit(), br.admit()].map((p, i) => p.then((probe) => {
    if (probe) setTimeout(() => br.success(true), 10);
    return { i, probe, at: performance.now() - t0 };
  })));
  assert.equal(admitted.filter((a) => a.probe).length, 1, 'exactly one probe');
  for (const a of admitted) assert.ok(a.at >= 35, `caller ${a.i} waited for the cool-down (${a.at.toFixed(0)} ms)`);
  assert.deepEqual(seen, ['closed>open', 'open>half-open', 'half-open>closed']);
  br.dispose();
});

test('circuit breaker: a failed probe re-opens it with a longer cool-down', async () => {
  const br = new CircuitBreaker({ window: 2, minSamples: 2, failureRatio: 1, cooldownMs: 20 });
  br.failure();
  br.failure();
  assert.equal(br.state, 'open');
  assert.equal(await br.admit(), true);
  br.failure(true);
  assert.equal(br.state, 'open');
  const t0 = performance.now();
  assert.equal(await br.admit(), true);
  assert.ok(performance.now() - t0 >= 35, 'second cool-down is doubled');
  br.success(true);
  assert.equal(br.state, 'closed');
  br.dispose();
});

test('token bucket spaces takers at the rate without an initial burst; refunds release a waiter', async () => {
  const b = new TokenBucket(6000, 1); // 100 per second: one per 10 ms
  const t0 = performance.now();
  const times: number[] = [];
  await Promise.all(Array.from({ length: 6 }, () => b.take().then(() => times.push(performance.now() - t0))));
  assert.ok(times[5] >= 45, `six takes need about five intervals, took ${times[5].toFixed(0)} ms`);
  const slow = new TokenBucket(60, 1); // one per second
  await slow.take();
  let released = false;
  const p = slow.take().then(() => (released = true));
  slow.refund(1);
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(released, true);
  await p;
});

test('semaphore caps concurrency', async () => {
  const s = new Semaphore(2);
  let active = 0;
  let peak = 0;
  await Promise.all(Array.from({ length: 6 }, async () => {
    await s.acquire();
    active++;
    peak = Math.max(peak, active);
    await new Promise((r) => setTimeout(r, 5));
    active--;
    s.release();
  }));
  assert.equal(peak, 2);
});

test('token bucket: a request costing more than the capacity waits for a full bucket, then others pay it back', async () => {
  const b = new TokenBucket(60_000, 10); // 1000 tokens/s, at most 10 held
  const t0 = performance.now();
  await b.take(50); // bigger than the capacity: goes once the bucket is full, balance -40
  const t1 = performance.now();
  await b.take(5); // must wait for the debt: about 45 tokens = 45 ms
  const t2 = performance.now();
  assert.ok(t1 - t0 < 40, `oversized take not starved (${(t1 - t0).toFixed(0)} ms)`);
  assert.ok(t2 - t1 >= 40, `debt paid back before the next take (${(t2 - t1).toFixed(0)} ms)`);
});
