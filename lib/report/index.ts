// The run report (`dataset/report/`): written by assemble on both transports, rebuilt by
// `caco report`. See build.ts for the files and page/ for the browser.
import { keys } from '../pipeline/keys.ts';
import type { BlobStore } from '../store/ports.ts';
import { pageAssets } from './assets.ts';
import { buildReport, type ReportResult } from './build.ts';
import { reportInputFromBlobs } from './source.ts';
import type { AwsCostSummary } from './summary.ts';

export const REPORT_DIR = 'report';

/** Builds runs/<id>/dataset/report/ in the run's blob store from its stats and records. */
export async function writeRunReport(runId: string, blobs: BlobStore, opts: { aws?: AwsCostSummary | null; chunkSize?: number } = {}): Promise<ReportResult> {
  const input = await reportInputFromBlobs(blobs, runId, opts.aws);
  const sink = { put: (rel: string, body: string) => blobs.put(keys.dataset(runId, `${REPORT_DIR}/${rel}`), body) };
  return buildReport(input, sink, { assets: await pageAssets(), chunkSize: opts.chunkSize });
}
