// The cost model's arithmetic, against hand-computed figures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { costOf, gbSeconds, loadPrices, runCost, scaleToTarget, type Prices } from '../../lib/aws/cost.ts';
import type { FunctionUsage } from '../../lib/aws/cost-ledger.ts';

const prices: Prices = {
  region: 'test-1',
  pricesAsOf: 'test',
  lambda: { arm64PerGbSecond: 0.00001, perMillionRequests: 0.2 },
  sqs: { standardPerMillionRequests: 0.4 },
  dynamodb: { onDemandPerMillionWriteUnits: 1, onDemandPerMillionReadUnits: 0.25 },
  s3: { standardPutCopyPostListPer1000: 0.005, standardGetPer1000: 0.0004 },
};

const usage = (f: string, o: Partial<FunctionUsage> = {}): FunctionUsage => ({
  function: f,
  invocations: 0,
  durationMs: 0,
  memoryMb: 1024,
  s3Put: 0,
  s3Get: 0,
  sqsRequests: 0,
  ddbWrite: 0,
  ddbRead: 0,
  ...o,
});

const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-12 + 1e-9 * Math.abs(b), `${what}: ${a} != ${b}`);

test('GB-seconds: duration x memory in GB', () => {
  assert.equal(gbSeconds({ durationMs: 2000, memoryMb: 512 }), 1);
  assert.equal(gbSeconds({ durationMs: 500, memoryMb: 4096 }), 2);
});

test('one function: each AWS service priced from its counters', () => {
  const line = costOf(
    usage('execute', { invocations: 1000, durationMs: 1_000_000, memoryMb: 2048, s3Put: 2000, s3Get: 5000, sqsRequests: 1000, ddbWrite: 3_000_000, ddbRead: 4_000_000 }),
    prices,
  );
  close(line.gbSeconds, 2000, 'GB-s');
  close(line.lambdaCompute, 0.02, 'compute');
  close(line.lambdaRequests, 0.0002, 'requests');
  assert.equal(line.sqsRequests, 3000); // 1000 sends + receive and delete of 1000 messages
  close(line.sqs, 0.0012, 'sqs');
  close(line.dynamodb, 3 + 1, 'dynamodb');
  close(line.s3, 0.01 + 0.002, 's3');
  close(line.total, 0.02 + 0.0002 + 0.0012 + 4 + 0.012, 'total');
});

test('a run: lines per function, sorted, summed', () => {
  const r = runCost([usage('filter', { ddbWrite: 1e6 }), usage('assemble', { s3Put: 1000 })], prices);
  assert.deepEqual(r.lines.map((l) => l.function), ['assemble', 'filter']);
  close(r.total, 1 + 0.005, 'total');
});

test('scaling: linear per candidate; LLM functions wait latency x calls / in-flight at their memory', () => {
  const measured = {
    candidates: 100,
    usage: [
      usage('execute', { invocations: 2, durationMs: 1000, memoryMb: 4096, ddbWrite: 100 }),
      usage('generate', { invocations: 2, durationMs: 200, memoryMb: 512 }),
    ],
    llmCalls: { generate: 100 },
  };
  const s = scaleToTarget(measured, { llmLatencyS: 20, callsInFlight: 50, llmMemoryMb: 512, target: 1000 }, prices);
  const exec = s.report.lines.find((l) => l.function === 'execute')!;
  close(exec.gbSeconds, 10 * 1 * 4, 'execute GB-s x10');
  close(exec.dynamodb, 1000 / 1e6, 'execute writes x10');
  const gen = s.report.lines.find((l) => l.function === 'generate')!;
  // 1000 calls x 20 s / 50 in flight = 400 s of waiting, + 2 s measured; at 0.5 GB
  close(gen.gbSeconds, (400 + 2) * 0.5, 'generate GB-s');
  close(s.perTarget, s.report.total, 'per target');
  assert.ok(s.assumptions.some((x) => x.includes('20 s') && x.includes('50 calls in flight')));
  assert.ok(s.assumptions.some((x) => x.includes('generate: 1.00 LLM calls per candidate')));
  assert.throws(() => scaleToTarget({ ...measured, candidates: 0 }), /no candidate programs/);
});

test('the price file loads and has every price the model uses', () => {
  const p = loadPrices();
  for (const v of [p.lambda.arm64PerGbSecond, p.lambda.perMillionRequests, p.sqs.standardPerMillionRequests, p.dynamodb.onDemandPerMillionWriteUnits, p.dynamodb.onDemandPerMillionReadUnits, p.s3.standardPutCopyPostListPer1000, p.s3.standardGetPer1000]) {
    assert.ok(typeof v === 'number' && v > 0);
  }
  assert.equal(p.region, 'us-east-1');
  assert.ok(p.pricesAsOf.length > 0);
});

test('the cost model assumes the calls in flight that run on Lambda: the stack cap, lowered by a run that sets less', async () => {
  const { runCallsInFlight } = await import('../../lib/aws/llm-concurrency.ts');
  const { parseRunConfig } = await import('../../lib/config.ts');
  const base = { baseURL: 'http://127.0.0.1:9/v1', model: 'm' };
  assert.equal(runCallsInFlight(parseRunConfig({ llm: { default: base } })), 64);
  assert.equal(runCallsInFlight(parseRunConfig({ llm: { default: { ...base, concurrency: 8 } } })), 8);
  assert.equal(runCallsInFlight(parseRunConfig({ llm: { default: { ...base, concurrency: 100 } } })), 64);
  assert.equal(runCallsInFlight(parseRunConfig({ llm: { default: base, solve: { ...base, concurrency: 4 } } })), 4);
});
