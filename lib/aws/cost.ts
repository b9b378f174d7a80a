// The AWS cost of a run, from what it recorded (the cost ledger: Lambda time and requests per
// function), at the list prices in prices.json. LLM tokens are not AWS costs: they are reported
// separately by the LLM layer. Also: scaling a measured run to $ per 1 million candidate programs
// with a modelled LLM latency (an emulated run replays a cassette, so its LLM waits cost nothing).
import { readFileSync } from 'node:fs';
import type { FunctionUsage } from './cost-ledger.ts';

export interface Prices {
  region: string;
  pricesAsOf: string;
  lambda: { arm64PerGbSecond: number; perMillionRequests: number };
  sqs: { standardPerMillionRequests: number };
  dynamodb: { onDemandPerMillionWriteUnits: number; onDemandPerMillionReadUnits: number };
  s3: { standardPutCopyPostListPer1000: number; standardGetPer1000: number };
}

export function loadPrices(path = new URL('./prices.json', import.meta.url)): Prices {
  return JSON.parse(readFileSync(path, 'utf8')) as Prices;
}

export interface CostLine {
  function: string;
  gbSeconds: number;
  lambdaCompute: number;
  lambdaRequests: number;
  /** The function's own sends, plus Lambda's SQS poller receiving and deleting each message. */
  sqsRequests: number;
  sqs: number;
  dynamodb: number;
  s3: number;
  total: number;
}

export interface CostReport {
  lines: CostLine[];
  total: number;
  prices: Pick<Prices, 'region' | 'pricesAsOf'>;
}

/** Lambda's SQS event source receives and deletes every message it delivers (batch size 1). */
export const POLLER_REQUESTS_PER_INVOCATION = 2;

export function gbSeconds(u: Pick<FunctionUsage, 'durationMs' | 'memoryMb'>): number {
  return (u.durationMs / 1000) * (u.memoryMb / 1024);
}

export function costOf(u: FunctionUsage, p: Prices): CostLine {
  const gbs = gbSeconds(u);
  const lambdaCompute = gbs * p.lambda.arm64PerGbSecond;
  const lambdaRequests = (u.invocations / 1e6) * p.lambda.perMillionRequests;
  const sqsRequests = u.sqsRequests + POLLER_REQUESTS_PER_INVOCATION * u.invocations;
  const sqs = (sqsRequests / 1e6) * p.sqs.standardPerMillionRequests;
  const dynamodb =
    (u.ddbWrite / 1e6) * p.dynamodb.onDemandPerMillionWriteUnits + (u.ddbRead / 1e6) * p.dynamodb.onDemandPerMillionReadUnits;
  const s3 = (u.s3Put / 1000) * p.s3.standardPutCopyPostListPer1000 + (u.s3Get / 1000) * p.s3.standardGetPer1000;
  return {
    function: u.function,
    gbSeconds: gbs,
    lambdaCompute,
    lambdaRequests,
    sqsRequests,
    sqs,
    dynamodb,
    s3,
    total: lambdaCompute + lambdaRequests + sqs + dynamodb + s3,
  };
}

export function runCost(usage: FunctionUsage[], p: Prices): CostReport {
  const lines = usage.map((u) => costOf(u, p)).sort((a, b) => a.function.localeCompare(b.function));
  return { lines, total: lines.reduce((s, l) => s + l.total, 0), prices: { region: p.region, pricesAsOf: p.pricesAsOf } };
}

export interface ScaleAssumptions {
  /** Mean latency of one LLM call, seconds (default 20). */
  llmLatencyS: number;
  /** LLM calls one invocation keeps in flight (the stack's CACO_LLM_CONCURRENCY, default 64). */
  callsInFlight: number;
  /** Memory of the LLM functions, MB (the stack's 512). */
  llmMemoryMb: number;
  /** Candidate programs the result is scaled to (default 1,000,000). */
  target: number;
}

export const DEFAULT_ASSUMPTIONS: ScaleAssumptions = { llmLatencyS: 20, callsInFlight: 64, llmMemoryMb: 512, target: 1_000_000 };

export interface MeasuredRun {
  usage: FunctionUsage[];
  /** Candidate programs the run generated (or unified). */
  candidates: number;
  /** LLM calls made by each function in the run (from the shards' llm|role|model|requests counters). */
  llmCalls: Record<string, number>;
}

export interface ScaledCost {
  report: CostReport;
  perTarget: number;
  assumptions: string[];
}

/**
 * Scales a measured run linearly per candidate program, replacing each LLM function's measured
 * time (near zero against a cassette) by the time it would wait on the LLM:
 * GB-seconds = calls x latency / calls in flight x memory (GB), plus the measured CPU time.
 */
export function scaleToTarget(m: MeasuredRun, a: ScaleAssumptions = DEFAULT_ASSUMPTIONS, p: Prices = loadPrices()): ScaledCost {
  if (m.candidates <= 0) throw new Error('cannot scale a run with no candidate programs');
  const k = a.target / m.candidates;
  const scaled: FunctionUsage[] = m.usage.map((u) => {
    const calls = (m.llmCalls[u.function] ?? 0) * k;
    const waitMs = calls > 0 ? (calls * a.llmLatencyS * 1000) / a.callsInFlight : 0;
    const memoryMb = calls > 0 ? a.llmMemoryMb : u.memoryMb;
    return {
      ...u,
      memoryMb,
      invocations: u.invocations * k,
      durationMs: u.durationMs * k + waitMs,
      s3Put: u.s3Put * k,
      s3Get: u.s3Get * k,
      sqsRequests: u.sqsRequests * k,
      ddbWrite: u.ddbWrite * k,
      ddbRead: u.ddbRead * k,
    };
  });
  const report = runCost(scaled, p);
  const llmFns = Object.entries(m.llmCalls).filter(([, n]) => n > 0);
  const assumptions = [
    `prices: ${p.region}, ${p.pricesAsOf}; Lambda arm64 $${p.lambda.arm64PerGbSecond}/GB-s, $${p.lambda.perMillionRequests}/M requests; ` +
      `SQS $${p.sqs.standardPerMillionRequests}/M; DynamoDB on-demand $${p.dynamodb.onDemandPerMillionWriteUnits}/M WRU, $${p.dynamodb.onDemandPerMillionReadUnits}/M RRU; ` +
      `S3 $${p.s3.standardPutCopyPostListPer1000}/1k PUT-class, $${p.s3.standardGetPer1000}/1k GET`,
    `scaled linearly from ${m.candidates} measured candidate programs to ${a.target.toLocaleString('en-US')}`,
    `LLM calls: mean latency ${a.llmLatencyS} s, ${a.callsInFlight} calls in flight per invocation, LLM functions at ${a.llmMemoryMb} MB`,
    ...llmFns.map(([f, n]) => `${f}: ${(n / m.candidates).toFixed(2)} LLM calls per candidate`),
    `SQS: each message sent is also received and deleted by Lambda's poller (${POLLER_REQUESTS_PER_INVOCATION} requests per invocation); idle long-polling not included`,
    'excluded: LLM tokens (reported separately), S3 storage, CloudWatch Logs, free tiers',
  ];
  return { report, perTarget: report.total, assumptions };
}

/**
 * Everything but the LLM wait, per 1M candidate programs, composed from bench:aws-scale runs on the
 * emulated stack: the request-priced parts as re-measured after issue 15 moved dedup out of
 * DynamoDB (S3 $1.00, DynamoDB $0.08, SQS $0.03; request counts do not depend on the machine's
 * load) plus the Lambda-time parts from the last idle run (the sandbox $0.6, the other functions'
 * own CPU ~$0.2). It was $2.9 while dedup held its index in DynamoDB ($1.3 of it).
 */
export const MEASURED_NON_LLM_PER_MILLION = 1.9;

/**
 * DynamoDB writes per LLM call of an endpoint with `rpm`/`tpm` (lib/aws/dynamo-rate-limit-store.ts:
 * one claim per lease of 16, plus refused claims when windows fill), as measured by
 * tests/integration/llm-rate-limit-store.test.ts: 0.066-0.093.
 */
export const RATE_LIMIT_WRITES_PER_CALL = 0.09;

/** A run's AWS cost before it runs: the LLM functions' wait from the cost model, the rest as measured. */
export function estimateAwsCost(
  r: { candidates: number; llmCalls: number; llmLatencyS: number; rateLimitedCalls?: number },
  p: Prices = loadPrices(),
  a: Pick<ScaleAssumptions, 'callsInFlight' | 'llmMemoryMb'> = DEFAULT_ASSUMPTIONS,
): { total: number; llmWait: number; rest: number; assumptions: string[] } {
  const gbs = (r.llmCalls * r.llmLatencyS) / a.callsInFlight * (a.llmMemoryMb / 1024);
  const llmWait = gbs * p.lambda.arm64PerGbSecond;
  // Global rpm/tpm: the endpoints' calls claimed in leases in the stack's table.
  const rateWrites = (r.rateLimitedCalls ?? 0) * RATE_LIMIT_WRITES_PER_CALL;
  const rest = (r.candidates / 1e6) * MEASURED_NON_LLM_PER_MILLION + (rateWrites / 1e6) * p.dynamodb.onDemandPerMillionWriteUnits;
  return {
    total: llmWait + rest,
    llmWait,
    rest,
    assumptions: [
      `AWS (if run there): Lambda waiting on the LLM = calls x ${r.llmLatencyS.toFixed(1)} s latency / ${a.callsInFlight} calls in flight x ${a.llmMemoryMb} MB at $${p.lambda.arm64PerGbSecond}/GB-s (${p.region}, ${p.pricesAsOf}); ` +
        `everything else $${MEASURED_NON_LLM_PER_MILLION} per 1M candidate programs as measured on the emulated stack (bench:aws-scale); locally nothing but the tokens is paid`,
      ...(rateWrites > 0
        ? [`rpm/tpm hold per key across the stack: ${RATE_LIMIT_WRITES_PER_CALL} DynamoDB writes per limited LLM call (leases of 16), $${((rateWrites / 1e6) * p.dynamodb.onDemandPerMillionWriteUnits).toFixed(2)}`]
        : []),
    ],
  };
}
