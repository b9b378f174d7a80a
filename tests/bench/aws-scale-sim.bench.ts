// bench:aws-scale-sim — what the run-state, dedup and fan-out machinery costs at paper scale
// (5.3M candidates, shards of 100: 53,000 shards per stage), computed from the code's own rules and
// a few measured constants (printed with their source). Not a run: no LLM, no sandbox.
//
//   npx tsx tests/bench/aws-scale-sim.bench.ts [--candidates 5300000] [--shard-size 100]
//       [--dedup-bytes-per-record 1330] [--batch-ms 25]
//
// Covers: DynamoDB item sizes and request units of recording shards (the largest item: must stay
// far under 400 KB; 40 KB is the scale test's bound), the dedup barrier's S3 requests, partitions
// and memory per partition task, and the fan-out time of 53,000 messages. Not covered: LLM waits
// and Lambda time of the stages themselves (bench:aws-scale measures those on the emulated stack),
// and the global LLM rate limits (issue 15 part 4, not done).
import { parseArgs } from 'node:util';
import { itemSizeEstimate } from '../helpers/item-size.ts';
import { loadPrices } from '../../lib/aws/cost.ts';
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
    // one SendMessageBatch round trip (assumed; the emulator's SendMessage was ~20-30 ms here)
    'batch-ms': { type: 'string', default: '25' },
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
console.log(`  each task reads ${S.toLocaleString('en-US')} keys blobs (~${kb(160 * shardSize)} each): ${(S / 16 * 0.02).toFixed(0)} s at 16 in flight and 20 ms a GET`);
console.log(`\nfan-out: ${S.toLocaleString('en-US')} first messages = ${batches.toLocaleString('en-US')} SendMessageBatch requests, ~${fanOutS.toFixed(1)} s at 16 in flight (was ${((S * 22) / 1000 / 60).toFixed(0)} min at 22 ms a message, one at a time); the barrier's finish sends as many`);
