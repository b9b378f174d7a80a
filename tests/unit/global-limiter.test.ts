// GlobalLimiter over the in-process store, on a clock its sleeps advance (no real waiting): leases,
// what a refused claim learns, the guard at a window's end, tokens.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GlobalLimiter } from '../../lib/llm/global-limiter.ts';
import { MemoryRateLimitStore, rateScope } from '../../lib/llm/rate-limit-store.ts';
import { countersOf } from '../../lib/aws/dynamo-rate-limit-store.ts';

const WINDOW = 60_000;

function clock(startMs: number) {
  const c = { t: startMs, slept: 0, now: () => c.t, sleep: async (ms: number) => { c.t += ms; c.slept++; } };
  return c;
}

/** Tickets a limiter gets before it has to wait for another window. */
async function drain(l: GlobalLimiter, c: ReturnType<typeof clock>, tokens = 0): Promise<number> {
  let n = 0;
  const w = Math.floor(c.t / WINDOW);
  for (;;) {
    const before = c.slept;
    const ticket = await l.acquire(tokens);
    if (c.slept !== before || ticket.window !== w) return n;
    n++;
  }
}

test('leases of 12 out of 100: nine instances get exactly 100 in a window; a refusal that says what is left costs one more write, then none', async () => {
  const store = Object.assign(new MemoryRateLimitStore(), { leaseRequests: 12 });
  const c = clock(Date.UTC(2026, 0, 1, 0, 0, 1));
  const scope = rateScope('https://api.example.com/v1/', 'KEY');
  const ls = Array.from({ length: 9 }, () => new GlobalLimiter(store, scope, { rpm: 100, tpm: 0 }, { now: c.now, sleep: c.sleep, random: () => 0 }));
  // Each takes one lease's worth first (8 x 12 = 96), then the ninth takes the rest.
  const got: number[] = [];
  for (const l of ls.slice(0, 8)) for (let i = 0; i < 12; i++) await l.acquire(0);
  const start = c.t;
  got.push(await drain(ls[8], c));
  assert.equal(got[0], 4, 'the ninth gets what is left: 100 - 96');
  // lease refused (used 96) -> claim of 4 granted; the fifth call: refused (used 100) -> full, no
  // other write this window -> a lease in the next
  assert.deepEqual([ls[8].stats.claims, ls[8].stats.granted, ls[8].stats.refused], [4, 2, 2]);
  assert.ok(c.t > start, 'it waited for the next window');
  // An instance that already knows the window is full asks no more.
  const other = ls[0];
  const before = other.stats.claims;
  const t0 = c.t;
  await other.acquire(0); // its lease is spent; the window it is in now is new: one claim
  assert.equal(other.stats.claims, before + 1);
  assert.equal(c.t, t0, 'a new window: no wait');
});

test('no call is sent in the last 250 ms of a window (the guard): it waits for the next', async () => {
  const store = new MemoryRateLimitStore();
  const end = Date.UTC(2026, 0, 1, 0, 1, 0);
  const c = clock(end - 100);
  const l = new GlobalLimiter(store, 's', { rpm: 10, tpm: 0 }, { now: c.now, sleep: c.sleep, random: () => 0 });
  const ticket = await l.acquire(0);
  assert.equal(ticket.window, end / WINDOW);
  assert.ok(c.t >= end);
});

test('tokens: a window holds tpm of estimates; a call above the whole tpm takes a window instead of hanging; usage above the estimate is owed', async () => {
  const store = new MemoryRateLimitStore();
  const c = clock(Date.UTC(2026, 0, 1, 0, 0, 1));
  const l = new GlobalLimiter(store, 's', { rpm: 0, tpm: 1000 }, { now: c.now, sleep: c.sleep, random: () => 0 });
  assert.equal(await drain(l, c, 100), 10);
  const big = await l.acquire(5000); // more than a window's tokens
  assert.equal(big.tokens, 1000);
  // A call that used 300 tokens against an estimate of 100 leaves 200 owed by the lease.
  const c2 = clock(Date.UTC(2026, 0, 1, 0, 10, 1));
  const l2 = new GlobalLimiter(new MemoryRateLimitStore(), 's', { rpm: 0, tpm: 1000 }, { now: c2.now, sleep: c2.sleep });
  const t = await l2.acquire(100);
  l2.settle(t, 300);
  assert.equal(await drain(l2, c2, 100), 7, '1000 - 100 - 200 owed = 7 more calls');
});

test('one key for every client of the same base URL and key variable; the key itself is never part of it', () => {
  assert.equal(rateScope('https://api.openai.com/v1', 'OPENAI_API_KEY'), rateScope('https://api.openai.com/v1/', 'OPENAI_API_KEY'));
  assert.notEqual(rateScope('https://api.openai.com/v1', 'OPENAI_API_KEY'), rateScope('https://api.openai.com/v1', 'OTHER_KEY'));
  assert.match(rateScope('http://x/v1', 'K'), /^[0-9a-f]{24}$/);
});

test('a refused DynamoDB claim reads the counters from the returned item, marshalled or not (dynalite returns none)', () => {
  assert.deepEqual(countersOf({ pk: { S: 'RATE#x#1' }, requests: { N: '96' }, tokens: { N: '1200' } }), { requests: 96, tokens: 1200 });
  assert.deepEqual(countersOf({ requests: 96, tokens: 0 }), { requests: 96, tokens: 0 });
  assert.equal(countersOf(undefined), null);
  assert.equal(countersOf({ requests: { N: 'x' } }), null);
});

test('a ticket given back (the call was not sent) serves the next call of its window without a claim; after the window it is gone', async () => {
  const c = clock(Date.UTC(2026, 0, 1, 0, 0, 1));
  const l = new GlobalLimiter(new MemoryRateLimitStore(), 's', { rpm: 5, tpm: 0 }, { now: c.now, sleep: c.sleep, random: () => 0 });
  const t = await l.acquire(0);
  l.release(t);
  assert.equal(await drain(l, c), 5, 'the window still holds all 5');
  const stale = { window: t.window, tokens: 0 };
  l.release(stale); // a ticket of a window that has passed
  assert.equal(await drain(l, c), 4, 'the next window: 5 - the one drain took at its start');
});
