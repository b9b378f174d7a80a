// The report of a run on AWS: rebuilt from the bucket with the run's AWS cost from the cost
// ledger, written next to the dataset (runs/<id>/dataset/report/), optionally downloaded.
import { keys } from '../pipeline/keys.ts';
import { join, resolve } from 'node:path';
import { CostLedger } from '../aws/cost-ledger.ts';
import { loadPrices, runCost, type CostReport } from '../aws/cost.ts';
import type { RemoteTarget } from '../aws/remote.ts';
import { S3BlobStore } from '../aws/s3-blob-store.ts';
import { copyTree } from '../local/materialize.ts';
import type { ReportResult } from './build.ts';
import { writeRunReport } from './index.ts';
import type { AwsCostSummary } from './summary.ts';

export function awsCostSummary(c: CostReport): AwsCostSummary {
  return {
    region: c.prices.region,
    pricesAsOf: c.prices.pricesAsOf,
    total: c.total,
    lines: c.lines.map((l) => ({ function: l.function, gbSeconds: l.gbSeconds, lambda: l.lambdaCompute + l.lambdaRequests, sqs: l.sqs, dynamodb: l.dynamodb, s3: l.s3, total: l.total })),
  };
}

export async function writeAwsReport(t: RemoteTarget, runId: string, outDir?: string): Promise<ReportResult & { prefix: string; downloaded: number }> {
  const blobs = new S3BlobStore(t.clients.s3, t.bucket);
  const usage = await new CostLedger(t.clients.doc, t.table).list(runId);
  const aws = usage.length ? awsCostSummary(runCost(usage, loadPrices())) : null;
  const r = await writeRunReport(runId, blobs, { aws });
  const prefix = keys.dataset(runId, 'report/');
  const downloaded = outDir ? (await copyTree(blobs, await blobs.list(prefix), prefix, join(resolve(outDir), 'report'))).length : 0;
  return { ...r, prefix, downloaded };
}
