// Starts the local AWS emulators (s3rver, dynalite, local-aws-sqs) on 127.0.0.1 random ports
// inside a test, and stops them. Also: the pipeline's table and queues, S3 -> SQS notifications
// (s3rver emits events; we forward `incoming/*.jsonl` creations like the real bucket notification),
// and a poller that drives a handler the way Lambda's SQS event source does.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo, Server } from 'node:net';
import { createRequire } from 'node:module';
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { makeClients, type AwsClients, type ClientOptions } from '../../lib/aws/clients.ts';
import { tableDefinition } from '../../lib/aws/table.ts';

const require = createRequire(import.meta.url);
const dynalite = require('dynalite');
const { createSqsServer } = require('local-aws-sqs');

export const EMULATOR_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export interface AwsEmulators {
  endpoints: { s3: string; dynamodb: string; sqs: string };
  clientOptions: ClientOptions;
  clients: AwsClients;
  /** Emits 'event' with each S3 notification s3rver raises ({ Records: [...] }). */
  s3rver: EventEmitter;
  stop(): Promise<void>;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

// s3rver runs in a child Node with the OpenSSL legacy provider: its ListObjectsV2 continuation
// tokens are DES-encrypted, and without that provider every truncated listing is a 500.
const S3RVER_CHILD = `
const S3rver = require(process.env.S3RVER_MODULE);
const s3 = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: process.env.S3RVER_DIR, resetOnClose: true });
s3.on('event', (event) => process.send({ event }));
s3.run().then(({ port }) => process.send({ port }));
process.on('message', async (m) => { if (m === 'stop') { await s3.close(); process.exit(0); } });
process.on('disconnect', () => process.exit(0)); // the test process died: do not linger
`;

async function startS3rver(dir: string): Promise<{ port: number; events: EventEmitter; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--openssl-legacy-provider', '-e', S3RVER_CHILD], {
    env: { PATH: process.env.PATH, S3RVER_MODULE: require.resolve('s3rver'), S3RVER_DIR: dir },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const events = new EventEmitter();
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`s3rver exited with ${code}`)));
    child.on('message', (m: { port?: number; event?: unknown }) => {
      if (m.port) resolve(m.port);
      if (m.event) events.emit('event', m.event);
    });
  });
  child.removeAllListeners('exit');
  return { port, events, child };
}

export async function startAwsEmulators(): Promise<AwsEmulators> {
  const dir = mkdtempSync(join(tmpdir(), 's3rver-'));
  const { port: s3Port, events: s3Events, child: s3Child } = await startS3rver(dir);
  const dyn: Server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const dynPort = await listen(dyn);
  const sqsServer: Server = await createSqsServer({ port: 0, hostname: '127.0.0.1', emulateQueueCreationLifecycle: false });
  const sqsPort = (sqsServer.address() as AddressInfo).port;
  const endpoints = {
    s3: `http://127.0.0.1:${s3Port}`,
    dynamodb: `http://127.0.0.1:${dynPort}`,
    sqs: `http://127.0.0.1:${sqsPort}`,
  };
  const clientOptions: ClientOptions = { region: 'us-east-1', endpoints, credentials: EMULATOR_CREDENTIALS };
  const clients = makeClients(clientOptions);
  return {
    endpoints,
    clientOptions,
    clients,
    s3rver: s3Events,
    async stop() {
      for (const c of Object.values(clients)) (c as { destroy(): void }).destroy();
      if (s3Child.exitCode === null) {
        const exited = once(s3Child, 'exit');
        s3Child.send('stop');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
        if (s3Child.exitCode === null) s3Child.kill('SIGKILL');
      }
      await new Promise<void>((r) => dyn.close(() => r()));
      (sqsServer as Server & { closeAllConnections?: () => void }).closeAllConnections?.();
      await new Promise<void>((r) => sqsServer.close(() => r()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function createBucket(emu: AwsEmulators, bucket: string): Promise<void> {
  await emu.clients.s3.send(new CreateBucketCommand({ Bucket: bucket }));
}

export async function createTable(emu: AwsEmulators, table: string): Promise<void> {
  await emu.clients.dynamo.send(new CreateTableCommand(tableDefinition(table)));
}

export interface StageQueues {
  queues: Record<string, string>;
  dlqs: Record<string, string>;
}

/** One queue per name, each with a DLQ and a redrive policy, like the stack's StageFunction. */
export async function createStageQueues(
  emu: AwsEmulators,
  names: readonly string[],
  opts: { maxReceiveCount?: number; visibilityTimeoutSeconds?: number } = {},
): Promise<StageQueues> {
  const out: StageQueues = { queues: {}, dlqs: {} };
  for (const name of names) {
    const dlq = await emu.clients.sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }));
    const attrs = await emu.clients.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl!, AttributeNames: ['All'] }),
    );
    const q = await emu.clients.sqs.send(
      new CreateQueueCommand({
        QueueName: name,
        Attributes: {
          VisibilityTimeout: String(opts.visibilityTimeoutSeconds ?? 30),
          RedrivePolicy: JSON.stringify({
            maxReceiveCount: opts.maxReceiveCount ?? 3,
            deadLetterTargetArn: attrs.Attributes!.QueueArn,
          }),
        },
      }),
    );
    out.queues[name] = q.QueueUrl!;
    out.dlqs[name] = dlq.QueueUrl!;
  }
  return out;
}

/**
 * Forwards s3rver's ObjectCreated events for `prefix*suffix` keys to an SQS queue as the real S3
 * notification would (body = the S3 event JSON). Returns a function that stops forwarding.
 */
export function forwardS3Events(
  emu: AwsEmulators,
  queueUrl: string,
  filter: { prefix: string; suffix: string } = { prefix: 'incoming/', suffix: '.jsonl' },
): () => void {
  const onEvent = (event: { Records: Array<{ eventName: string; s3: { object: { key: string } } }> }) => {
    const records = event.Records.filter(
      (r) =>
        r.eventName.startsWith('ObjectCreated') &&
        r.s3.object.key.startsWith(filter.prefix) &&
        r.s3.object.key.endsWith(filter.suffix),
    );
    if (records.length === 0) return;
    void emu.clients.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify({ Records: records }) }));
  };
  emu.s3rver.on('event', onEvent);
  return () => emu.s3rver.off('event', onEvent);
}

export type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | void>;

/** A Lambda context for handlers driven by pollOnce: `remainingMs` left at the start of each call. */
export function lambdaContext(remainingMs = 900_000): Context {
  const deadline = Date.now() + remainingMs;
  return {
    functionName: 'emulated',
    awsRequestId: `req-${Math.random().toString(36).slice(2)}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  } as unknown as Context;
}

/**
 * One poll of Lambda's SQS event source: receive up to `batchSize` messages (they become invisible
 * for the queue's visibility timeout), call the handler with an SQSEvent, delete the messages that
 * are not reported in batchItemFailures. A thrown handler error fails the whole batch (nothing is
 * deleted), so the messages come back after the visibility timeout and, after maxReceiveCount
 * receives, move to the DLQ. Returns how many messages were received. Use waitSeconds 0 (the
 * default) with local-aws-sqs: its long polling double-counts receives.
 */
export async function pollOnce(
  emu: AwsEmulators,
  queueUrl: string,
  handler: SqsHandler,
  opts: { batchSize?: number; waitSeconds?: number; queueArn?: string; remainingMs?: number } = {},
): Promise<number> {
  const res = await emu.clients.sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: opts.batchSize ?? 10,
      WaitTimeSeconds: opts.waitSeconds ?? 0,
      AttributeNames: ['All'],
    }),
  );
  // local-aws-sqs 2.0 with WaitTimeSeconds > 0 can return one message twice in a response (and
  // count two receives); real SQS never does. Keep one copy, the last receipt handle.
  const byId = new Map((res.Messages ?? []).map((m) => [m.MessageId!, m]));
  const messages = [...byId.values()];
  if (messages.length === 0) return 0;
  const records: SQSRecord[] = messages.map((m) => ({
    messageId: m.MessageId!,
    receiptHandle: m.ReceiptHandle!,
    body: m.Body ?? '',
    attributes: (m.Attributes ?? {}) as unknown as SQSRecord['attributes'],
    messageAttributes: {},
    md5OfBody: m.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: opts.queueArn ?? queueUrl,
    awsRegion: 'us-east-1',
  }));
  let failed: Set<string>;
  try {
    const out = await handler({ Records: records }, lambdaContext(opts.remainingMs));
    failed = new Set((out?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
  } catch {
    failed = new Set(records.map((r) => r.messageId));
  }
  const done = messages.filter((m) => !failed.has(m.MessageId!));
  if (done.length > 0) {
    await emu.clients.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
      }),
    );
  }
  return messages.length;
}

/** ApproximateNumberOfMessages + NotVisible on a queue (e.g. a DLQ's depth). */
export async function queueDepth(emu: AwsEmulators, queueUrl: string): Promise<{ visible: number; inFlight: number }> {
  const a = await emu.clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['All'] }));
  return {
    visible: Number(a.Attributes?.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(a.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
  };
}

/** dynalite alone (DynamoDB's protocol on a random port) with the stack's table, and its clients. */
export async function startDynalite(table: string): Promise<{ endpoint: string; clientOptions: ClientOptions; clients: AwsClients; stop(): Promise<void> }> {
  const dyn: Server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const endpoint = `http://127.0.0.1:${await listen(dyn)}`;
  const clientOptions: ClientOptions = { region: 'us-east-1', endpoints: { dynamodb: endpoint }, credentials: EMULATOR_CREDENTIALS };
  const clients = makeClients(clientOptions);
  if (table) await clients.dynamo.send(new CreateTableCommand(tableDefinition(table)));
  return {
    endpoint,
    clientOptions,
    clients,
    async stop() {
      for (const c of Object.values(clients)) (c as { destroy(): void }).destroy();
      await new Promise<void>((r) => dyn.close(() => r()));
    },
  };
}
