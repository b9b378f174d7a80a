// Global LLM limits, the provider's headers alone: several LlmClient instances (as many Lambda
// instances) share one provider quota but no rate store (each counts in its own memory, as
// separate processes would). Each obeys its configured rpm, so together they send N times the
// limit; reading the provider's x-ratelimit-* headers brings the provider-side rate back to about
// the limit (the excess left is about one in-flight call per instance per window). The shared
// store that makes it a hard bound: llm-rate-limit-store.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startFakeServer } from '../helpers/fake-openai-server.ts';
import { LlmClient } from '../../lib/llm/client.ts';
import { MemoryRateLimitStore } from '../../lib/llm/rate-limit-store.ts';

const INSTANCES = 6;
const CALLS = 50;
const BUDGET = 40; // a provider's limit is far above the instance count
const WINDOW_MS = 400;
const RPM = (BUDGET * 60_000) / WINDOW_MS; // each instance is configured with the key's whole limit

async function run(headers: boolean, after: (fn: () => unknown) => void) {
  // enforce: false, so the server counts what the clients send rather than refusing it.
  const s = await startFakeServer({ quota: { requests: BUDGET, windowMs: WINDOW_MS, enforce: false, headers }, latencyMs: 20 });
  const clients = Array.from({ length: INSTANCES }, () =>
    new LlmClient('unify', { baseURL: s.baseURL, model: 'qwen', rpm: RPM, concurrency: 4, timeoutMs: 5_000 }, { rateLimits: new MemoryRateLimitStore() }));
  after(async () => {
    for (const c of clients) c.close();
    await s.close();
  });
  const t0 = performance.now();
  await Promise.all(clients.flatMap((c, i) => Array.from({ length: CALLS }, (_, j) => c.complete({ messages: [{ role: 'user', content: `i${i} c${j}` }] }))));
  const wallMs = performance.now() - t0;
  const windows = [...s.stats.arrivalsPerWindow];
  const holds = clients.reduce((n, c) => n + c.gate.holds, 0);
  // Complete windows only (the last is cut short when the work ends).
  const full = windows.slice(0, -1);
  return { windows, maxPerWindow: Math.max(...windows), perSecond: (s.stats.total / wallMs) * 1000, total: s.stats.total, holds, full };
}

test(`${INSTANCES} instances against one quota: with the headers the provider sees about its limit (without them: printed)`, async (t) => {
  const without = await run(false, (fn) => t.after(fn));
  const withHeaders = await run(true, (fn) => t.after(fn));
  const limitPerSecond = (BUDGET * 1000) / WINDOW_MS;
  console.log(`provider-side rate, ${INSTANCES} instances, limit ${limitPerSecond}/s: without headers ${without.perSecond.toFixed(1)}/s (max ${without.maxPerWindow} per window of ${BUDGET}), with headers ${withHeaders.perSecond.toFixed(1)}/s (max ${withHeaders.maxPerWindow}), windows ${JSON.stringify(without.windows)} vs ${JSON.stringify(withHeaders.windows)}`);
  assert.equal(without.total, INSTANCES * CALLS);
  assert.equal(withHeaders.total, INSTANCES * CALLS, 'every call sent once, none lost');
  // How far the instances overshoot WITHOUT the headers depends on how fast this machine can send
  // (3.7-3.9x the limit measured idle): printed above, not asserted, so a loaded CI machine cannot
  // fail it. What is asserted are upper bounds with the headers, which a slower machine only helps.
  // The residual excess is what was in flight while the picture was stale: at most each
  // instance's concurrency (4) at a window's start, about one call per instance later.
  assert.ok(withHeaders.maxPerWindow <= BUDGET + 4 * INSTANCES, `with the headers: max ${withHeaders.maxPerWindow} per window`);
  const meanFull = withHeaders.full.reduce((a, b) => a + b, 0) / Math.max(1, withHeaders.full.length);
  assert.ok(meanFull <= BUDGET + 2 * INSTANCES, `mean per full window ${meanFull.toFixed(1)} (budget ${BUDGET})`);
  assert.ok(withHeaders.holds > 0);
  assert.ok(withHeaders.perSecond <= 1.4 * (BUDGET * 1000) / WINDOW_MS, `provider-side rate ${withHeaders.perSecond.toFixed(1)}/s`);
});
