// The local transport: drains the SQLite work queue through the same runner the Lambdas use,
// with a bounded number of shards in flight per stage (LLM stages wide, the sandbox narrow).
// Like SQS + Lambda: a failed shard is retried after a backoff and dead-lettered after
// maxAttempts; a crashed process's leases are released when the run resumes.
import type { ShardMessage, StageName } from '../store/ports.ts';
import type { SqliteWorkQueue } from '../store/sqlite-state.ts';
import type { PipelineDeps } from './deps.ts';
import { processShardMessage, type PipelineImpl, type ShardOutcome } from './runner.ts';
import type { PipelineSpec, StageDecl } from './spec.ts';

export interface DrainOptions {
  queue: SqliteWorkQueue;
  deps: PipelineDeps;
  impl: PipelineImpl;
  /** Shards in flight at once, per stage. */
  concurrency: Partial<Record<StageName, number>>;
  leaseMs?: number;
  retryDelayMs?: (attempt: number) => number;
  onShard?: (msg: ShardMessage, outcome: ShardOutcome | 'retry' | 'dead', error?: Error) => void;
  /** Stop taking new work (Ctrl-C): in-flight shards finish, the rest stays queued for resume. */
  signal?: AbortSignal;
  /**
   * Called when the queue is empty and nothing runs (batch mode: checks the open batches and
   * queues the shards whose batches ended); true while work is still outstanding, so the drain
   * waits `idleMs` and looks again instead of ending.
   */
  idle?: () => Promise<boolean>;
  idleMs?: number;
}

export interface DrainResult {
  processed: number;
  deadLetters: { msg: ShardMessage; error: string | null }[];
  stopped: boolean;
}

/** Shards in flight per stage, from its declared kind of work and the run's `local` settings. */
export function localConcurrency(spec: PipelineSpec, local: { llmShards: number; executeShards: number }): Record<StageName, number> {
  const of = (s: StageDecl) => (s.local === 'llm' ? local.llmShards : s.local === 'sandbox' ? local.executeShards : 1);
  return Object.fromEntries(spec.stages.filter((s) => s.kind !== 'source').map((s) => [s.name, of(s)]));
}

export async function drainLocal(opts: DrainOptions): Promise<DrainResult> {
  const { queue, deps, impl } = opts;
  // Downstream stages first (reverse pipeline order), so records flow to the dataset instead of
  // piling up mid-pipeline.
  const order = impl.spec.stages.filter((s) => s.kind !== 'source').map((s) => s.name).reverse();
  const leaseMs = opts.leaseMs ?? 30 * 60_000;
  const retryDelay = opts.retryDelayMs ?? ((a: number) => Math.min(30_000, 500 * 2 ** (a - 1)));
  const inFlight = new Map<StageName, number>();
  const running = new Set<Promise<void>>();
  let processed = 0;

  const slots = (stage: StageName) => (opts.concurrency[stage] ?? 1) - (inFlight.get(stage) ?? 0);

  while (!opts.signal?.aborted) {
    let started = 0;
    for (const stage of order) {
      const free = slots(stage);
      if (free <= 0) continue;
      for (const leased of queue.receive([stage], free, leaseMs)) {
        started++;
        inFlight.set(stage, (inFlight.get(stage) ?? 0) + 1);
        const p = processShardMessage(leased.msg, deps, impl)
          .then((outcome) => {
            queue.ack(leased.receipt);
            processed++;
            opts.onShard?.(leased.msg, outcome);
          })
          .catch((err: Error) => {
            const verdict = queue.nack(leased.receipt, err.stack ?? String(err), retryDelay(leased.attempts));
            deps.log.warn(`shard ${leased.msg.stage}/${leased.msg.shard} failed (${verdict})`, { error: err.message });
            opts.onShard?.(leased.msg, verdict, err);
          })
          .finally(() => {
            inFlight.set(stage, (inFlight.get(stage) ?? 1) - 1);
            running.delete(p);
          });
        running.add(p);
      }
    }
    if (started > 0) continue;
    if (running.size > 0) {
      // Wake when a shard finishes or every 200 ms (a delayed retry may have become visible).
      await Promise.race([...running, sleep(200)]);
      continue;
    }
    if (queue.pending() === 0) {
      if (!opts.idle || !(await opts.idle())) break;
      if (queue.pending() === 0) await sleepUnless(opts.idleMs ?? 30_000, opts.signal);
      continue;
    }
    await sleep(100);
  }
  await Promise.allSettled([...running]);
  return {
    processed,
    deadLetters: queue.deadLetters().map((d) => ({ msg: d.msg, error: d.error })),
    stopped: opts.signal?.aborted ?? false,
  };
}

/** Sleeps `ms`, or less when `signal` aborts (Ctrl-C during a long batch wait). */
function sleepUnless(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
