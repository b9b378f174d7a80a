// The deployed stack, emulated in process for end-to-end tests: one bucket, one table, one queue
// (with a DLQ) per stage function, the real handler factories of lib/aws/handlers.ts wired like
// lib/infra (same routing, memory sizes, batch size 1), and a driver that behaves like Lambda's SQS
// event source: each function instance polls its queue, runs the handler, deletes what succeeded;
// failed messages come back after the visibility timeout and reach the DLQ after maxReceiveCount.
//
// Faults are injected around the real handlers: duplicated deliveries (a copy of every message is
// sent back to its queue), crashes at a chosen AWS request inside a chosen shard (the SDK call
// throws, so the invocation dies with some outputs written and others not), and lost
// acknowledgements (the handler finished but the delete never happened).
import { AsyncLocalStorage } from 'node:async_hooks';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SQSBatchResponse } from 'aws-lambda';
import { makeBatchPollerHandler, makeIngestHandler, makeShardHandler, type SqsLambdaHandler } from '../../lib/aws/handlers.ts';
import type { LambdaEnv } from '../../lib/aws/lambda-runtime.ts';
import type { RunConfig } from '../../lib/config.ts';
import { QUEUE_OF, STAGE_FUNCTIONS, type StageFunctionName } from '../../lib/infra/routing.ts';
import type { Executor } from '../../lib/pipeline/registry.ts';
import { createSandboxPool } from '../../lib/sandbox/pool.ts';
import { DynamoStateStore } from '../../lib/aws/dynamo-state-store.ts';
import { resolveTarget, submitRun, type RemoteTarget } from '../../lib/aws/remote.ts';
import type { StageName } from '../../lib/store/ports.ts';
import { CACO, stageNames } from '../../lib/pipeline/spec.ts';
import {
  createBucket,
  createStageQueues,
  createTable,
  forwardS3Events,
  pollOnce,
  queueDepth,
  type AwsEmulators,
  type SqsHandler,
  type StageQueues,
} from './aws-emulators.ts';

/** Memory per function, as lib/infra/caco-stack.ts sets it (the cost ledger books GB-s with it). */
export const FUNCTION_MEMORY_MB: Record<StageFunctionName, number> = {
  ingest: 1024,
  generate: 512,
  execute: 4096,
  filter: 3008,
  backtranslate: 512,
  assemble: 2048,
};

export interface EmulatedStack {
  name: string;
  bucket: string;
  table: string;
  queues: StageQueues;
  /** Handler instances per function (each is one warm Lambda container with its own runtime). */
  handlers: Record<StageFunctionName, SqsLambdaHandler[]>;
  /** The batch poller function (the stack's schedule invokes it every minute; driveStack every `batchPollMs`). */
  batchPoller: () => Promise<{ resumed: number; open: number }>;
  close(): Promise<void>;
}

export interface StackOptions {
  visibilityTimeoutSeconds?: number;
  maxReceiveCount?: number;
  /** Containers per function (default 1; LLM and filter functions may run two at once). */
  instances?: Partial<Record<StageFunctionName, number>>;
}

export async function createEmulatedStack(emu: AwsEmulators, name: string, opts: StackOptions = {}): Promise<EmulatedStack> {
  const bucket = `${name}-bucket`;
  const table = `${name}-state`;
  await createBucket(emu, bucket);
  await createTable(emu, table);
  const queues = await createStageQueues(
    emu,
    STAGE_FUNCTIONS.map((f) => `${name}-${f}`),
    { visibilityTimeoutSeconds: opts.visibilityTimeoutSeconds ?? 30, maxReceiveCount: opts.maxReceiveCount ?? 3 },
  );
  const urlOf = (f: StageFunctionName) => queues.queues[`${name}-${f}`]!;
  const stopForwarding = forwardS3Events(emu, urlOf('ingest'));
  const allQueues = Object.fromEntries(stageNames(CACO).map((s) => [s, urlOf(QUEUE_OF[s]!)])) as Record<StageName, string>;
  const pools: Promise<Executor & { close(): Promise<void> }>[] = [];
  const handlers = {} as EmulatedStack['handlers'];
  for (const fn of STAGE_FUNCTIONS) {
    const env: LambdaEnv = { bucket, table, queues: allQueues, functionName: fn, memoryMb: FUNCTION_MEMORY_MB[fn] };
    const common = { env, clientOptions: emu.clientOptions, processEnv: {} };
    handlers[fn] = Array.from({ length: opts.instances?.[fn] ?? 1 }, () => {
      if (fn === 'ingest') return makeIngestHandler(common);
      if (fn !== 'execute') return makeShardHandler(common);
      return makeShardHandler({
        ...common,
        sandbox: (cfg: RunConfig) => {
          const p = createSandboxPool(cfg.sandbox);
          pools.push(p);
          return p;
        },
      });
    });
  }
  const batchPoller = makeBatchPollerHandler({ env: { bucket, table, queues: allQueues, functionName: 'batch-poller', memoryMb: 256 }, clientOptions: emu.clientOptions, processEnv: {} });
  // Keep SQS's queue names so the driver can address them.
  const byFunction = Object.fromEntries(STAGE_FUNCTIONS.map((f) => [f, urlOf(f)]));
  const dlqByFunction = Object.fromEntries(STAGE_FUNCTIONS.map((f) => [f, queues.dlqs[`${name}-${f}`]!]));
  return {
    name,
    bucket,
    table,
    queues: { queues: byFunction, dlqs: dlqByFunction },
    handlers,
    batchPoller,
    async close() {
      stopForwarding();
      for (const p of pools) await (await p).close();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Fault injection

/** The message an invocation is working on, for crash points that target one shard. */
const current = new AsyncLocalStorage<{ body: string }>();

export interface CrashPoint {
  /** Matches the message being processed (e.g. /"stage":"dedup","shard":"g00001"/). */
  message: RegExp;
  service: 's3' | 'dynamodb' | 'sqs';
  /** SDK command name (PutObjectCommand, SendMessageCommand; DynamoDB: the document client's PutCommand, UpdateCommand...). */
  command: string;
  /** Matches JSON of the command's input (e.g. a key); default: any. */
  input?: RegExp;
  /** Crash at the nth matching request (1-based, default 1). Each crash point fires once. */
  nth?: number;
}

export interface Faults {
  /** Every message is delivered twice (a copy is sent to the queue when the original is first received). */
  duplicateEveryMessage?: boolean;
  crashes?: CrashPoint[];
  /** Messages whose handler succeeds but whose delete is lost once (they come back after the visibility timeout). */
  lostAcks?: RegExp[];
}

export class InjectedCrash extends Error {
  override name = 'InjectedCrash';
}

/** Patches the SDK clients' send so that the crash points throw; returns what fired, and an undo. */
function armCrashes(points: CrashPoint[]): { fired: CrashPoint[]; undo: () => void } {
  const fired: CrashPoint[] = [];
  const seen = new Map<CrashPoint, number>();
  const undo: (() => void)[] = [];
  const patch = (service: CrashPoint['service'], proto: { send: (...a: unknown[]) => unknown }) => {
    const own = Object.prototype.hasOwnProperty.call(proto, 'send');
    const original = proto.send;
    proto.send = function (this: unknown, command: { constructor: { name: string }; input: unknown }, ...rest: unknown[]) {
      const msg = current.getStore();
      if (msg) {
        for (const p of points) {
          if (fired.includes(p) || p.service !== service || p.command !== command.constructor.name || !p.message.test(msg.body)) continue;
          if (p.input && !p.input.test(JSON.stringify(command.input, (_k, v) => (v instanceof Uint8Array ? '<bytes>' : v)))) continue;
          const n = (seen.get(p) ?? 0) + 1;
          seen.set(p, n);
          if (n === (p.nth ?? 1)) {
            fired.push(p);
            return Promise.reject(new InjectedCrash(`injected crash at ${service} ${p.command} #${n} while processing ${msg.body}`));
          }
        }
      }
      return original.call(this, command, ...rest);
    } as typeof original;
    undo.push(() => {
      if (own) proto.send = original;
      else delete (proto as { send?: unknown }).send;
    });
  };
  patch('s3', S3Client.prototype as never);
  patch('dynamodb', DynamoDBClient.prototype as never);
  patch('dynamodb', DynamoDBDocumentClient.prototype as never);
  patch('sqs', SQSClient.prototype as never);
  return { fired, undo: () => undo.forEach((u) => u()) };
}

// ---------------------------------------------------------------------------------------------
// The driver

export interface DriveReport {
  invocations: Record<StageFunctionName, number>;
  failedItems: number;
  duplicatesSent: number;
  crashesFired: CrashPoint[];
  lostAcks: number;
  wallMs: number;
  /** Batch poller invocations (the schedule's ticks). */
  batchPolls: number;
}

/** Called after each invocation with its function, message bodies, start and end (performance.now()). */
export type InvocationHook = (fn: StageFunctionName, bodies: string[], startMs: number, endMs: number) => void;

/**
 * Runs every function's pollers until all queues are empty and nothing is in flight (checked
 * twice in a row), like Lambda's event sources over the stack's queues. Throws after timeoutMs.
 */
export async function driveStack(
  emu: AwsEmulators,
  stack: EmulatedStack,
  opts: {
    faults?: Faults;
    timeoutMs?: number;
    batchPollMs?: number;
    onInvocation?: InvocationHook;
  } = {},
): Promise<DriveReport> {
  const t0 = Date.now();
  const faults = opts.faults ?? {};
  const crashes = armCrashes(faults.crashes ?? []);
  const report: DriveReport = {
    invocations: Object.fromEntries(STAGE_FUNCTIONS.map((f) => [f, 0])) as DriveReport['invocations'],
    failedItems: 0,
    duplicatesSent: 0,
    crashesFired: crashes.fired,
    lostAcks: 0,
    wallMs: 0,
    batchPolls: 0,
  };
  const copies = new Set<string>(); // message ids of the copies we sent
  const duplicated = new Set<string>();
  const lostOnce = new Set<string>();
  let busy = 0;
  let stop = false;

  const wrap = (fn: StageFunctionName, handler: SqsLambdaHandler): SqsHandler => async (event, context) => {
    busy++;
    try {
      report.invocations[fn]++;
      if (faults.duplicateEveryMessage) {
        for (const r of event.Records) {
          if (copies.has(r.messageId) || duplicated.has(r.messageId)) continue;
          duplicated.add(r.messageId);
          const sent = await emu.clients.sqs.send(new SendMessageCommand({ QueueUrl: stack.queues.queues[fn], MessageBody: r.body }));
          copies.add(sent.MessageId!);
          report.duplicatesSent++;
        }
      }
      const body = event.Records.map((r) => r.body).join('\n');
      const started = performance.now();
      const res: SQSBatchResponse = await current.run({ body }, () => handler(event, context));
      opts.onInvocation?.(fn, event.Records.map((r) => r.body), started, performance.now());
      // A copy: Powertools returns one shared module-level object for an all-success batch, and
      // pushing a lost ack into it would fail every later batch of every handler.
      const out: SQSBatchResponse = { batchItemFailures: [...res.batchItemFailures] };
      report.failedItems += out.batchItemFailures.length;
      if (process.env.CACO_DRIVE_TRACE) {
        for (const r of event.Records) {
          const failed = out.batchItemFailures.some((f) => f.itemIdentifier === r.messageId);
          (await import('node:fs')).appendFileSync(process.env.CACO_DRIVE_TRACE, `${Date.now()} ${fn} ${r.messageId} rc=${r.attributes.ApproximateReceiveCount} ${failed ? 'FAIL' : 'ok'} ${r.body}\n`);
        }
      }
      for (const r of event.Records) {
        if (!faults.lostAcks?.some((re) => re.test(r.body)) || lostOnce.has(r.body)) continue;
        if (out.batchItemFailures.some((f) => f.itemIdentifier === r.messageId)) continue;
        lostOnce.add(r.body);
        report.lostAcks++;
        out.batchItemFailures.push({ itemIdentifier: r.messageId }); // finished, but the delete is lost
      }
      return out;
    } finally {
      busy--;
    }
  };

  const workers: Promise<void>[] = [];
  for (const fn of STAGE_FUNCTIONS) {
    for (const h of stack.handlers[fn]) {
      const handler = wrap(fn, h);
      workers.push(
        (async () => {
          while (!stop) {
            const n = await pollOnce(emu, stack.queues.queues[fn]!, handler, { batchSize: 1 });
            if (n === 0) await sleep(40);
          }
        })(),
      );
    }
  }

  // The schedule: the batch poller every batchPollMs. The stack is drained only when a poll that
  // started after the last activity saw no open batch.
  let lastPoll = { startedAt: 0, busy: 0 };
  if (opts.batchPollMs) {
    workers.push(
      (async () => {
        while (!stop) {
          const startedAt = Date.now();
          const r = await stack.batchPoller();
          report.batchPolls++;
          lastPoll = { startedAt, busy: r.open + r.resumed };
          await sleep(opts.batchPollMs!);
        }
      })(),
    );
  }
  try {
    let quiet = 0;
    let lastActive = Date.now();
    while (quiet < 2) {
      if (Date.now() - t0 > (opts.timeoutMs ?? 120_000)) throw new Error(`the stack did not drain in ${opts.timeoutMs ?? 120_000} ms`);
      await sleep(150);
      let pending = busy;
      for (const fn of STAGE_FUNCTIONS) {
        const d = await queueDepth(emu, stack.queues.queues[fn]!);
        pending += d.visible + d.inFlight;
      }
      if (pending > 0) lastActive = Date.now();
      if (opts.batchPollMs && (lastPoll.startedAt <= lastActive || lastPoll.busy > 0)) pending++;
      quiet = pending === 0 ? quiet + 1 : 0;
    }
  } finally {
    stop = true;
    await Promise.allSettled(workers);
    crashes.undo();
  }
  report.wallMs = Date.now() - t0;
  return report;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Captures what the handlers log (Powertools and console write to stdout/stderr). */
export async function captureOutput<T>(fn: () => Promise<T>): Promise<{ result: T; output: string }> {
  let output = '';
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((chunk: string | Uint8Array) => ((output += String(chunk)), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => ((output += String(chunk)), true)) as typeof process.stderr.write;
  try {
    return { result: await fn(), output };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

/**
 * Submits an input and config as `caco submit` does, drives the stack until its queues are empty
 * and closes it; throws with the first failure lines unless the run finished.
 */
export async function submitAndDrive(
  emu: AwsEmulators,
  stack: EmulatedStack,
  input: string,
  configFile: string,
  timeoutMs: number,
  onInvocation?: InvocationHook,
): Promise<{ runId: string; drive: DriveReport; target: RemoteTarget; state: DynamoStateStore }> {
  const target = await resolveTarget({ bucket: stack.bucket, table: stack.table, clientOptions: emu.clientOptions });
  const { result, output } = await captureOutput(async () => {
    const submitted = await submitRun(target, input, configFile);
    const drive = await driveStack(emu, stack, { timeoutMs, onInvocation });
    return { submitted, drive };
  });
  await stack.close();
  const runId = result.submitted.runId;
  const state = new DynamoStateStore(emu.clients.doc, stack.table);
  const run = await state.getRun(runId);
  if (run?.status !== 'done') {
    const errors = output.split('\n').filter((l) => l.includes('"message failed"')).slice(0, 3);
    throw new Error(`the emulated run did not finish (${run?.status}):\n${errors.join('\n')}`);
  }
  return { runId, drive: result.drive, target, state };
}
