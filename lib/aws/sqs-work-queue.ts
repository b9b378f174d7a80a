// WorkQueue on SQS: one queue per stage; the message body is the JSON ShardMessage (claim check).
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { ShardMessage, StageName, WorkQueue } from '../store/ports.ts';

export class SqsWorkQueue implements WorkQueue {
  constructor(
    private readonly sqs: SQSClient,
    /** Queue URL per stage. A stage may share another's queue (unify rides the generate queue). */
    private readonly queueUrls: Partial<Record<StageName, string>>,
  ) {}

  async send(msg: ShardMessage): Promise<void> {
    const url = this.queueUrls[msg.stage];
    if (!url) throw new Error(`no queue configured for stage "${msg.stage}"`);
    await this.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: JSON.stringify(msg) }));
  }
}
