// bench:aws-scale — the AWS cost of a realistic run, measured on the emulated stack and scaled to
// $ per 1 million candidate programs (tokens excluded).
//
//   npx tsx tests/bench/aws-scale.bench.ts [--candidates 1000] [--shard-size 100] [--latency 20]
//                                          [--packing-latency-ms 3000]
// (~1 min for 1,000 candidates; --packing-latency-ms adds a second run, ~2-3 min at 3000 ms.)
// Measured 2026-11-27: $24.0 (shards of 200) to $24.6 (shards of 100) per 1M candidates, of
// which $15.2 is the LLM response cache (one S3 GET + PUT per LLM call); see the what-ifs.
//
// Unlike bench:aws-cost (the offline demo: 79 candidates in shards of 10, a cassette, a 3 s
// infinite-loop timeout), this is synthesize mode at a production shard size: the fake LLM
// server (real HTTP, zero latency) serves templated, varied Caco programs (benchRule: ~8% bad in
// scheduled ways, some problems and answers rejected downstream), the sandbox at its default
// 10 s timeout, the real handlers on s3rver/dynalite/local-aws-sqs, one warm container per
// function (so the execute function pays ONE Pyodide cold start for the whole run: see the cold
// start line printed, which says what each further container would add).
//
// What is measured: each function's invocations, billed ms at the stack's memory size, S3
// PUT/GET, SQS requests, DynamoDB request units as the service reports them (the cost ledger).
// What is modelled: the LLM wait (zero here), replaced by scaleToTarget with calls x latency /
// calls in flight at the LLM functions' memory; all assumptions are printed.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { S3Client } from '@aws-sdk/client-s3';
import { createSandboxPool } from '../../lib/sandbox/pool.ts';
import { loadPrices, POLLER_REQUESTS_PER_INVOCATION, type CostLine } from '../../lib/aws/cost.ts';
import { CostLedger } from '../../lib/aws/cost-ledger.ts';
import { formatCost, runCostReport } from '../../lib/aws/remote.ts';
import { startFakeServer } from '../helpers/fake-openai-server.ts';
import { startAwsEmulators } from '../helpers/aws-emulators.ts';
import { createEmulatedStack, submitAndDrive } from '../helpers/emulated-stack.ts';
import { benchRule, exampleRecords } from './pipeline-fixtures/synth-rule.ts';

process.env.POWERTOOLS_METRICS_DISABLED = 'true';
process.env.POWERTOOLS_METRICS_NAMESPACE = 'CacoBench';
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';

const { values: args } = parseArgs({
  options: {
    candidates: { type: 'string', default: '1000' },
    'shard-size': { type: 'string', default: '100' },
    latency: { type: 'string', default: '20' },
    // A second run with the fake LLM answering after this many ms: measures how well an
    // invocation keeps its calls in flight (scaleToTarget assumes perfect packing).
    'packing-latency-ms': { type: 'string', default: '0' },
  },
});
const candidates = Number(args.candidates);
const shardSize = Number(args['shard-size']);
const latency = Number(args.latency);
const packingLatencyMs = Number(args['packing-latency-ms']);
const SEED_BASE = 1000;
const IN_FLIGHT = 64;
const prices = loadPrices();

// S3 requests by what they touch (the cost ledger counts them per function only): the SDK's send
// is wrapped for the run, every request booked under its command and a key class.
const s3Tally = new Map<string, number>();
const keyClass = (key: string) =>
  key.startsWith('cache/llm/') ? 'cache/llm/*' : key.replace(/^runs\/[^/]+\//, 'runs/<run>/').replace(/\/[^/]*$/, '/*');
const s3Send = S3Client.prototype.send;
S3Client.prototype.send = function (this: S3Client, command: { constructor: { name: string }; input: { Key?: string; Prefix?: string } }, ...rest: unknown[]) {
  const k = `${command.constructor.name.replace(/Command$/, '')} ${keyClass(command.input.Key ?? command.input.Prefix ?? '')}`;
  s3Tally.set(k, (s3Tally.get(k) ?? 0) + 1);
  return (s3Send as Function).call(this, command, ...rest);
} as typeof s3Send;

const dir = mkdtempSync(join(tmpdir(), 'caco-aws-scale-'));
const input = join(dir, 'examples.jsonl');
writeFileSync(input, exampleRecords().map((r) => JSON.stringify(r)).join('\n') + '\n');
const emu = await startAwsEmulators();

/** One synthesize run on a fresh emulated stack against the fake LLM at `latencyMs` per call. */
async function emulatedRun(name: string, latencyMs: number) {
  const server = await startFakeServer({ latencyMs, respond: benchRule({ seedBase: SEED_BASE }) });
  try {
    const configFile = join(dir, `${name}.json`);
    writeFileSync(
      configFile,
      JSON.stringify({
        mode: 'synthesize',
        seed: 0,
        shardSize,
        generate: { mode: 'fewshot', samples: candidates, k: 2 },
        backtranslate: { variants: 1, judge: false },
        llm: {
          // 64 calls in flight per invocation, as the stack's CACO_LLM_CONCURRENCY default.
          default: { baseURL: server.baseURL, model: 'bench/coder', concurrency: IN_FLIGHT },
          generate: { seed: SEED_BASE },
          reverse: { model: 'bench/writer' },
          solve: { model: 'bench/solver' },
          cassette: { mode: 'live' },
        },
      }),
    );
    const stack = await createEmulatedStack(emu, name, { visibilityTimeoutSeconds: 300 });
    const { runId, drive, target, state } = await submitAndDrive(emu, stack, input, configFile, 1_800_000);
      const usage = await new CostLedger(emu.clients.doc, stack.table).list(runId);
    return { runId, drive, state, target, usage };
  } finally {
    await server.close();
  }
}

try {
  const { runId, drive, state, target, usage } = await emulatedRun('scale', 0);
  console.log(
    `emulated synthesize run ${runId}: ${candidates} candidates, shardSize ${shardSize}, ${(drive.wallMs / 1000).toFixed(1)} s wall, ` +
      `failed items ${drive.failedItems}, invocations ${JSON.stringify(drive.invocations)}`,
  );

  // Records through each stage (what the per-record figures below divide by).
  const stageIn: Record<string, { in: number; kept: number; shards: number }> = {};
  for (const st of ['generate', 'execute', 'filter', 'dedup', 'backtranslate']) {
    const shards = await state.listShards(runId, st as never);
    stageIn[st] = { in: shards.reduce((a, s) => a + s.counts.in, 0), kept: shards.reduce((a, s) => a + s.counts.kept, 0), shards: shards.length };
  }
  console.log('records per stage: ' + Object.entries(stageIn).map(([s, v]) => `${s} ${v.in} in/${v.kept} kept/${v.shards} shards`).join(', '));

  console.log('\nmeasured per function (the emulated run itself; per candidate = / ' + candidates + '):');
  console.log('  function       inv   billed ms  mem MB   GB-s  GB-s/cand  S3 put  S3 get   SQS(own+poller)  DDB WRU   DDB RRU  WRU/cand');
  for (const u of usage.sort((a, b) => a.function.localeCompare(b.function))) {
    const gbs = (u.durationMs / 1000) * (u.memoryMb / 1024);
    const sqs = u.sqsRequests + POLLER_REQUESTS_PER_INVOCATION * u.invocations;
    console.log(
      `  ${u.function.padEnd(13)} ${String(u.invocations).padStart(4)} ${String(u.durationMs).padStart(11)} ${String(u.memoryMb).padStart(7)} ${gbs.toFixed(1).padStart(6)} ` +
        `${(gbs / candidates).toFixed(4).padStart(10)} ${String(u.s3Put).padStart(7)} ${String(u.s3Get).padStart(7)} ${String(sqs).padStart(17)} ` +
        `${u.ddbWrite.toFixed(0).padStart(8)} ${u.ddbRead.toFixed(0).padStart(9)} ${(u.ddbWrite / candidates).toFixed(2).padStart(9)}`,
    );
  }

  console.log('\nS3 requests by command and key (the whole run, incl. submit; >= 5 shown):');
  for (const [k, n] of [...s3Tally].sort((a, b) => b[1] - a[1]).filter(([, n]) => n >= 5)) {
    console.log(`  ${String(n).padStart(6)}  ${(n / candidates).toFixed(2).padStart(5)}/cand  ${k}`);
  }

  const cost = await runCostReport(target, runId, prices, latency);
  console.log('\n' + formatCost(cost));
  if (!cost.scaled) throw new Error('no scaled cost (no candidates or no usage recorded)');
  const lines = cost.scaled.report.lines;
  const f = (x: number) => ('$' + x.toFixed(2)).padStart(8);
  console.log(`\nscaled to 1M candidate programs at ${latency} s mean LLM latency, per function:`);
  console.log('  function           GB-s   compute  requests      SQS  DynamoDB       S3     total');
  const sum = (k: keyof CostLine) => lines.reduce((a, l) => a + (l[k] as number), 0);
  for (const l of [...lines].sort((a, b) => b.total - a.total)) {
    console.log(`  ${l.function.padEnd(13)} ${l.gbSeconds.toFixed(0).padStart(9)} ${f(l.lambdaCompute)} ${f(l.lambdaRequests)} ${f(l.sqs)} ${f(l.dynamodb)} ${f(l.s3)} ${f(l.total)}`);
  }
  console.log(`  ${'all'.padEnd(13)} ${sum('gbSeconds').toFixed(0).padStart(9)} ${f(sum('lambdaCompute'))} ${f(sum('lambdaRequests'))} ${f(sum('sqs'))} ${f(sum('dynamodb'))} ${f(sum('s3'))} ${f(cost.scaled.perTarget)}`);

  // How much of the LLM functions' compute is the modelled wait (the part memory size drives).
  const wait = (fn: string) => {
    const roles = fn === 'generate' ? ['generate', 'unify'] : ['reverse', 'solve', 'judge'];
    const calls = (cost.llm.filter((l) => roles.includes(l.role)).reduce((a, l) => a + l.requests + (l.cacheHits ?? 0), 0) * 1e6) / cost.candidates;
    return ((calls * latency) / 64) * 0.5 * prices.lambda.arm64PerGbSecond;
  };
  console.log(`  of which the modelled LLM wait: generate ${f(wait('generate'))}, backtranslate ${f(wait('backtranslate'))} (64 calls in flight, 512 MB)`);

  // The execute function: billed time per program (two runs each: the determinism rerun), and
  // the Pyodide cold start, measured here, which each new container pays once.
  const exe = usage.find((u) => u.function === 'execute')!;
  const gbsPerProgram = (exe.durationMs / 1000 / stageIn.execute.in) * (exe.memoryMb / 1024);
  const t0 = performance.now();
  const pool = await createSandboxPool({});
  const coldMs = performance.now() - t0;
  await pool.close();
  const coldPerShard = ((coldMs / 1000) * (exe.memoryMb / 1024)) / shardSize;
  console.log(
    `\nexecute: ${(exe.durationMs / stageIn.execute.in).toFixed(1)} billed ms per program (run twice) at ${exe.memoryMb} MB = ${gbsPerProgram.toFixed(4)} GB-s, ` +
      `$${(gbsPerProgram * 1e6 * prices.lambda.arm64PerGbSecond).toFixed(2)}/1M, with one cold start in ${exe.invocations} invocations (one container); ` +
      `a pool cold start takes ${coldMs.toFixed(0)} ms here: +$${(coldPerShard * 1e6 * prices.lambda.arm64PerGbSecond).toFixed(2)}/1M if every shard of ${shardSize} ran on a fresh container`,
  );

  // What-ifs on the measured run (same scaling, one change each).
  const k = 1e6 / candidates;
  const cacheGet = [...s3Tally].filter(([key]) => key.endsWith('cache/llm/*') && key.startsWith('GetObject')).reduce((a, [, n]) => a + n, 0);
  const cachePut = [...s3Tally].filter(([key]) => key.endsWith('cache/llm/*') && !key.startsWith('GetObject')).reduce((a, [, n]) => a + n, 0);
  const cacheCost = k * ((cacheGet / 1000) * prices.s3.standardGetPer1000 + (cachePut / 1000) * prices.s3.standardPutCopyPostListPer1000);
  const waitAll = wait('generate') + wait('backtranslate');
  const total = cost.scaled.perTarget;
  console.log('\nwhat-ifs ($ per 1M candidates, each one change against the measured run):');
  console.log(`  LLM response cache as one S3 object per call (${(cacheGet / candidates).toFixed(2)} GET + ${(cachePut / candidates).toFixed(2)} PUT per candidate) costs ${f(cacheCost)};` +
    ` without it: ${f(total - cacheCost)}`);
  console.log(`  LLM functions at 256 MB instead of 512 (the modelled wait halves): ${f(total - waitAll / 2)}; both: ${f(total - cacheCost - waitAll / 2)}`);
  console.log(`  128 calls in flight per invocation instead of 64: ${f(total - waitAll / 2)}`);

  console.log(`\n$ per 1M candidate programs (AWS only, tokens excluded, LLM latency ${latency} s): $${cost.scaled.perTarget.toFixed(2)}; target <= $10`);

  if (packingLatencyMs > 0) {
    const slow = await emulatedRun('packing', packingLatencyMs);
    console.log(`\ncalls-in-flight packing: the same run with the fake LLM answering after ${packingLatencyMs} ms (${(slow.drive.wallMs / 1000).toFixed(1)} s wall):`);
    for (const fn of ['generate', 'backtranslate']) {
      const roles = fn === 'generate' ? ['generate', 'unify'] : ['reverse', 'solve', 'judge'];
      const calls = cost.llm.filter((l) => roles.includes(l.role)).reduce((a, l) => a + l.requests + (l.cacheHits ?? 0), 0);
      // The model bills the zero-latency run's time (CPU) plus calls x latency / calls in flight;
      // the slow run's billed time is what an invocation really waits (CPU overlaps the waits).
      const zeroMs = usage.find((u) => u.function === fn)!.durationMs;
      const slowMs = slow.usage.find((u) => u.function === fn)!.durationMs;
      const modelMs = zeroMs + (calls * packingLatencyMs) / IN_FLIGHT;
      console.log(`  ${fn.padEnd(13)} ${calls} calls: billed ${(slowMs / 1000).toFixed(1)} s vs modelled ${(modelMs / 1000).toFixed(1)} s ` +
        `(${(zeroMs / 1000).toFixed(1)} s at zero latency + perfect packing of ${IN_FLIGHT}): x${(slowMs / modelMs).toFixed(2)}`);
    }
  }
} finally {
  await emu.stop();
  rmSync(dir, { recursive: true, force: true });
}
