// What every Lambda handler shares: the ports built from the environment (bucket, table, queue
// URLs), the API key from Secrets Manager (read once per cold start), the pipeline wiring of
// lib/pipeline/registry.ts, request metering for the cost ledger, and the two record handlers
// (a shard message, an S3 drop into incoming/). Handlers in functions/ stay three lines.
import { createHash } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { parseRunConfig, type RunConfig } from '../config.ts';
import type { Logger, PipelineDeps } from '../pipeline/deps.ts';
import { keys as blobKeys } from '../pipeline/keys.ts';
import type { IngestResult } from '../pipeline/ingest.ts';
import type { RoleClients } from '../pipeline/llm-adapter.ts';
import { createPipeline, type Executor } from '../pipeline/registry.ts';
import { processShardMessage, type PipelineImpl, type ShardOutcome } from '../pipeline/runner.ts';
import type { ShardMessage, StageName } from '../store/ports.ts';
import { CACO } from '../pipeline/spec.ts';
import { shardMessageSchema } from '../pipeline/messages.ts';
import { describeZodError } from '../schema.ts';
import { z } from 'zod';
import { makeClients, type AwsClients, type ClientOptions } from './clients.ts';
import { CostLedger } from './cost-ledger.ts';
import { DynamoStateStore } from './dynamo-state-store.ts';
import { RequestMeter } from './request-meter.ts';
import { S3BlobStore } from './s3-blob-store.ts';
import { SqsWorkQueue } from './sqs-work-queue.ts';
import { configForDrop, recordRefusedDrop, refusedRunId } from './drop-config.ts';
import { runIdFor } from '../hosts/run-id.ts';
import { startRun } from '../hosts/start-run.ts';
import { llmClientsFor } from '../hosts/llm-clients.ts';
import { DynamoRateLimitStore } from './dynamo-rate-limit-store.ts';
import { loadRunConfig, RunCache } from '../hosts/run-cache.ts';
import { onePoolPerLimits } from '../sandbox/pool-cache.ts';
import { randomUUID } from 'node:crypto';
import { batchServices } from '../llm/batch/host.ts';
import { pollOpenBatches, type PollResult } from '../llm/batch/poller.ts';
import type { BatchServices } from '../llm/batch/shard-batch.ts';
import { DynamoBatchStore } from './dynamo-batch-store.ts';

/** The environment the stack gives every function (see lib/infra/caco-stack.ts). */
export interface LambdaEnv {
  bucket: string;
  table: string;
  /** Queue URL per stage this function may send to. */
  queues: Partial<Record<StageName, string>>;
  /** Name of the Secrets Manager secret with the LLM API key(s); absent: keys from process.env. */
  apiKeySecret?: string;
  /** The function's name for the cost ledger (its stage function: ingest, generate, ...). */
  functionName: string;
  memoryMb: number;
  /** LLM calls one invocation keeps in flight (CACO_LLM_CONCURRENCY; the stack sizes it). */
  llmConcurrency?: number;
  /** Receives before a message goes to the DLQ (CACO_MAX_RECEIVE_COUNT, the queue's redrive policy). */
  maxReceiveCount?: number;
}

export function readLambdaEnv(env: NodeJS.ProcessEnv = process.env): LambdaEnv {
  const need = (k: string) => {
    const v = env[k];
    if (!v) throw new Error(`environment variable ${k} is not set (the stack sets it)`);
    return v;
  };
  let queues: LambdaEnv['queues'];
  try {
    queues = JSON.parse(env.CACO_QUEUES ?? '{}');
  } catch {
    throw new Error('CACO_QUEUES is not valid JSON (expected {"<stage>": "<queue url>"})');
  }
  return {
    bucket: need('CACO_BUCKET'),
    table: need('CACO_TABLE'),
    queues,
    apiKeySecret: env.CACO_API_KEY_SECRET || undefined,
    functionName: env.CACO_STAGE || 'unknown',
    memoryMb: Number(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? 0),
    llmConcurrency: positive(env.CACO_LLM_CONCURRENCY),
    maxReceiveCount: positive(env.CACO_MAX_RECEIVE_COUNT),
  };
}

const positive = (v: string | undefined) => (v && Number(v) > 0 ? Number(v) : undefined);

import { llmConcurrencyOnLambda } from './llm-concurrency.ts';
export { llmConcurrencyOnLambda };

/** Stages whose shards call a model: only their functions fetch a run's cassette. */
const MODEL_STAGES: ReadonlySet<StageName> = new Set(CACO.stages.filter((s) => s.llmRoles?.length).map((s) => s.name));

/** A secret's value as environment entries: a JSON object maps names to keys; a plain string is OPENAI_API_KEY. */
export function secretToEnv(value: string): Record<string, string> {
  try {
    const parsed = JSON.parse(value);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
      return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, String(v)]));
    }
  } catch {
    /* not JSON: a bare key */
  }
  return { OPENAI_API_KEY: value.trim() };
}

export interface LambdaRuntimeOptions {
  env?: LambdaEnv;
  /** Emulator endpoints in tests; absent in Lambda. */
  clientOptions?: ClientOptions;
  /** The sandbox, for the execute function only (keeps Pyodide out of the other bundles). */
  sandbox?: (cfg: RunConfig) => Promise<Executor>;
  log?: Logger;
  /** Reads the API key secret; default: Secrets Manager GetSecretValue. */
  readSecret?: (name: string) => Promise<string>;
  /** Process environment for API keys when no secret is configured (tests, local). */
  processEnv?: Record<string, string | undefined>;
}

export interface LambdaRuntime {
  env: LambdaEnv;
  clients: AwsClients;
  state: DynamoStateStore;
  meter: RequestMeter;
  ledger: CostLedger;
  impl: PipelineImpl;
  /** Ports for one invocation (remainingMs from the Lambda context). */
  deps(remainingMs?: () => number): Promise<PipelineDeps>;
  /** Before a run's first shard here: fetch its cassette from the bucket if it is not a local file. */
  prepareRun(runId: string): Promise<void>;
  /** Batch mode: rounds in the table, providers per run and endpoint. */
  batch: BatchServices;
}

const consoleLog: Logger = {
  info: (m, e) => console.log(JSON.stringify({ level: 'INFO', message: m, ...e })),
  warn: (m, e) => console.warn(JSON.stringify({ level: 'WARN', message: m, ...e })),
  error: (m, e) => console.error(JSON.stringify({ level: 'ERROR', message: m, ...e })),
};

export function createLambdaRuntime(opts: LambdaRuntimeOptions = {}): LambdaRuntime {
  const env = opts.env ?? readLambdaEnv();
  const clients = makeClients(opts.clientOptions);
  const meter = new RequestMeter().attach(clients);
  const ledger = new CostLedger(clients.doc, env.table);
  const log = opts.log ?? consoleLog;
  const blobs = new S3BlobStore(clients.s3, env.bucket);
  const state = new DynamoStateStore(clients.doc, env.table);
  const queue = new SqsWorkQueue(clients.sqs, env.queues);

  // The API key secret, read once per cold start (and again only after a failed read).
  let secretEnv: Promise<Record<string, string>> | null = null;
  const loadSecrets = () => {
    if (!env.apiKeySecret) return Promise.resolve({});
    const read =
      opts.readSecret ??
      (async (name: string) => {
        const sm = new SecretsManagerClient({});
        const res = await sm.send(new GetSecretValueCommand({ SecretId: name }));
        if (!res.SecretString) throw new Error(`secret ${name} has no string value`);
        return res.SecretString;
      });
    secretEnv ??= read(env.apiKeySecret).then(secretToEnv);
    secretEnv.catch(() => (secretEnv = null));
    return secretEnv;
  };
  let loadedSecrets: Record<string, string> = {};
  const keyEnv = () => ({ ...(opts.processEnv ?? process.env), ...loadedSecrets });

  // Per-run values of a warm instance, each with an end (lib/hosts/run-cache.ts): the run's config
  // (shared with the pipeline wiring), its LLM clients, its cassette's local path.
  const configs = new RunCache<RunConfig>();
  const configOf = (runId: string) => configs.get(runId, () => loadRunConfig(blobs, runId));

  // A cassette named in the config is a local file (emulated runs) or an object in the bucket,
  // fetched to /tmp before the run's first LLM call (prepareRun).
  const cassettes = new RunCache<string | undefined>();
  const fetchCassette = (runId: string) =>
    cassettes.get(runId, async () => {
      const cfg = await configOf(runId);
      const path = cfg.llm.cassette.path;
      if (cfg.llm.cassette.mode === 'live' || !path || existsSync(path)) return path;
      const blob = await blobs.get(path);
      if (!blob) throw new Error(`cassette ${path} is neither a file nor an object in s3://${env.bucket}`);
      const local = join(tmpdir(), `caco-cassette-${createHash('sha256').update(path).digest('hex').slice(0, 16)}.jsonl`);
      writeFileSync(local, blob);
      return local;
    });
  const rateLimits = new DynamoRateLimitStore(clients.doc, env.table);
  // No per-request cache objects on S3: responses are cached per shard (registry, responseCache).
  const runClients = new RunCache<RoleClients>();
  const llmFor = (runId: string, cfg: RunConfig) =>
    runClients.get(runId, async () =>
      llmClientsFor(cfg, {
        cassettePath: await fetchCassette(runId),
        env: keyEnv(),
        endpoint: (role, resolved) => ({ ...resolved, concurrency: llmConcurrencyOnLambda(cfg, role, env.llmConcurrency) }),
        // rpm/tpm per key across every instance of the stack (one table item per key and window).
        ports: { rateLimits },
      }),
    );

  // Batch mode: a claim's owner is this container; a claim older than the longest invocation
  // (15 min, plus a minute) belongs to a dead one and is taken over.
  const batch = batchServices({
    store: new DynamoBatchStore(clients.doc, env.table),
    blobs,
    secrets: (name) => keyEnv()[name],
    replayOf: async (runId) => {
      const cfg = await configOf(runId);
      if (cfg.llm.cassette.mode !== 'replay') return null;
      return Object.values(await llmFor(runId, cfg)).find((c) => c?.cassette)?.cassette ?? null;
    },
    owner: `lambda-${randomUUID().slice(0, 8)}`,
    staleMs: 16 * 60_000,
  });

  // A warm execute function serves many runs: each gets a pool with its own sandbox limits.
  const sandboxFor = opts.sandbox ? onePoolPerLimits(opts.sandbox, (cfg: RunConfig) => cfg.sandbox) : null;
  const impl = createPipeline({
    sandbox: (cfg) => {
      if (!sandboxFor) throw new Error(`the ${env.functionName} function has no sandbox (only execute does)`);
      return sandboxFor(cfg);
    },
    llm: llmFor,
    configs,
    concurrency: (cfg, role) => llmConcurrencyOnLambda(cfg, role, env.llmConcurrency),
    responseCache: 'shard',
    batch,
  });

  return {
    env,
    clients,
    state,
    meter,
    ledger,
    impl,
    async deps(remainingMs) {
      loadedSecrets = await loadSecrets();
      return {
        blobs,
        state,
        queue,
        log,
        remainingMs,
        secrets: (name) => keyEnv()[name],
      };
    },
    prepareRun: async (runId) => void (await fetchCassette(runId)),
    batch,
  };
}

/**
 * The batch poller (a schedule invokes it every minute): checks every open batch round of every
 * run, and sends the shard message of each round whose batches ended to its stage's queue.
 */
export async function pollBatches(rt: LambdaRuntime): Promise<PollResult> {
  const deps = await rt.deps(); // loads the API key secret
  return pollOpenBatches(rt.batch, (m) => deps.queue.send(m));
}

/** Parses a queue message body as a ShardMessage; anything else is a poison message. */
export function parseShardMessage(body: string): ShardMessage {
  let v: unknown;
  try {
    v = JSON.parse(body);
  } catch {
    throw new PoisonMessageError(`message body is not JSON: ${body.slice(0, 200)}`);
  }
  const r = shardMessageSchema(CACO).safeParse(v);
  if (!r.success) throw new PoisonMessageError(`message is not a shard message {runId, stage, shard}: ${describeZodError(r.error)}: ${body.slice(0, 200)}`);
  return r.data;
}

export class PoisonMessageError extends Error {
  override name = 'PoisonMessageError';
}

/**
 * A shard message failing on its last receive goes to the DLQ: mark its run failed with the
 * stage, shard and reason, so `caco status` says why it cannot finish. Not for poison messages
 * (no run to name) and never for a finished run.
 */
export async function markRunFailed(rt: LambdaRuntime, body: string, reason: string, receives: number): Promise<boolean> {
  let msg: ShardMessage;
  try {
    msg = parseShardMessage(body);
  } catch {
    return false;
  }
  await rt.state.failRun(msg.runId, { stage: msg.stage, shard: msg.shard, reason: reason.slice(0, 1000), receives, at: new Date().toISOString() });
  return true;
}

/** Runs an action and books its duration and AWS requests to the run's cost ledger. */
async function metered<T>(rt: LambdaRuntime, runId: () => string | undefined, action: () => Promise<T>): Promise<T> {
  const before = rt.meter.snapshot();
  const t0 = performance.now();
  try {
    return await action();
  } finally {
    const id = runId();
    if (id) {
      const spent = rt.meter.since(before);
      await rt.ledger
        .add(id, {
          function: rt.env.functionName,
          invocations: 1,
          durationMs: Math.ceil(performance.now() - t0),
          memoryMb: rt.env.memoryMb,
          ...spent,
          ddbWrite: spent.ddbWrite + 1, // this ledger update itself
        })
        .catch(() => {}); // cost accounting never fails a shard
    }
  }
}

/** One SQS record of a stage queue: a shard message through the runner. */
export async function handleShardRecord(rt: LambdaRuntime, body: string, remainingMs?: () => number): Promise<ShardOutcome> {
  const msg = parseShardMessage(body);
  return metered(rt, () => msg.runId, async () => {
    const deps = await rt.deps(remainingMs);
    if (MODEL_STAGES.has(msg.stage)) await rt.prepareRun(msg.runId);
    return processShardMessage(msg, deps, rt.impl);
  });
}

/** The part of an S3 ObjectCreated notification ingest reads. */
const S3EventSchema = z.object({
  Records: z.array(z.object({ s3: z.object({ bucket: z.object({ name: z.string() }), object: z.object({ key: z.string().min(1) }) }) })),
});

/**
 * One SQS record of the ingest queue: an S3 ObjectCreated notification for incoming/*.jsonl.
 * The run id hashes the object's bytes and its config, so re-dropping the same object finds the
 * same run and starts nothing new. S3's test event (sent when the notification is set up) is ignored.
 */
export async function handleIngestRecord(rt: LambdaRuntime, body: string, remainingMs?: () => number): Promise<IngestResult[]> {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch {
    throw new PoisonMessageError(`ingest message is not JSON: ${body.slice(0, 200)}`);
  }
  if ((raw as { Event?: unknown } | null)?.Event === 's3:TestEvent') return []; // sent when the notification is set up
  const parsed = S3EventSchema.safeParse(raw);
  if (!parsed.success) throw new PoisonMessageError(`ingest message is not an S3 event: ${describeZodError(parsed.error)}: ${body.slice(0, 200)}`);
  const event = parsed.data;
  const out: IngestResult[] = [];
  for (const r of event.Records) {
    const key = decodeURIComponent(r.s3.object.key.replace(/\+/g, ' '));
    if (r.s3.bucket.name !== rt.env.bucket) throw new PoisonMessageError(`event for another bucket: ${r.s3.bucket.name}`);
    let runId: string | undefined;
    out.push(
      await metered(rt, () => runId, async () => {
        const deps = await rt.deps(remainingMs);
        const source = () => objectStream(rt, key);
        const found = await configForDrop(deps.blobs, key);
        if (!found.ok) {
          // Retrying would not help and a dead letter says nothing: a failed run that says why.
          runId = await refusedRunId(source(), found.text);
          await recordRefusedDrop(rt.state, deps.blobs, runId, `s3://${rt.env.bucket}/${key}`, found.reason);
          deps.log.error('drop refused: no usable run config', { runId, key, reason: found.reason });
          return { runId, created: false, accepted: 0, quarantined: 0 };
        }
        const cfg = found.cfg;
        runId = await runIdFor(source(), cfg);
        await adoptCassette(deps.blobs, runId, cfg);
        return startRun({ runId, input: `s3://${rt.env.bucket}/${key}`, cfg, source }, deps);
      }),
    );
  }
  return out;
}

/** Where a run's cassette lives once ingest has adopted it: a prefix every function may read. */
export const runCassetteKey = blobKeys.cassette;

/**
 * A replay/record cassette uploaded by `caco submit` sits under incoming/, which only ingest may
 * read: copy it under the run's prefix and point the run's config there. A cassette that is a
 * local file (emulated runs) stays where it is.
 */
async function adoptCassette(blobs: PipelineDeps['blobs'], runId: string, cfg: RunConfig): Promise<void> {
  const path = cfg.llm.cassette.path;
  if (cfg.llm.cassette.mode === 'live' || !path || existsSync(path) || path === runCassetteKey(runId)) return;
  const blob = await blobs.get(path);
  if (!blob) throw new Error(`cassette ${path} named by the run config is neither a file nor an object in the bucket`);
  await blobs.put(runCassetteKey(runId), blob);
  cfg.llm.cassette.path = runCassetteKey(runId);
}

async function* objectStream(rt: LambdaRuntime, key: string): AsyncIterable<Uint8Array> {
  const res = await rt.clients.s3.send(new GetObjectCommand({ Bucket: rt.env.bucket, Key: key }));
  if (!res.Body) throw new Error(`s3://${rt.env.bucket}/${key} has no body`);
  for await (const chunk of res.Body as Readable) yield chunk as Uint8Array;
}
