// `caco runs`: every run of a deployment with its status and counts. Runs are found by their
// folders in the bucket (runs/<id>/: one LIST page per 1,000 runs, never a table scan, which at
// paper scale would read millions of dedup items); each run's record and per-stage shard counts
// are one GetItem and one small Query; a finished run's sample count comes from its stats.json.
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { RemoteTarget } from './remote.ts';
import { DynamoStateStore } from './dynamo-state-store.ts';
import { S3BlobStore } from './s3-blob-store.ts';
import { keys as blobKeys } from '../pipeline/keys.ts';
import { keys as tableKeys } from './table.ts';
import type { RunState } from '../store/ports.ts';

export interface RunListing {
  runId: string;
  status: RunState['status'] | 'unknown';
  createdAt: string;
  mode: string;
  input: string;
  /** Shards recorded per stage (progress items). */
  shardsDone: Record<string, number>;
  expected: Record<string, number>;
  /** Samples in the dataset (finished runs). */
  samples: number | null;
  /** Why it failed (failed runs). */
  failure: string | null;
}

export async function runIdsInBucket(t: RemoteTarget): Promise<string[]> {
  const ids: string[] = [];
  let token: string | undefined;
  do {
    const res = await t.clients.s3.send(new ListObjectsV2Command({ Bucket: t.bucket, Prefix: 'runs/', Delimiter: '/', ContinuationToken: token }));
    for (const p of res.CommonPrefixes ?? []) if (p.Prefix) ids.push(p.Prefix.slice('runs/'.length, -1));
    token = res.IsTruncated ? res.NextContinuationToken : undefined;
  } while (token);
  return ids;
}

export async function listRuns(t: RemoteTarget): Promise<RunListing[]> {
  const state = new DynamoStateStore(t.clients.doc, t.table);
  const blobs = new S3BlobStore(t.clients.s3, t.bucket);
  const out: RunListing[] = [];
  for (const runId of await runIdsInBucket(t)) {
    const run = await state.getRun(runId);
    const shardsDone: Record<string, number> = {};
    const res = await t.clients.doc.send(
      new QueryCommand({
        TableName: t.table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
        ExpressionAttributeValues: { ':pk': tableKeys.run(runId).pk, ':p': 'PROGRESS#' },
        ProjectionExpression: 'sk, doneCount',
      }),
    );
    for (const item of res.Items ?? []) shardsDone[String(item.sk).slice('PROGRESS#'.length)] = Number(item.doneCount ?? 0);
    let samples: number | null = null;
    if (run?.status === 'done') {
      const stats = await blobs.get(blobKeys.dataset(runId, 'stats.json'));
      if (stats) samples = Number((JSON.parse(stats.toString('utf8')) as { samples?: number }).samples ?? 0);
    }
    out.push({
      runId,
      status: run?.status ?? 'unknown',
      createdAt: run?.createdAt ?? '',
      mode: run?.mode ?? '',
      input: run?.input ?? '',
      shardsDone,
      expected: run?.expected ?? {},
      samples,
      failure: run?.failure ? `${run.failure.stage}${run.failure.shard !== '-' ? ` ${run.failure.shard}` : ''}: ${run.failure.reason}` : null,
    });
  }
  return out.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}

export function formatRuns(runs: readonly RunListing[]): string {
  if (runs.length === 0) return 'no runs';
  const lines = ['run id              status   created               mode        samples  shards done (stage: n)  input'];
  for (const r of runs) {
    const shards = Object.entries(r.shardsDone).map(([s, n]) => `${s} ${n}`).join(', ') || '-';
    lines.push(
      `${r.runId.padEnd(19)} ${r.status.padEnd(8)} ${(r.createdAt.slice(0, 19) || '-').padEnd(21)} ${(r.mode || '-').padEnd(11)} ${String(r.samples ?? '-').padStart(7)}  ${shards.padEnd(22)}  ${r.input}`,
    );
    if (r.failure) lines.push(`    FAILED ${r.failure.split('\n')[0]}`);
  }
  return lines.join('\n');
}
