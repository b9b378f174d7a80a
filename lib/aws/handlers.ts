// The Lambda handler factories: Powertools batch processing with partial batch failures (a failed
// message is retried alone, and reaches the DLQ after maxReceiveCount), structured logs, metrics.
// Each functions/<stage>.ts is one line around these.
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { Logger as PipelineLogger } from '../pipeline/deps.ts';
import {
  createLambdaRuntime,
  handleIngestRecord,
  handleShardRecord,
  markRunFailed,
  pollBatches,
  PoisonMessageError,
  type LambdaRuntime,
  type LambdaRuntimeOptions,
} from './lambda-runtime.ts';

export type SqsLambdaHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

function asPipelineLogger(logger: Logger): PipelineLogger {
  return {
    info: (m, e) => logger.info(m, e ?? {}),
    warn: (m, e) => logger.warn(m, e ?? {}),
    error: (m, e) => logger.error(m, e ?? {}),
  };
}

function makeHandler(
  kind: 'shard' | 'ingest',
  opts: LambdaRuntimeOptions,
): SqsLambdaHandler {
  const logger = new Logger();
  const metrics = new Metrics();
  const processor = new BatchProcessor(EventType.SQS);
  let rt: LambdaRuntime | null = null; // built on the first invocation (cold start), then reused

  return async (event, context) => {
    rt ??= createLambdaRuntime({ log: asPipelineLogger(logger), ...opts });
    const runtime = rt;
    const onRecord = async (record: SQSRecord) => {
      const remainingMs = () => context.getRemainingTimeInMillis();
      const receives = Number(record.attributes?.ApproximateReceiveCount ?? 0);
      // The last receive: a failure now sends the message to the DLQ, so the run is marked failed
      // (also just before the function's timeout, which would kill this process silently).
      const last = kind === 'shard' && !!runtime.env.maxReceiveCount && receives >= runtime.env.maxReceiveCount;
      const fail = (reason: string) =>
        markRunFailed(runtime, record.body, reason, receives).catch((e: Error) => logger.error('could not mark the run failed', { reason: e.message }));
      const beforeTimeout = last
        ? setTimeout(() => void fail(`the function timed out on the last of ${receives} attempts`), Math.max(0, remainingMs() - 3000))
        : null;
      try {
        if (kind === 'ingest') {
          for (const r of await handleIngestRecord(runtime, record.body, remainingMs)) {
            logger.info('ingested', { ...r });
            metrics.addMetric(r.created ? 'RunsStarted' : 'RunsRedropped', MetricUnit.Count, 1);
          }
        } else {
          const outcome = await handleShardRecord(runtime, record.body, remainingMs);
          metrics.addMetric(`Shards_${outcome}`, MetricUnit.Count, 1);
        }
      } catch (err) {
        const e = err as Error;
        logger.error('message failed', {
          messageId: record.messageId,
          receiveCount: Number(record.attributes?.ApproximateReceiveCount ?? 0),
          poison: e instanceof PoisonMessageError,
          reason: e.message,
        });
        metrics.addMetric('MessagesFailed', MetricUnit.Count, 1);
        if (last) await fail(`${e.name}: ${e.message}`);
        throw err;
      } finally {
        if (beforeTimeout) clearTimeout(beforeTimeout);
      }
    };
    try {
      // One record at a time: the request meter books each record's requests to its run.
      return await processPartialResponse(event, onRecord, processor, {
        context,
        processInParallel: false,
        throwOnFullBatchFailure: false,
      });
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}

/** A stage function (generate, execute, filter, backtranslate, assemble): shard messages. */
export function makeShardHandler(opts: LambdaRuntimeOptions = {}): SqsLambdaHandler {
  return makeHandler('shard', opts);
}

/** The ingest function: S3 ObjectCreated notifications for incoming/*.jsonl. */
export function makeIngestHandler(opts: LambdaRuntimeOptions = {}): SqsLambdaHandler {
  return makeHandler('ingest', opts);
}

/**
 * The batch poller: invoked by a schedule (EventBridge, every minute), not by a queue. Checks all
 * open batches in one call; a failure is logged and retried by the next tick.
 */
export function makeBatchPollerHandler(opts: LambdaRuntimeOptions = {}): () => Promise<{ resumed: number; open: number }> {
  const logger = new Logger();
  let rt: LambdaRuntime | null = null;
  return async () => {
    rt ??= createLambdaRuntime({ log: asPipelineLogger(logger), ...opts });
    const r = await pollBatches(rt);
    for (const m of r.resumed) logger.info('batch round ended: shard resumed', { ...m });
    logger.info('open batches', { open: r.open.length, batches: r.open.slice(0, 50) });
    return { resumed: r.resumed.length, open: r.open.length };
  };
}
