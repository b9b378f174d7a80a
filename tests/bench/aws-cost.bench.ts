// bench:aws-cost — what the AWS side of a run costs, measured on an emulated run of the demo and
// scaled to $ per 1 million candidate programs (tokens excluded), plus the dedup index's request
// units per record (the single-writer `claim` the dedup stage uses) over the run's dedup input.
// (The per-record bucket-lock protocol it replaced cost 33.5 WRU per record; it is deleted.)
//
//   npx tsx tests/bench/aws-cost.bench.ts [--latency 20]
//
// What is measured: the handlers' request meter and cost ledger (Lambda ms per function at the
// stack's memory sizes, SQS requests, DynamoDB read/write request units as reported by the
// service, S3 requests) while the real handlers run against s3rver/dynalite/local-aws-sqs.
// What is modelled: the LLM wait (the run replays a cassette), see the printed assumptions.
// Caveat: the demo runs 10 records per shard (its cassette is recorded for that shard size), so
// per-shard costs (S3 objects, messages, invocations, state items, cold starts) scale as if a
// million candidates came in 100,000 shards; production shards of a few hundred cost far less.
import { parseArgs } from 'node:util';
import { parseRunConfig } from '../../lib/config.ts';
import { DEMO_CONFIG, DEMO_INPUT } from '../../lib/cli/demo.ts';
import { makeClients } from '../../lib/aws/clients.ts';
import { loadPrices } from '../../lib/aws/cost.ts';
import { formatCost, runCostReport } from '../../lib/aws/remote.ts';
import { RequestMeter } from '../../lib/aws/request-meter.ts';
import { S3BlobStore } from '../../lib/aws/s3-blob-store.ts';
import { parseJsonl } from '../../lib/pipeline/lines.ts';
import type { ExecutedRecord } from '../../lib/schema.ts';
import { dedupBranch } from '../helpers/dedup-run.ts';
import { startAwsEmulators } from '../helpers/aws-emulators.ts';
import { createEmulatedStack, submitAndDrive } from '../helpers/emulated-stack.ts';

process.env.POWERTOOLS_METRICS_DISABLED = 'true';
process.env.POWERTOOLS_METRICS_NAMESPACE = 'CacoBench';

const { values: args } = parseArgs({ options: { latency: { type: 'string', default: '20' } } });
const latency = Number(args.latency);
const prices = loadPrices();

const emu = await startAwsEmulators();
try {
  // 1. The demo on the emulated stack, fault free.
  const stack = await createEmulatedStack(emu, 'bench');
  const { runId, drive, target, state } = await submitAndDrive(emu, stack, DEMO_INPUT, DEMO_CONFIG, 180_000);
  console.log(`emulated run ${runId}: ${drive.wallMs} ms wall, invocations ${JSON.stringify(drive.invocations)}\n`);

  const cost = await runCostReport(target, runId, prices, latency);
  console.log(formatCost(cost));
  if (cost.scaled) {
    console.log(`\nscaled to 1M candidate programs, per function:`);
    console.log('  function         GB-s      lambda       sqs  dynamodb        s3     total');
    for (const l of cost.scaled.report.lines) {
      const f = (x: number) => ('$' + x.toFixed(2)).padStart(9);
      console.log(`  ${l.function.padEnd(13)} ${l.gbSeconds.toFixed(0).padStart(8)} ${f(l.lambdaCompute + l.lambdaRequests)} ${f(l.sqs)} ${f(l.dynamodb)} ${f(l.s3)} ${f(l.total)}`);
    }
  }
  const usage = cost.aws.lines;
  console.log('\nmeasured per function (the emulated run itself):');
  for (const u of await new (await import('../../lib/aws/cost-ledger.ts')).CostLedger(emu.clients.doc, stack.table).list(runId)) {
    const l = usage.find((x) => x.function === u.function)!;
    console.log(
      `  ${u.function.padEnd(13)} ${String(u.invocations).padStart(4)} inv ${String(u.durationMs).padStart(7)} ms ${l.gbSeconds.toFixed(2).padStart(7)} GB-s  ` +
        `S3 ${u.s3Put} put/${u.s3Get} get  SQS ${u.sqsRequests}  DDB ${u.ddbWrite.toFixed(1)} WRU/${u.ddbRead.toFixed(1)} RRU`,
    );
  }

  // 2. Dedup requests per record: the run's dedup input, deduplicated again (prepare, partitions,
  //    finish, apply) under a fresh run id, on the emulated S3.
  const blobs = new S3BlobStore(emu.clients.s3, stack.bucket);
  const cfg = parseRunConfig(JSON.parse((await blobs.get(`runs/${runId}/config.json`))!.toString('utf8')));
  const filterKeys = await blobs.list(`runs/${runId}/filter/`);
  // The pipeline's order: the unify branch's shards, then the generate branch's.
  const ordered = [...filterKeys.filter((k) => /\/u\d+\.jsonl$/.test(k)), ...filterKeys.filter((k) => /\/g\d+\.jsonl$/.test(k))];
  const shards = await Promise.all(ordered.map(async (k) => parseJsonl<ExecutedRecord>((await blobs.get(k))!.toString('utf8'))));
  const records = shards.reduce((a, s) => a + s.length, 0);
  const clients = makeClients(emu.clientOptions);
  const meter = new RequestMeter().attach(clients);
  const t0 = performance.now();
  const outs = await dedupBranch(shards, cfg.filter.dedup, new S3BlobStore(clients.s3, stack.bucket), 'bench-claim');
  const kept = outs.reduce((a, o) => a + o.kept.length, 0);
  const ms = performance.now() - t0;
  const m = meter.snapshot();
  const perMillion = ((m.s3Put / 1000) * prices.s3.standardPutCopyPostListPer1000 + (m.s3Get / 1000) * prices.s3.standardGetPer1000) * (1e6 / records);
  for (const c of Object.values(clients)) (c as { destroy(): void }).destroy();
  console.log(`\ndedup (partitioned, on S3), ${records} records of the run's dedup stage (${shards.length} shards, ${ms.toFixed(0)} ms):`);
  console.log(`  ${(m.s3Put / records).toFixed(3)} PUT/record  ${(m.s3Get / records).toFixed(3)} GET/record  $${perMillion.toFixed(3)} per 1M records  kept ${kept}`);
  if (cost.scaled) console.log(`\n$ per 1M candidate programs (tokens excluded, LLM latency ${latency} s): ${cost.scaled.perTarget.toFixed(2)}; target <= $10`);
} finally {
  await emu.stop();
}
