// Per-run record of what the AWS side spent, for `caco cost`: one item per (run, function) under
// the run's partition with ADD counters. Retries are counted on purpose: they are paid for.
import { QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { expiryFromNow, keys, TTL_ATTRIBUTE } from './table.ts';
import type { Meter } from './request-meter.ts';

export interface FunctionUsage extends Meter {
  function: string;
  invocations: number;
  /** Sum of invocation durations, ms (billed per 1 ms). */
  durationMs: number;
  memoryMb: number;
  /** Messages sent to queues, each received and deleted later by Lambda's SQS poller. */
  messagesSent?: number;
}

const USAGE_FIELDS = ['invocations', 'durationMs', 's3Put', 's3Get', 'sqsRequests', 'ddbWrite', 'ddbRead'] as const;

export class CostLedger {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly ttlDays = 30,
  ) {}

  async add(runId: string, usage: FunctionUsage): Promise<void> {
    const names: Record<string, string> = { '#ttl': TTL_ATTRIBUTE, '#fn': 'function', '#mem': 'memoryMb' };
    const values: Record<string, unknown> = { ':ttl': expiryFromNow(this.ttlDays), ':fn': usage.function, ':mem': usage.memoryMb };
    const adds: string[] = [];
    for (const f of USAGE_FIELDS) {
      names[`#${f}`] = f;
      values[`:${f}`] = usage[f];
      adds.push(`#${f} :${f}`);
    }
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: keys.run(runId).pk, sk: `COST#${usage.function}` },
        UpdateExpression: `ADD ${adds.join(', ')} SET #ttl = :ttl, #fn = :fn, #mem = :mem`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
  }

  async list(runId: string): Promise<FunctionUsage[]> {
    const res = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :c)',
        ExpressionAttributeValues: { ':pk': keys.run(runId).pk, ':c': 'COST#' },
        ConsistentRead: true,
      }),
    );
    return (res.Items ?? []).map((i) => ({
      function: String(i.function),
      memoryMb: Number(i.memoryMb),
      invocations: Number(i.invocations ?? 0),
      durationMs: Number(i.durationMs ?? 0),
      s3Put: Number(i.s3Put ?? 0),
      s3Get: Number(i.s3Get ?? 0),
      sqsRequests: Number(i.sqsRequests ?? 0),
      ddbWrite: Number(i.ddbWrite ?? 0),
      ddbRead: Number(i.ddbRead ?? 0),
    }));
  }
}
