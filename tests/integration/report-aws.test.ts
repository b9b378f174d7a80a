// `caco report <runId> --stack S` against the emulators: the report is rebuilt from the bucket,
// carries the run's AWS cost from the ledger, is written next to the dataset and downloads.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBucket, createTable, startAwsEmulators, type AwsEmulators } from '../helpers/aws-emulators.ts';
import { resolveTarget, type RemoteTarget } from '../../lib/aws/remote.ts';
import { S3BlobStore } from '../../lib/aws/s3-blob-store.ts';
import { CostLedger } from '../../lib/aws/cost-ledger.ts';
import { loadPrices, runCost } from '../../lib/aws/cost.ts';
import { writeAwsReport } from '../../lib/report/remote.ts';
import { syntheticRun } from '../fixtures/report/synthetic-run.ts';
import { keys as blobKeys } from '../../lib/pipeline/keys.ts';

let emu: AwsEmulators;
let t: RemoteTarget;
before(async () => {
  emu = await startAwsEmulators();
  await createBucket(emu, 'caco-report');
  await createTable(emu, 'caco-report-state');
  t = await resolveTarget({ bucket: 'caco-report', table: 'caco-report-state', clientOptions: emu.clientOptions });
});
after(async () => emu?.stop());

test('an AWS run gets its report in S3 with the AWS cost of the run, and --out downloads it', { timeout: 120_000 }, async () => {
  const blobs = new S3BlobStore(t.clients.s3, 'caco-report');
  const runId = 'run-aws1';
  await assert.rejects(writeAwsReport(t, runId), /no stats\.json yet/);

  // A small run laid out as assemble leaves it: stats, the samples' shard, rejected and failed shards.
  const run = syntheticRun(120, 9);
  await blobs.put(`runs/${runId}/dataset/stats.json`, JSON.stringify({ ...run.input.stats, runId }));
  const samples: string[] = [];
  for await (const s of run.input.samples) samples.push(JSON.stringify(s));
  // The page reads the samples from the blobs assemble starts from (the Parquet parts are for trainers).
  await blobs.put(`${blobKeys.samples(runId)}00000.jsonl`, samples.join('\n') + '\n');
  const shards = new Map<string, string[]>();
  for await (const r of run.input.rejections) {
    const key = `runs/${runId}/${r.verdict}/${r.stage}/g00000.jsonl`;
    shards.set(key, [...(shards.get(key) ?? []), JSON.stringify(r.rej)]);
  }
  for (const [k, v] of shards) await blobs.put(k, v.join('\n') + '\n');
  const ledger = new CostLedger(t.clients.doc, 'caco-report-state');
  await ledger.add(runId, { function: 'assemble', invocations: 1, durationMs: 4000, memoryMb: 2048, s3Put: 30, s3Get: 40, sqsRequests: 2, ddbWrite: 3, ddbRead: 4 });
  await ledger.add(runId, { function: 'generate', invocations: 3, durationMs: 9000, memoryMb: 512, s3Put: 6, s3Get: 6, sqsRequests: 6, ddbWrite: 9, ddbRead: 9 });

  const out = mkdtempSync(join(tmpdir(), 'report-aws-'));
  const r = await writeAwsReport(t, runId, out);
  const want = run.expected.size;
  assert.ok(r.records > 0 && r.records === [...run.expected].filter(([k]) => !k.startsWith('codegen')).reduce((a, [, n]) => a + n, 0), `every record: ${r.records} (${want} groups)`);
  const keys = await blobs.list(r.prefix);
  assert.ok(keys.includes(`${r.prefix}index.html`));
  assert.equal(r.downloaded, keys.length);
  const html = readFileSync(join(out, 'report', 'index.html'), 'utf8');
  assert.equal(html, (await blobs.get(`${r.prefix}index.html`))!.toString(), 'the download is the uploaded page');
  const total = runCost(await ledger.list(runId), loadPrices()).total;
  assert.match(html, new RegExp(`<td data-aws-total>\\$${total.toFixed(total < 0.01 ? 6 : 4).replace('.', '\\.')}</td>`));
  assert.match(html, /<th scope="row">assemble<\/th>/);
  assert.ok(readdirSync(join(out, 'report', 'data')).length > 5);
});
