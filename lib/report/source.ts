// Reads a run's report input from its blob store (the local .caco/blobs or the S3 bucket): the
// same keys on both (lib/pipeline/keys.ts), one shard blob at a time.
import { keys } from '../pipeline/keys.ts';
import { parseJsonl } from '../pipeline/lines.ts';
import type { BlobStore } from '../store/ports.ts';
import type { RejectionLine, ReportInput } from './build.ts';
import type { AwsCostSummary, StatsJson } from './summary.ts';

async function* jsonlOf(blobs: BlobStore, keyList: string[]): AsyncGenerator<Record<string, unknown>> {
  for (const k of keyList) {
    const b = await blobs.get(k);
    if (b) yield* parseJsonl<Record<string, unknown>>(b.toString('utf8'));
  }
}

async function* rejectionsOf(blobs: BlobStore, runId: string): AsyncGenerator<RejectionLine> {
  for (const verdict of ['rejected', 'failed'] as const) {
    for (const k of await blobs.list(verdict === 'rejected' ? keys.allRejected(runId) : keys.allFailed(runId))) {
      const stage = k.split('/')[3]!;
      for await (const rej of jsonlOf(blobs, [k])) yield { rej, verdict, stage };
    }
  }
}

export async function reportInputFromBlobs(blobs: BlobStore, runId: string, aws?: AwsCostSummary | null): Promise<ReportInput> {
  const statsBlob = await blobs.get(keys.dataset(runId, 'stats.json'));
  if (!statsBlob) throw new Error(`run ${runId} has no stats.json yet (${keys.dataset(runId, 'stats.json')}): is it assembled?`);
  return {
    stats: JSON.parse(statsBlob.toString('utf8')) as StatsJson,
    // The blobs assemble turns into the dataset's rows (its Parquet parts are for trainers; the
    // page reads the same records as JSON, one shard at a time).
    samples: jsonlOf(blobs, await blobs.list(keys.samples(runId))),
    // The same blobs assemble exports as the CodeGen set: the deduplicated unified Code CoTs.
    codegen: jsonlOf(blobs, await blobs.list(keys.verifiedCodeCots(runId))),
    rejections: rejectionsOf(blobs, runId),
    aws,
  };
}
