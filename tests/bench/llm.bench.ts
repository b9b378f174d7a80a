// npm run bench:llm [-- --quick | --seconds N]
// Our LLM client against the fake server (50 ms latency, a real 600 requests/min limit, 10% of
// requests answered 429 with Retry-After), then, as a baseline in the same run, the plain openai
// SDK with its own retries at the same concurrency. Targets: goodput >= 95% of the limit, zero
// lost requests, requests sent <= 1.15x the requests needed.
import OpenAI from 'openai';
import { startFakeServer, type FakeServer } from '../helpers/fake-openai-server.ts';
import { LlmClient } from '../../lib/llm/client.ts';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const secIdx = args.indexOf('--seconds');
const seconds = secIdx >= 0 ? Number(args[secIdx + 1]) : quick ? 15 : 60;
const RPM = 600;
const LATENCY_MS = 50;
const RATE_429 = 0.1;
const CONCURRENCY = 16;

const serverOptions = () => ({
  latencyMs: LATENCY_MS,
  rateLimit: { rpm: RPM },
  faults: { rates: { '429': RATE_429 }, retryAfterSeconds: 1 },
  seed: 42,
});
const ask = (i: number) => [{ role: 'user' as const, content: `problem ${i}: how many apples?` }];

interface Outcome {
  name: string;
  needed: number;
  ok: number;
  lost: number;
  sent: number;
  injected429: number;
  limit429: number;
  seconds: number;
  servedTwice: number;
}

function summarise(name: string, needed: number, ok: number, s: FakeServer, t0: number): Outcome {
  return {
    name,
    needed,
    ok,
    lost: needed - ok,
    sent: s.stats.total,
    injected429: s.stats.byOutcome['429'] ?? 0,
    limit429: s.stats.byOutcome['429_limit'] ?? 0,
    seconds: (performance.now() - t0) / 1000,
    servedTwice: s.repeatedKeys().length,
  };
}

async function ours(needed: number): Promise<Outcome> {
  const s = await startFakeServer(serverOptions());
  const c = new LlmClient('bench', { baseURL: s.baseURL, model: 'bench-model', rpm: RPM, concurrency: CONCURRENCY, maxRetries: 10, max_tokens: 64 });
  const t0 = performance.now();
  const rs = await Promise.allSettled(Array.from({ length: needed }, (_, i) => c.complete({ messages: ask(i) })));
  const ok = rs.filter((r, i) => r.status === 'fulfilled' && r.value.content === `echo: ${ask(i)[0].content}`).length;
  const out = summarise('ours (limiter + retries)', needed, ok, s, t0);
  console.log(`  breaker transitions: ${c.breaker.transitions.length}; client attempts ${c.usage.snapshot()[0].attempts}, retries ${c.usage.snapshot()[0].retries}`);
  c.close();
  await s.close();
  return out;
}

async function plainSdk(needed: number, maxRetries: number): Promise<Outcome> {
  const s = await startFakeServer(serverOptions());
  // The SDK's own retries honour Retry-After / retry-after-ms; it has no rate limiter.
  const sdk = new OpenAI({ baseURL: s.baseURL, apiKey: 'none', maxRetries });
  const t0 = performance.now();
  let next = 0;
  let ok = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < needed) {
        const i = next++;
        try {
          const r = await sdk.chat.completions.create({ model: 'bench-model', messages: ask(i), max_tokens: 64 });
          if (r.choices[0].message.content === `echo: ${ask(i)[0].content}`) ok++;
        } catch {
          // lost: the SDK gave up after its retries
        }
      }
    }),
  );
  const out = summarise(`plain SDK (maxRetries ${maxRetries})`, needed, ok, s, t0);
  await s.close();
  return out;
}

const needed = Math.round((RPM * seconds) / 60);
console.log(`bench:llm: fake server ${LATENCY_MS} ms latency, limit ${RPM} req/min, ${RATE_429 * 100}% injected 429 (Retry-After 1 s), concurrency ${CONCURRENCY}`);
console.log(`ours: ${needed} requests (~${seconds} s at the limit)...`);
const a = await ours(needed);
// Baselines run fewer requests to keep the bench bounded; their rates are per minute anyway.
// (Over a few seconds the server's one-second burst allowance lifts any client above the limit.)
const baseNeeded = Math.max(50, Math.round(needed / 4));
console.log(`baselines: ${baseNeeded} requests each...`);
const b = await plainSdk(baseNeeded, 2);
const b10 = await plainSdk(baseNeeded, 10);

const rows = [a, b, b10].map((o) => {
  const goodput = (o.ok / o.seconds) * 60;
  return {
    run: o.name,
    needed: o.needed,
    'ok': o.ok,
    lost: o.lost,
    'sent/needed': +(o.sent / o.needed).toFixed(3),
    '429 injected': o.injected429,
    '429 over limit': o.limit429,
    'goodput/min': +goodput.toFixed(1),
    'of limit': `${((goodput / RPM) * 100).toFixed(1)}%`,
    'served twice': o.servedTwice,
    seconds: +o.seconds.toFixed(1),
  };
});
console.table(rows);
const goodA = (a.ok / a.seconds) * 60 / RPM;
const sentA = a.sent / a.needed;
const checks = [
  [`goodput ${(goodA * 100).toFixed(1)}% of limit >= 95%`, goodA >= 0.95],
  [`lost ${a.lost} == 0`, a.lost === 0],
  [`sent/needed ${sentA.toFixed(3)} <= 1.15`, sentA <= 1.15],
  [`served twice ${a.servedTwice} == 0`, a.servedTwice === 0],
] as const;
for (const [what, pass] of checks) console.log(`${pass ? 'PASS' : 'FAIL'}  ${what}`);
console.log(
  `vs baseline: ${b.limit429} over-limit 429s provoked by the plain SDK vs ${a.limit429} by ours; ` +
    `sent/needed ${(b.sent / b.needed).toFixed(2)} vs ${sentA.toFixed(2)}; baseline lost ${b.lost} of ${b.needed}; ` +
    `with 10 retries the SDK loses ${b10.lost} but sends ${(b10.sent / b10.needed).toFixed(2)}x (${b10.limit429} over-limit 429s)`,
);
if (checks.some(([, pass]) => !pass)) process.exitCode = 1;
