// WorkQueue on SQS: one queue per stage; the message body is the JSON ShardMessage (claim check).
// sendMany: SendMessageBatch (10 a request), 16 requests in flight, entries SQS did not take
// retried with backoff; one request per 10 messages instead of one per message (ingest and the
// dedup barrier's finish send one message per shard: 53,000 at paper scale).
import { SendMessageBatchCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { ShardMessage, StageName, WorkQueue } from '../store/ports.ts';

const BATCH = 10;
const IN_FLIGHT = 16;
const ATTEMPTS = 6;

export class SqsWorkQueue implements WorkQueue {
  constructor(
    private readonly sqs: SQSClient,
    /** Queue URL per stage. A stage may share another's queue (unify rides the generate queue). */
    private readonly queueUrls: Partial<Record<StageName, string>>,
  ) {}

  private urlOf(stage: StageName): string {
    const url = this.queueUrls[stage];
    if (!url) throw new Error(`no queue configured for stage "${stage}"`);
    return url;
  }

  async send(msg: ShardMessage): Promise<void> {
    await this.sqs.send(new SendMessageCommand({ QueueUrl: this.urlOf(msg.stage), MessageBody: JSON.stringify(msg) }));
  }

  async sendMany(msgs: ShardMessage[]): Promise<void> {
    const byQueue = new Map<string, ShardMessage[]>();
    for (const m of msgs) {
      const url = this.urlOf(m.stage);
      const list = byQueue.get(url);
      if (list) list.push(m);
      else byQueue.set(url, [m]);
    }
    const batches: { url: string; msgs: ShardMessage[] }[] = [];
    for (const [url, list] of byQueue) for (let i = 0; i < list.length; i += BATCH) batches.push({ url, msgs: list.slice(i, i + BATCH) });
    let next = 0;
    const worker = async () => {
      while (next < batches.length) await this.sendBatch(batches[next]!.url, batches[next++]!.msgs);
    };
    await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, batches.length) }, worker));
  }

  private async sendBatch(url: string, msgs: ShardMessage[]): Promise<void> {
    let left = msgs.map((m, i) => ({ Id: String(i), MessageBody: JSON.stringify(m) }));
    for (let attempt = 0; left.length > 0; attempt++) {
      if (attempt >= ATTEMPTS) throw new Error(`SQS did not take ${left.length} messages after ${ATTEMPTS} attempts: ${left.map((e) => e.MessageBody).join(', ')}`);
      if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(2000, 50 * 2 ** attempt)));
      const res = await this.sqs.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: left }));
      const failed = new Set((res.Failed ?? []).filter((f) => !f.SenderFault).map((f) => f.Id));
      const fatal = (res.Failed ?? []).filter((f) => f.SenderFault);
      if (fatal.length) throw new Error(`SQS refused messages: ${fatal.map((f) => `${f.Code}: ${f.Message}`).join('; ')}`);
      left = left.filter((e) => failed.has(e.Id));
    }
  }
}
