// The provider's x-ratelimit-* headers: parsing (OpenAI's Go-style durations) and the gate that
// holds an endpoint's calls while the provider says the quota is spent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseResetDuration, readRateHeaders } from '../../lib/llm/rate-headers.ts';
import { MAX_HOLD_MS, ProviderGate } from '../../lib/llm/provider-gate.ts';

test('reset durations as OpenAI writes them', () => {
  assert.equal(parseResetDuration('1s'), 1000);
  assert.equal(parseResetDuration('6m0s'), 360_000);
  assert.equal(parseResetDuration('20ms'), 20);
  assert.equal(parseResetDuration('1h2m3.5s'), 3_723_500);
  assert.equal(parseResetDuration('0.25s'), 250);
  assert.equal(parseResetDuration('2'), 2000, 'a bare number is seconds');
  for (const bad of ['', 'soon', '1x', '5s later', 's', null, undefined]) assert.equal(parseResetDuration(bad as string | null), null, String(bad));
});

test('headers: all four read; none present is null; junk values are null', () => {
  const h = readRateHeaders(new Headers({
    'x-ratelimit-remaining-requests': '0',
    'x-ratelimit-remaining-tokens': '1500',
    'x-ratelimit-reset-requests': '120ms',
    'x-ratelimit-reset-tokens': '6m0s',
  }));
  assert.deepEqual(h, { remainingRequests: 0, remainingTokens: 1500, resetRequestsMs: 120, resetTokensMs: 360_000 });
  assert.equal(readRateHeaders(new Headers({ 'content-type': 'application/json' })), null);
  assert.equal(readRateHeaders(undefined), null);
  assert.deepEqual(readRateHeaders(new Headers({ 'x-ratelimit-remaining-requests': 'many', 'x-ratelimit-reset-requests': '3s' })),
    { remainingRequests: null, remainingTokens: null, resetRequestsMs: 3000, resetTokensMs: null });
});

/** A gate on a fake clock whose sleeps advance the clock. */
function clockGate() {
  let t = 1000;
  const slept: number[] = [];
  const gate = new ProviderGate(() => t, async (ms) => { slept.push(ms); t += ms; });
  return { gate, slept, advance: (ms: number) => (t += ms), now: () => t };
}
const hdr = (p: Partial<{ remainingRequests: number; remainingTokens: number; resetRequestsMs: number; resetTokensMs: number }>) => ({
  remainingRequests: null, remainingTokens: null, resetRequestsMs: null, resetTokensMs: null, ...p,
});

test('gate: no headers seen, calls go at once', async () => {
  const { gate, slept } = clockGate();
  for (let i = 0; i < 5; i++) await gate.admit(100);
  assert.deepEqual(slept, []);
  assert.equal(gate.holds, 0);
});

test('gate: the remaining requests are spread over the time to the reset; none left waits for it', async () => {
  const { gate, now } = clockGate();
  gate.observe(hdr({ remainingRequests: 4, resetRequestsMs: 800 }));
  const t0 = now();
  const at: number[] = [];
  for (let i = 0; i < 5; i++) {
    await gate.admit(1);
    at.push(Math.round(now() - t0));
  }
  // 4 left over 800 ms: one every 800/4..; the fifth goes after the reset (quota unknown again).
  assert.deepEqual(at, [0, 267, 534, 800, 800]);
  gate.observe(hdr({ remainingRequests: 0, resetRequestsMs: 500 }));
  const t1 = now();
  await gate.admit(1);
  assert.equal(now() - t1, 500);
  assert.ok(gate.holds >= 2);
});

test('gate: fewer tokens left than the call needs holds until the token reset', async () => {
  const { gate, now } = clockGate();
  gate.observe(hdr({ remainingTokens: 300, resetTokensMs: 2000 }));
  const t0 = now();
  await gate.admit(200);
  assert.equal(now(), t0);
  await gate.admit(200);
  assert.equal(now() - t0, 2000);
});

test('gate: a 429 retry-after holds every call; a huge reset is capped', async () => {
  const { gate, now } = clockGate();
  gate.hold(750);
  const t0 = now();
  await gate.admit(1);
  assert.equal(now() - t0, 750);
  gate.observe(hdr({ remainingRequests: 0, resetRequestsMs: 3_600_000 }));
  const t1 = now();
  await gate.admit(1);
  assert.equal(now() - t1, MAX_HOLD_MS);
});

test('gate: remaining 0 without a reset waits a second, not forever and not zero', async () => {
  const { gate, now } = clockGate();
  gate.observe(hdr({ remainingRequests: 0 }));
  const t0 = now();
  await gate.admit(1);
  assert.equal(now() - t0, 1000);
});
