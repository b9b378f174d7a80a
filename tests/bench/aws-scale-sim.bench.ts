// bench:aws-scale-sim — paper scale (5.3M candidates, shards of 100: 53,000 shards per stage),
// computed from the code's own rules, the stack's limits and measured constants (each printed with
// its source). Not a run: no LLM, no sandbox, no AWS.
//
//   npx tsx tests/bench/aws-scale-sim.bench.ts [--candidates 5300000] [--shard-size 100]
//       [--latency 20] [--survivors 0.5] [--llm-max-concurrency 10] [--calls-in-flight run]
//       [--dedup-bytes-per-record 1330] [--finish-bytes-per-record 60] [--batch-ms 25]
//
// Prints: DynamoDB item sizes and request units of recording shards (the largest item: must stay
// far under 400 KB; 40 KB is the scale test's bound); the dedup barrier's S3 requests, partitions
// and memory per partition task; the fan-out; the whole pipeline's wall-time floor per stage (the
// stack's concurrency caps, calls in flight, the barrier, assemble); the peak memory of one
// invocation per function; $ per 1M candidates at the LLM latency with the calls in flight the
// stack actually runs (lib/aws/llm-concurrency.ts), priced by `caco cost`'s model (lib/aws/cost.ts).
import { parseArgs } from 'node:util';
import { itemSizeEstimate } from '../helpers/item-size.ts';
import { DEFAULT_ASSUMPTIONS, estimateAwsCost, loadPrices, MEASURED_NON_LLM_PER_MILLION } from '../../lib/aws/cost.ts';
import { runCallsInFlight, STACK_LLM_CONCURRENCY } from '../../lib/aws/llm-concurrency.ts';
import { parseRunConfig } from '../../lib/config.ts';
import { keys as tableKeys } from '../../lib/aws/table.ts';
import { DedupConfigSchema } from '../../lib/codecot/filter-config.ts';
import { shardId } from '../../lib/pipeline/flow.ts';
import { CACO, stageNames } from '../../lib/pipeline/spec.ts';
import { partitionsFor } from '../../lib/stages/dedup.ts';
import type { ShardState } from '../../lib/store/ports.ts';

const { values: a } = parseArgs({
  options: {
    candidates: { type: 'string', default: '5300000' },
    'shard-size': { type: 'string', default: '100' },
    // tests/bench/aws-scale-dedup.bench.ts --store file: peak live bytes per record of a partition
    'dedup-bytes-per-record': { type: 'string', default: '1330' },
    // bench:aws-scale-dedup --records 100000: the finish's peak live memory, 13.5-16 MiB (DESIGN "AWS cost")
    'finish-bytes-per-record': { type: 'string', default: '160' },
    // one SendMessageBatch round trip (assumed; the emulator's SendMessage was ~20-30 ms here)
    'batch-ms': { type: 'string', default: '25' },
    // mean latency of one LLM call, s
    latency: { type: 'string', default: '20' },
    // share of the candidates that reach backtranslate (dedup's survivors); the paper kept 1.3M of 5.3M samples at the end
    survivors: { type: 'string', default: '0.5' },
    // the stack's llmMaxConcurrency (lib/infra/caco-stack.ts: 10 unless set at deploy)
    'llm-max-concurrency': { type: 'string', default: '10' },
    // LLM calls in flight per invocation; 'run': what the default run config gets on the stack
    'calls-in-flight': { type: 'string', default: 'run' },
    // constants: measured where a source is named (DESIGN), assumed otherwise
    'execute-ms-per-program': { type: 'string', default: '40' }, // assumed (the sandbox bench: 5-23 ms for small programs)
    'filter-ms-per-record': { type: 'string', default: '0.8' }, // bench:dedup, 1,265 records/s
    'shard-overhead-ms': { type: 'string', default: '300' }, // assumed: ~10 S3/DynamoDB/SQS requests
    'task-us-per-record': { type: 'string', default: '330' }, // bench:aws-scale-dedup 100k: one task 32.6 s (with its reads)
    'finish-us-per-record': { type: 'string', default: '92' }, // bench:aws-scale-dedup 100k: finish 9.2 s
    'assemble-ms-per-shard': { type: 'string', default: '18.5' }, // issue 15, on the emulator
  },
});
const N = Number(a.candidates);
const shardSize = Number(a['shard-size']);
const S = Math.ceil(N / shardSize);
const prices = loadPrices();
const kb = (b: number) => `${(b / 1024).toFixed(1)} KB`;

const itemBytes = itemSizeEstimate;

// The biggest shard record: backtranslate's, with three LLM roles' counters and every reason.
const counters: Record<string, number> = { records: shardSize, in: shardSize };
for (const role of ['reverse', 'solve', 'judge']) {
  for (const k of ['requests', 'prompt_tokens', 'completion_tokens', 'cost_usd', 'cache_hits', 'cached_prompt_tokens', 'cached_completion_tokens', 'retries', 'errors']) {
    counters[`llm|${role}|Qwen/Qwen3-32B-Instruct|${k}`] = 123456;
  }
}
for (let i = 0; i < 20; i++) counters[`rule.some_rule_${i}.checked`] = shardSize;
const lastShard = shardId(CACO, 'generate', S - 1);
const shardItem: ShardState = {
  runId: 'run-0123456789ab',
  stage: 'backtranslate',
  shard: lastShard,
  counts: { in: shardSize, kept: 25, rejected: { answer_mismatch: 40, no_boxed_answer: 10, ambiguous_answer: 5, contaminated: 1 }, failed: { llm_error: 2 }, counters },
  next: [lastShard],
};
const shardBytes = itemBytes({ ...tableKeys.shard(shardItem.runId, shardItem.stage, shardItem.shard), ...shardItem, expiresAt: 1 });
const progressBytes = itemBytes({ ...tableKeys.progress('run-0123456789ab', 'backtranslate'), attempts: S * 2, doneCount: S, inCount: N, keptCount: N, rejectedCount: N, failedCount: N, expiresAt: 1 });
const runBytes = itemBytes({ ...tableKeys.run('run-0123456789ab'), runId: 'run-0123456789ab', createdAt: new Date().toISOString(), status: 'running', input: 's3://bucket/incoming/paper-scale.jsonl', mode: 'synthesize', expected: { unify: 3000, generate: S }, expiresAt: 1 });
// Before issue 15: the progress item held every shard id (a string set).
const oldProgressBytes = itemBytes({ ...tableKeys.progress('run-0123456789ab', 'backtranslate'), doneCount: S, doneShards: new Set(Array.from({ length: S }, (_, i) => shardId(CACO, 'generate', i))), expiresAt: 1 });

const stagesPerShard = stageNames(CACO).filter((s) => CACO.stages.find((d) => d.name === s)!.kind === 'shard' && s !== 'unify').length;
// per recorded shard: the shard put (its size in KB, rounded up) + the progress ADD (1 KB) + the dedup barrier's count for filter
const wruPerShard = Math.ceil(shardBytes / 1024) + 1;
const records = S * stagesPerShard + S /* dedup:prepared */;
const wru = records * wruPerShard;
// reads: getShard (skip check) + getRun (fan-in / barrier) per shard, 0.5 RRU each strongly consistent <= 4 KB = 1 RRU
const rru = records * 2;
const ddbUsd = (wru / 1e6) * prices.dynamodb.onDemandPerMillionWriteUnits + (rru / 1e6) * prices.dynamodb.onDemandPerMillionReadUnits;
// old progress item: every ADD billed at the item's size, which grows with the shards recorded
const oldWru = stagesPerShard * Array.from({ length: S }, (_, i) => Math.ceil(((oldProgressBytes * (i + 1)) / S) / 1024)).reduce((x, y) => x + y, 0);
const oldUsd = (oldWru / 1e6) * prices.dynamodb.onDemandPerMillionWriteUnits;

const cfg = DedupConfigSchema.parse({});
const P = partitionsFor(cfg, N);
const dedupPut = S * 3 + P; // keys + data per shard, decisions per shard, one part per task
const dedupGet = P * S /* keys */ + P * S /* data, at most */ + S * 2 /* apply */ + P /* finish */;
const dedupUsd = (dedupPut / 1000) * prices.s3.standardPutCopyPostListPer1000 + (dedupGet / 1000) * prices.s3.standardGetPer1000;
const partMem = (N / P) * Number(a['dedup-bytes-per-record']);
const batches = Math.ceil(S / 10);
const fanOutS = (batches / 16) * (Number(a['batch-ms']) / 1000);

console.log(`paper scale: ${N.toLocaleString('en-US')} candidates in ${S.toLocaleString('en-US')} shards of ${shardSize} (last id ${lastShard}); prices ${prices.pricesAsOf}`);
console.log('\nDynamoDB items (largest of each kind; limit 400 KB, the scale test bounds 40 KB):');
console.log(`  shard record (backtranslate, 3 LLM roles)  ${kb(shardBytes)}`);
console.log(`  stage progress (counters only)             ${kb(progressBytes)}   before issue 15 (every shard id): ${kb(oldProgressBytes)}`);
console.log(`  run record                                 ${kb(runBytes)}   ingest record: lists no shards now`);
console.log(`\nDynamoDB requests of recording shards: ${records.toLocaleString('en-US')} records x ${wruPerShard} WRU + 2 reads = $${ddbUsd.toFixed(2)} per run, $${((ddbUsd / N) * 1e6).toFixed(3)} per 1M candidates`);
console.log(`  the old growing progress item alone: ${oldWru.toLocaleString('en-US')} WRU = $${oldUsd.toFixed(2)} per run`);
console.log(`\ndedup barrier: ${P} partitions (~${Math.round(N / P).toLocaleString("en-US")} records each)`);
console.log(`  S3: ${dedupPut.toLocaleString('en-US')} PUT + at most ${dedupGet.toLocaleString('en-US')} GET = $${dedupUsd.toFixed(2)} per run, $${((dedupUsd / N) * 1e6).toFixed(3)} per 1M candidates`);
console.log(`  peak memory of a partition task: ~${(partMem / 2 ** 20).toFixed(0)} MiB (${a['dedup-bytes-per-record']} B per record of the partition, measured on a corpus with 30% planted copies)`);
console.log(`  each task reads ${S.toLocaleString('en-US')} keys blobs (~${kb(160 * shardSize)} each): ${(S / 32 * 0.02).toFixed(0)} s at 32 in flight and 20 ms a GET`);
console.log(`\nfan-out: ${S.toLocaleString('en-US')} first messages = ${batches.toLocaleString('en-US')} SendMessageBatch requests, ~${fanOutS.toFixed(1)} s at 16 in flight (was ${((S * 22) / 1000 / 60).toFixed(0)} min at 22 ms a message, one at a time); the barrier's finish sends as many`);

// ---------------------------------------------------------------------------------------------
// The whole pipeline: wall-time floor, memory per invocation, $ per 1M candidates.
const num = (k: string) => Number(a[k as keyof typeof a]);
const latencyS = num('latency');
// What the stack runs: CACO_LLM_CONCURRENCY (64) unless the run sets a lower concurrency.
const runCfg = parseRunConfig({ llm: { default: { baseURL: 'https://provider.example/v1', model: 'model' } } });
const K = a['calls-in-flight'] === 'run' ? runCallsInFlight(runCfg) : num('calls-in-flight');
const llmMax = num('llm-max-concurrency');
// The stack's SQS event-source caps (lib/infra/caco-stack.ts), execute/filter/assemble as deployed.
const caps = { ingest: 5, generate: llmMax, execute: 50, filter: 20, backtranslate: llmMax, assemble: 2 };
const survivorsPerShard = Math.round(shardSize * num('survivors'));
const overhead = num('shard-overhead-ms') / 1000;
const perShard = {
  generate: Math.ceil(shardSize / K) * latencyS + overhead,
  // each program runs twice (the determinism rerun); the pool's workers run in parallel, counted as one here
  execute: (shardSize * 2 * num('execute-ms-per-program')) / 1000 + overhead,
  filter: (shardSize * num('filter-ms-per-record')) / 1000 + overhead,
  dedup: overhead,
  // reverse then solve per record: two waits per round of K
  backtranslate: 2 * Math.ceil(survivorsPerShard / K) * latencyS + overhead,
};
const stageTime = (f: keyof typeof perShard, cap: number) => Math.ceil(S / cap) * perShard[f];
const front = { generate: stageTime('generate', caps.generate), execute: stageTime('execute', caps.execute), filter: stageTime('filter', caps.filter) };
// Stages overlap shard by shard: the slowest sets the pace, the others add one shard's time.
const frontS = Math.max(...Object.values(front)) + perShard.generate + perShard.execute + perShard.filter - Math.max(perShard.generate, perShard.execute, perShard.filter);
const ingestS = fanOutS + 5;
const taskRecords = N / P;
const taskS = (S / 32) * 0.02 + (taskRecords * num('task-us-per-record')) / 1e6;
const finishS = (N * num('finish-us-per-record')) / 1e6 + (S / 32) * 0.03 + fanOutS;
const back = { dedup: stageTime('dedup', caps.filter), backtranslate: stageTime('backtranslate', caps.backtranslate) };
const backS = Math.max(...Object.values(back)) + Math.min(perShard.dedup, perShard.backtranslate);
const assembleS = (S * num('assemble-ms-per-shard')) / 1000;
const totalS = ingestS + frontS + taskS + finishS + backS + assembleS;
const h = (sec: number) => (sec >= 3600 ? `${(sec / 3600).toFixed(1)} h` : sec >= 60 ? `${(sec / 60).toFixed(1)} min` : `${sec.toFixed(0)} s`);
const provider = (cap: number) => (cap * K * 60) / latencyS;

console.log(`
whole-pipeline wall-time floor (assumptions: LLM call ${latencyS} s, ${K} calls in flight per invocation (${a['calls-in-flight'] === 'run' ? `the default run on the stack: CACO_LLM_CONCURRENCY=${STACK_LLM_CONCURRENCY}, no run setting below it` : 'set'}), ` +
  `${Math.round(num('survivors') * 100)}% of candidates reach backtranslate, ${num('shard-overhead-ms')} ms of S3/DynamoDB/SQS per shard invocation, ` +
  `execute ${num('execute-ms-per-program')} ms per program run (x2), filter ${num('filter-ms-per-record')} ms per record; the stack's SQS event-source caps ${JSON.stringify(caps)}; ` +
  `Lambda's SQS scaling ramp (+300 instances a minute) is negligible at these caps):`);
console.log(`  ingest + fan-out          ${h(ingestS)}`);
console.log(`  generate/execute/filter   ${h(frontS)}  (per stage at its cap: ${Object.entries(front).map(([k, v]) => `${k} ${h(v)}`).join(', ')}; one shard: ${Object.entries(perShard).slice(0, 3).map(([k, v]) => `${k} ${v.toFixed(1)} s`).join(', ')})`);
console.log(`  dedup barrier             ${h(taskS + finishS)}  (${P} tasks in parallel: ${h(taskS)} each, reading ${S.toLocaleString('en-US')} keys blobs + ${num('task-us-per-record')} µs per record of ~${Math.round(taskRecords).toLocaleString('en-US')}; finish ${h(finishS)}: ${num('finish-us-per-record')} µs per record, ${S.toLocaleString('en-US')} decision PUTs and the shard messages)`);
console.log(`  dedup/backtranslate       ${h(backS)}  (per stage: ${Object.entries(back).map(([k, v]) => `${k} ${h(v)}`).join(', ')}; one backtranslate shard ${perShard.backtranslate.toFixed(0)} s)`);
console.log(`  assemble                  ${h(assembleS)}  (${num('assemble-ms-per-shard')} ms per shard in one invocation, the emulator's figure: over its 15 min past ~48k shards; issue 15's parallel assemble is another part)`);
console.log(`  total                     ${h(totalS)}; set by the LLM functions' cap: ${caps.generate} invocations x ${K} calls = ${caps.generate * K} calls in flight, ${provider(caps.generate).toFixed(0)} requests/min at the provider`);
for (const cap of [10, 50, 100, 200]) {
  const g = Math.ceil(S / cap) * perShard.generate;
  const b = Math.ceil(S / cap) * perShard.backtranslate;
  const t = ingestS + Math.max(g, front.execute, front.filter) + taskS + finishS + Math.max(b, back.dedup) + assembleS;
  console.log(`    llmMaxConcurrency ${String(cap).padStart(3)}: ${h(t).padStart(8)} (generate ${h(g)}, backtranslate ${h(b)}), the provider sees ${provider(cap).toFixed(0)} requests/min`);
}

const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
console.log("\npeak memory of one invocation (measured where a source is named; the function's memory in brackets):");
console.log(`  ingest         chunks of 2,000 messages and the input read line by line: small, not measured  [1024 MB]`);
console.log(`  generate       ${K} calls in flight, each a prompt and a reply of a few KB: not measured (a few MiB over the runtime's ~100 MiB)  [512 MB]`);
console.log(`  execute        the sandbox pool: ~300 MB RSS for the first child and its spare, ~250 MB a further spare child (DESIGN "Sandbox")  [4096 MB]`);
console.log(`  filter shard   rules + MinHash of ${shardSize} programs: small (bench:dedup's whole process peaked at 160 MiB RSS)  [3008 MB]`);
console.log(`  dedup task     ~${mib(partMem)} live (${a['dedup-bytes-per-record']} B per record x ${Math.round(taskRecords).toLocaleString('en-US')}: bench:aws-scale-dedup)  [3008 MB]`);
console.log(`  dedup finish   ~${mib(N * num('finish-bytes-per-record'))} live (${a['finish-bytes-per-record']} B per record of the branch: bench:aws-scale-dedup)  [3008 MB]`);
console.log(`  backtranslate  ${K} calls in flight: as generate  [512 MB]`);
console.log(`  assemble       one Parquet part per config at a time, ~256 MB each at most (DESIGN "The dataset folder")  [2048 MB]`);

// $ per 1M candidates: `caco cost`'s model (estimateAwsCost), with the calls in flight that run.
const callsPerCandidate = 1 + 2 * num('survivors'); // generate + reverse and solve per survivor
const cost = (k: number) => estimateAwsCost({ candidates: 1e6, llmCalls: callsPerCandidate * 1e6, llmLatencyS: latencyS }, prices, { callsInFlight: k, llmMemoryMb: DEFAULT_ASSUMPTIONS.llmMemoryMb });
const c = cost(K);
console.log(`
$ per 1M candidates (AWS only, tokens excluded; \`caco cost\`'s model, lib/aws/cost.ts): ${callsPerCandidate.toFixed(1)} LLM calls per candidate x ${latencyS} s / ${K} in flight at ${DEFAULT_ASSUMPTIONS.llmMemoryMb} MB = $${c.llmWait.toFixed(2)} of LLM wait + $${MEASURED_NON_LLM_PER_MILLION} the rest (measured) = $${c.total.toFixed(2)}; target <= $10: ${c.total <= 10 ? 'met' : 'MISSED'}`);
console.log(`  with the last round of a backtranslate shard part-empty (x1.3 of its wait, measured in bench:aws-scale --packing-latency-ms): $${(c.total + (c.llmWait * (2 * num('survivors')) / callsPerCandidate) * 0.3).toFixed(2)}`);
console.log(`  the lever is calls in flight per invocation (llmCallsPerInvocation / CACO_LLM_CONCURRENCY, or a run's lower concurrency): ` + [8, 16, 32, 64, 128].map((k) => `${k}: $${cost(k).total.toFixed(2)}`).join(', ') + `; then LLM functions at 256 MB (halves the wait)`);
