// Checks open batch rounds, many per call, and sends the shard message of every round whose
// batches have all ended (the shard then collects and runs its next round). Nothing else runs
// while a batch works: locally the run's idle loop calls this every `llm.batchPollSeconds`; on AWS
// a schedule would. The message is sent BEFORE the round is marked ended, so a crash in between
// only sends it twice (the runner is idempotent), never zero times.
import type { ShardMessage } from '../../store/ports.ts';
import { refreshRound, type BatchServices } from './shard-batch.ts';
import type { BatchStatus } from './provider.ts';
import { RELEASED, type BatchRound, type BatchStore } from './store.ts';

export interface OpenBatchView {
  runId: string;
  stage: string;
  shard: string;
  round: number;
  batchId: string | null;
  status: BatchStatus | 'submitting';
  counts: { total: number; completed: number; failed: number };
  /** Seconds since the batch was created (or the round claimed). */
  ageS: number;
}

export interface PollResult {
  /** Shards sent back to their stage (their round ended). */
  resumed: ShardMessage[];
  /** Batches still open after this poll. */
  open: OpenBatchView[];
}

export async function pollOpenBatches(
  svc: Pick<BatchServices, 'store' | 'provider' | 'now'> & { staleMs?: number },
  send: (msg: ShardMessage) => Promise<void>,
  runId?: string,
): Promise<PollResult> {
  const now = svc.now?.() ?? Date.now();
  const out: PollResult = { resumed: [], open: [] };
  for (const round of await svc.store.listOpen(runId)) {
    if (round.state === 'claimed') {
      // Being submitted. A claim older than any worker lives is a dead submission: send the shard
      // again now (its own redelivery may be an SQS visibility timeout away); the runner takes the
      // claim over and finds any batch it had created by metadata.
      if (round.owner === RELEASED || (svc.staleMs !== undefined && now - round.claimedAt > svc.staleMs)) {
        const msg = { runId: round.runId, stage: round.stage, shard: round.shard };
        await send(msg);
        out.resumed.push(msg);
      }
      out.open.push(...viewsOf(round, now));
      continue;
    }
    const r = await refreshRound(round, svc);
    if (r.ended) {
      const msg = { runId: round.runId, stage: round.stage, shard: round.shard };
      await send(msg);
      await svc.store.transition({ ...r.round, state: 'ended' }, ['submitted']);
      out.resumed.push(msg);
      continue;
    }
    await svc.store.transition(r.round, ['submitted']);
    out.open.push(...viewsOf(r.round, now));
  }
  return out;
}

/** The open batches as last recorded (no provider call): `caco run`'s stop summary. */
export async function listOpenBatches(store: BatchStore, runId?: string, now = Date.now()): Promise<OpenBatchView[]> {
  return (await store.listOpen(runId)).flatMap((r) => viewsOf(r, now));
}

function viewsOf(round: BatchRound, now: number): OpenBatchView[] {
  if (round.state === 'claimed' || round.parts.length === 0) {
    return [{ ...key(round), batchId: null, status: 'submitting', counts: { total: 0, completed: 0, failed: 0 }, ageS: Math.round((now - round.claimedAt) / 1000) }];
  }
  return round.parts.map((p) => ({ ...key(round), batchId: p.batchId, status: p.status, counts: p.counts, ageS: Math.max(0, Math.round(now / 1000 - p.createdAt)) }));
}

const key = (r: { runId: string; stage: string; shard: string; round: number }) => ({ runId: r.runId, stage: r.stage, shard: r.shard, round: r.round });

/** One progress line per open batch: `batch unify/u00000 r1 batch_12: in_progress 40/100 done, 2 failed, 3m05s`. */
export function formatOpenBatch(b: OpenBatchView): string {
  const age = b.ageS >= 60 ? `${Math.floor(b.ageS / 60)}m${String(b.ageS % 60).padStart(2, '0')}s` : `${b.ageS}s`;
  const counts = b.counts.total ? ` ${b.counts.completed}/${b.counts.total} done${b.counts.failed ? `, ${b.counts.failed} failed` : ''}` : '';
  return `batch ${b.stage}/${b.shard} r${b.round} ${b.batchId ?? '(submitting)'}: ${b.status}${counts}, ${age}`;
}
