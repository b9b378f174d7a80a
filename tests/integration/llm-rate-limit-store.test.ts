// Global LLM limits as a hard bound: 10 LlmClient instances (each in its own process with its own
// DynamoDB client and lease, as 10 Lambda instances) claim the key's requests and tokens in
// DynamoDB (dynalite: the real protocol, conditional UpdateItem) before sending, against the fake
// server's shared quota counted per window on its side. Also: window roll-over, a crashed
// instance's lease, a failing store, the in-process store of a local run, and the DynamoDB cost.
import { test } from 'node:test';
import { loadavg } from 'node:os';
import assert from 'node:assert/strict';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { startFakeServer, type FakeRequest } from '../helpers/fake-openai-server.ts';
import { startDynalite } from '../helpers/aws-emulators.ts';
import { LlmClient } from '../../lib/llm/client.ts';
import { GlobalLimiter } from '../../lib/llm/global-limiter.ts';
import { MemoryRateLimitStore, rateScope, type ClaimResult, type RateClaim, type RateLimitStore } from '../../lib/llm/rate-limit-store.ts';
import { DynamoRateLimitStore, DEFAULT_RATE_LEASE } from '../../lib/aws/dynamo-rate-limit-store.ts';
import { forkInstances } from '../helpers/rate-limit-instance.ts';
import { tableDefinition } from '../../lib/aws/table.ts';
import { estimateTokens, buildWireRequest } from '../../lib/llm/request.ts';
import { LlmEndpointConfigSchema } from '../../lib/llm/config.ts';
import prices from '../../lib/aws/prices.json' with { type: 'json' };

const TABLE = 'caco-state';
const INSTANCES = 10;
const WINDOW_MS = 2_000;
// The end of a window no call is sent in: it must cover the time from the claim to the arrival at
// the server. 100 ms (the default's 5%) was not enough at load 30 (10 processes sending to a
// server in the process that also runs dynalite: 1-2 calls a window arrived in the next one).
const GUARD_MS = 400;
// Requests per window: low enough that 10 instances on a loaded 2-core machine are held back.
const BUDGET = 24;
const CALLS_PER_CANDIDATE = 2.8;

const prompt = (i: number, j: number) => `instance ${i} call ${j}`;

function dollarsPerMillionCandidates(writesPerCall: number): number {
  return (writesPerCall * CALLS_PER_CANDIDATE * 1e6 * prices.dynamodb.onDemandPerMillionWriteUnits) / 1e6;
}

test(`${INSTANCES} instances (processes), one key, DynamoDB leases: the provider never sees more than the limit in a window`, { timeout: 300_000 }, async (t) => {
  const dyn = await startDynalite(TABLE);
  const warm = await startFakeServer({});
  const instances = await forkInstances(Array.from({ length: INSTANCES }, (_, id) => ({ id, warmURL: warm.baseURL, dynamo: dyn.clientOptions, table: TABLE })));
  t.after(async () => {
    instances.kill();
    await warm.close();
    await dyn.stop();
  });

  async function phase(opts: { headers: boolean; calls: number; tpmCalls?: number }) {
    // Arrival time of each call at the server (its prompt is unique), read when the server takes it.
    const arrivedAt = new Map<string, number>();
    const latencyMs = (req: FakeRequest) => {
      arrivedAt.set(req.body.messages[0].content, Date.now());
      return 20;
    };
    const s = await startFakeServer({ quota: { requests: BUDGET, windowMs: WINDOW_MS, enforce: false, headers: opts.headers, alignToEpoch: true }, latencyMs });
    try {
      const base = { baseURL: s.baseURL, model: 'qwen', max_tokens: 40, concurrency: 8, timeoutMs: 10_000 };
      const estimate = estimateTokens(buildWireRequest(LlmEndpointConfigSchema.parse(base), { messages: [{ role: 'user', content: prompt(0, 0) }] }));
      const rpm = (BUDGET * 60_000) / WINDOW_MS;
      // tpm: as many calls' estimates per window as `tpmCalls` (below the request budget: tokens bind).
      const tpm = opts.tpmCalls ? (opts.tpmCalls * estimate * 60_000) / WINDOW_MS : 0;
      const t0 = performance.now();
      const reports = await instances.run({ endpoint: { ...base, rpm, tpm }, windowMs: WINDOW_MS, guardMs: GUARD_MS, calls: opts.calls });
      const wallMs = performance.now() - t0;
      const windows = [...s.stats.arrivalsPerWindow];
      // What the instances sent by the window they claimed it in (client side, summed over instances).
      const claimed = new Map<number, number>();
      for (const r of reports) for (const [w, n] of Object.entries(r.ticketsPerWindow)) claimed.set(Number(w), (claimed.get(Number(w)) ?? 0) + n);
      const inner = windows.slice(1, -1); // the first and last windows are partial
      // Calls that reached the server in a later window than the one they left in: they spent
      // longer than the guard between the client and the server (the machine's load, not a count).
      const first = Math.min(...arrivedAt.values());
      const firstWindow = Math.floor(first / WINDOW_MS);
      const lateInto = windows.map(() => 0);
      let maxTransitMs = 0;
      for (const r of reports) {
        for (const [p, sent] of Object.entries(r.sentAt)) {
          const arrived = arrivedAt.get(p)!;
          maxTransitMs = Math.max(maxTransitMs, arrived - sent);
          if (Math.floor(sent / WINDOW_MS) < Math.floor(arrived / WINDOW_MS)) lateInto[Math.floor(arrived / WINDOW_MS) - firstWindow]++;
        }
      }
      return {
        windows,
        lateInto,
        maxTransitMs,
        claimed: [...claimed.entries()].sort((a, b) => a[0] - b[0]).map(([, n]) => n),
        tokens: [...s.stats.tokensPerWindow],
        total: s.stats.total,
        maxPerWindow: Math.max(...windows),
        meanInner: inner.length ? inner.reduce((a, b) => a + b, 0) / inner.length : NaN,
        perSecond: (s.stats.total / wallMs) * 1000,
        writesPerCall: reports.reduce((n, r) => n + r.writes, 0) / s.stats.total,
        waits: reports.reduce((n, r) => n + r.stats.waits, 0),
        estimate,
        lease: reports[0].lease,
      };
    } finally {
      await s.close();
    }
  }

  for (const headers of [false, true]) {
    await t.test(`${headers ? 'with' : 'without'} x-ratelimit headers`, async () => {
      const calls = 10;
      const r = await phase({ headers, calls });
      console.log(
        `[${headers ? 'headers' : 'no headers'}] ${INSTANCES} instances, limit ${BUDGET} per ${WINDOW_MS} ms (${(BUDGET * 1000) / WINDOW_MS}/s, lease ${r.lease}): ` +
          `provider-side per window ${JSON.stringify(r.windows)} (claimed ${JSON.stringify(r.claimed)}), max ${r.maxPerWindow}, mean over inner windows ${r.meanInner.toFixed(1)}, ` +
          `${r.perSecond.toFixed(1)}/s over the run's wall time; DynamoDB writes per LLM call ${r.writesPerCall.toFixed(3)}; ` +
          `calls that arrived a window late ${JSON.stringify(r.lateInto)} (longest client->server ${r.maxTransitMs} ms, guard ${GUARD_MS} ms); load ${loadavg()[0].toFixed(1)}`,
      );
      assert.equal(r.total, INSTANCES * calls, 'every call sent once, none lost');
      assert.ok(Math.max(...r.claimed) <= BUDGET, `claimed per window ${JSON.stringify(r.claimed)}`);
      // Provider-side, per window: at most the limit, except calls that took longer than the guard
      // to get from the client to the server (none when the machine keeps up; at load 45, with 10
      // processes starved of CPU, up to 4.9 s and 13 of 100 calls: printed above, not asserted).
      r.windows.forEach((n, w) => assert.ok(n - r.lateInto[w] <= BUDGET, `hard bound: window ${w} got ${n} (${r.lateInto[w]} late) of ${BUDGET}`));
      assert.ok(r.windows.length >= 4, 'the work spans several windows (it was rate-bound)');
      assert.ok(r.meanInner <= BUDGET);
      assert.ok(r.waits > 0, 'instances waited for later windows');
    });
  }

  await t.test('tokens per minute binding: at most tpm\'s worth of estimated tokens per window', async () => {
    const tpmCalls = 12; // a window's tokens pay for 12 calls' estimates, its requests for 24
    const r = await phase({ headers: false, calls: 6, tpmCalls });
    console.log(`[tpm] estimate ${r.estimate} tokens per call, ${tpmCalls * r.estimate} per window: calls per window ${JSON.stringify(r.windows)} (claimed ${JSON.stringify(r.claimed)}), tokens used per window ${JSON.stringify(r.tokens)}`);
    assert.equal(r.total, INSTANCES * 6);
    // Every call claimed its estimate: at most tpmCalls calls per window, whatever they really used.
    assert.ok(r.maxPerWindow <= tpmCalls, `max ${r.maxPerWindow} calls per window`);
    assert.ok(Math.max(...r.tokens) <= tpmCalls * r.estimate);
  });
});

/** A clock the limiter reads and that its sleeps advance: windows pass without waiting for them. */
function manualClock(startMs: number) {
  const c = { t: startMs, slept: 0, now: () => c.t, sleep: async (ms: number) => { c.t += ms; c.slept++; } };
  return c;
}

/** Tickets one limiter gets in the current window before it would have to wait. */
async function ticketsUntilWait(l: GlobalLimiter, clock: ReturnType<typeof manualClock>, tokens = 0): Promise<number> {
  let n = 0;
  for (;;) {
    const before = clock.slept;
    const w = Math.floor(clock.t / l.windowMs);
    const ticket = await l.acquire(tokens);
    if (clock.slept !== before || ticket.window !== w) return n;
    n++;
  }
}

test('window roll-over, a crashed instance, a failing store: the counters never pass the limit, and nothing leaks past a window', { timeout: 60_000 }, async (t) => {
  const dyn = await startDynalite(TABLE);
  t.after(() => dyn.stop());
  const scope = rateScope('https://api.example.com/v1', 'OPENAI_API_KEY');
  const limits = { rpm: 64, tpm: 0 }; // 64 per one-minute window; leases of 8 (an eighth)
  const clock = manualClock(Date.UTC(2026, 0, 1, 12, 0, 5));
  const mk = (store: RateLimitStore) => new GlobalLimiter(store, scope, limits, { now: clock.now, sleep: clock.sleep, random: () => 0 });

  // A crashes right after claiming its first lease (8 requests, one of them used).
  const crashed = mk(new DynamoRateLimitStore(dyn.clients.doc, TABLE));
  await crashed.acquire(0);
  assert.equal(crashed.lease, 8);
  // B gets what is left of the window and no more: 64 - 8.
  const b = mk(new DynamoRateLimitStore(dyn.clients.doc, TABLE));
  assert.equal(await ticketsUntilWait(b, clock), 64 - 8);
  // The wait took B into the next window (that acquire's ticket is for it): the whole limit again.
  assert.equal(await ticketsUntilWait(b, clock), 64 - 1);
  console.log(`[roll-over] B: ${b.stats.claims} claims (${b.stats.refused} refused) for ${64 - 8 + 64} requests over two windows`);

  // A store that fails (throttling, an outage): calls wait with backoff and go out only once a
  // claim succeeds. Here the table does not exist yet (DynamoDB answers ResourceNotFoundException)
  // until the fourth claim creates it.
  const otherTable = 'caco-state-later';
  const real = new DynamoRateLimitStore(dyn.clients.doc, otherTable);
  let failures = 0;
  const failing: RateLimitStore = {
    leaseRequests: real.leaseRequests,
    async claim(c: RateClaim): Promise<ClaimResult> {
      try {
        return await real.claim(c);
      } catch (err) {
        if (++failures === 3) await dyn.clients.dynamo.send(new CreateTableCommand(tableDefinition(otherTable)));
        throw err;
      }
    },
  };
  const c = mk(failing);
  const t0 = clock.t;
  await c.acquire(0);
  assert.equal(failures, 3);
  assert.equal(c.stats.errors, 3);
  assert.equal(clock.t - t0, 25 + 50 + 100, 'backoff 50 ms doubling, jittered down to half'); // random() = 0
  assert.equal(await ticketsUntilWait(c, clock), 64 - 1, 'after the outage: the window limit, not more');
});

test('the local run: every client of one key in the process shares the in-process counters (roles sharing a key share its limit)', { timeout: 60_000 }, async (t) => {
  const windowMs = 1_000;
  const budget = 12;
  const s = await startFakeServer({ quota: { requests: budget, windowMs, enforce: false, alignToEpoch: true }, latencyMs: 5 });
  const store = new MemoryRateLimitStore();
  const cfg = { baseURL: s.baseURL, model: 'qwen', rpm: (budget * 60_000) / windowMs, concurrency: 8 };
  // Two roles, one key: each would send the whole budget per window on its own.
  const roles = ['reverse', 'solve'].map((r) => new LlmClient(r, cfg, { rateLimits: store, rateWindowMs: windowMs }));
  t.after(async () => {
    roles.forEach((c) => c.close());
    await s.close();
  });
  await Promise.all(roles.flatMap((c, i) => Array.from({ length: 18 }, (_, j) => c.complete({ messages: [{ role: 'user', content: prompt(i, j) }] }))));
  const windows = s.stats.arrivalsPerWindow;
  console.log(`[in-process] 2 roles, one key, ${budget} per ${windowMs} ms: per window ${JSON.stringify(windows)}; claims ${store.claims}`);
  assert.equal(s.stats.total, 36);
  assert.ok(Math.max(...windows) <= budget, `max ${Math.max(...windows)} per window`);
  assert.equal(roles[0].limiter!.lease, 1, 'in memory a claim is free: one request at a time, nothing unused');
});

/**
 * Limiters alone (no HTTP), in real time: `instances` each keep `inFlight` calls of `callMs` going
 * for `windows` windows. The calls per instance per window are what an LLM Lambda makes at paper
 * scale (64 in flight, 20 s latency: ~190 per one-minute window), time compressed 60x.
 */
async function leaseCost(store: () => RateLimitStore, o: { instances: number; perWindow: number; windowMs: number; inFlight: number; callMs: number; windows: number }) {
  const stores = Array.from({ length: o.instances }, store);
  const limiters = stores.map((st) => new GlobalLimiter(st, 'cost', { rpm: (o.perWindow * 60_000) / o.windowMs, tpm: 0 }, { windowMs: o.windowMs }));
  const perWindow = new Map<number, number>();
  const end = (Math.floor(Date.now() / o.windowMs) + 1 + o.windows) * o.windowMs;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  await sleep(end - o.windows * o.windowMs - Date.now()); // start on a window's edge
  let calls = 0;
  await Promise.all(limiters.flatMap((l) => Array.from({ length: o.inFlight }, async () => {
    for (;;) {
      const t = await l.acquire(0);
      if (Date.now() >= end) return; // (a ticket drawn after the end is not counted as a call)
      perWindow.set(t.window, (perWindow.get(t.window) ?? 0) + 1);
      calls++;
      await sleep(o.callMs);
    }
  })));
  const claims = limiters.reduce((n, l) => n + l.stats.claims, 0);
  return { calls, claims, writesPerCall: claims / calls, perWindow: [...perWindow.values()], lease: limiters[0].lease };
}

test('DynamoDB writes per LLM call and $ per 1M candidates at the default lease, bound or not by the limit', { timeout: 120_000 }, async (t) => {
  const dyn = await startDynalite(TABLE);
  t.after(() => dyn.stop());
  const shape = { instances: 10, windowMs: 1_000, inFlight: 16, callMs: 80, windows: 3 }; // ~190 calls per instance per window
  const rows: string[] = [];
  for (const [name, store] of [
    ['DynamoDB (dynalite: a refusal does not say what is left)', () => new DynamoRateLimitStore(dyn.clients.doc, TABLE)],
    ['counters that say what is left on refusal (as DynamoDB does with ReturnValuesOnConditionCheckFailure)', () => Object.assign(new MemoryRateLimitStore(), { leaseRequests: DEFAULT_RATE_LEASE })],
  ] as const) {
    const shared = (name as string).startsWith('counters') ? store() : null; // one in-memory table for all
    for (const perWindow of [1_000, 4_000]) {
      const r = await leaseCost(shared ? () => shared : store, { ...shape, perWindow });
      const usd = dollarsPerMillionCandidates(r.writesPerCall);
      const binding = Math.max(...r.perWindow) === perWindow ? 'reached' : 'not reached';
      rows.push(`${name}, limit ${perWindow}/window (${binding}), lease ${r.lease}: ${r.calls} calls in ${JSON.stringify(r.perWindow)}, ${r.claims} writes, ${r.writesPerCall.toFixed(4)} per call = $${usd.toFixed(3)} per 1M candidates`);
      assert.ok(Math.max(...r.perWindow) <= perWindow, `per window ${JSON.stringify(r.perWindow)}`);
      assert.equal(r.lease, DEFAULT_RATE_LEASE);
      assert.ok(usd < 0.2, rows.at(-1));
    }
  }
  console.log(`[cost] ${CALLS_PER_CANDIDATE} calls per candidate, $${prices.dynamodb.onDemandPerMillionWriteUnits}/M writes, load ${loadavg()[0].toFixed(1)}:\n  ${rows.join('\n  ')}`);
});
