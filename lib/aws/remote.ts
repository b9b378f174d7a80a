// What the AWS commands of the CLI do (submit, status, pull, cost), against a deployed stack or,
// for tests, any bucket and table (emulators). The command modules in lib/cli only parse flags.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { parseRunConfig } from '../config.ts';
import { keys } from '../pipeline/keys.ts';
import { usageFromCounters } from '../pipeline/llm-adapter.ts';
import { BRANCHES, CACO, firstOf, stageNames } from '../pipeline/spec.ts';
import type { RunState, ShardState, StageName } from '../store/ports.ts';
import { makeClients, type AwsClients, type ClientOptions } from './clients.ts';
import { CostLedger } from './cost-ledger.ts';
import { loadPrices, runCost, scaleToTarget, type CostReport, type Prices, type ScaledCost } from './cost.ts';
import { DynamoStateStore } from './dynamo-state-store.ts';
import { runCallsInFlight, STACK_LLM_CONCURRENCY } from './llm-concurrency.ts';
import { configKeyFor } from './run-id.ts';
import { runIdFor } from '../hosts/run-id.ts';
import { S3BlobStore } from './s3-blob-store.ts';
import { DynamoBatchStore } from './dynamo-batch-store.ts';
import { formatOpenBatch, listOpenBatches, type OpenBatchView } from '../llm/batch/poller.ts';
import { formatTokenCost, tokenCostBothWays, type TokenCostLine } from '../llm/batch/cost.ts';
import { loadRunConfig } from '../hosts/run-cache.ts';
import { downloadDataset } from '../local/materialize.ts';

export interface RemoteTarget {
  bucket: string;
  table: string;
  clients: AwsClients;
  /** Each stage function's queue and dead-letter queue (from the stack's outputs), for redrive. */
  queues?: Record<string, { queue: string; dlq: string }>;
}

export interface TargetOptions {
  stack?: string;
  bucket?: string;
  table?: string;
  region?: string;
  clientOptions?: ClientOptions;
  queues?: RemoteTarget['queues'];
  /** The command needs the stage queues (redrive): read them from the stack's outputs. */
  needsQueues?: boolean;
}

/** Bucket and table from flags, or from the stack's outputs (CloudFormation DescribeStacks). */
export async function resolveTarget(o: TargetOptions): Promise<RemoteTarget> {
  const clientOptions = { ...o.clientOptions, ...(o.region ? { region: o.region } : {}) };
  let { bucket, table } = o;
  let queues = o.queues;
  // The stack's outputs are read when a bucket or table is missing, or the queues are needed
  // (redrive); --bucket and --table alone reach a deployment without CloudFormation.
  if ((!bucket || !table || (o.needsQueues && !queues)) && o.stack) {
    const cfn = new CloudFormationClient({ region: clientOptions.region ?? process.env.AWS_REGION, ...(clientOptions.endpoint ? { endpoint: clientOptions.endpoint } : {}) });
    const res = await cfn.send(new DescribeStacksCommand({ StackName: o.stack }));
    const outputs = Object.fromEntries((res.Stacks?.[0]?.Outputs ?? []).map((x) => [x.OutputKey, x.OutputValue]));
    bucket ??= outputs.BucketName;
    table ??= outputs.TableName;
    queues ??= Object.fromEntries(
      Object.keys(outputs)
        .filter((k) => k.startsWith('DlqUrl'))
        .map((k) => [k.slice(6).toLowerCase(), { queue: outputs[`QueueUrl${k.slice(6)}`]!, dlq: outputs[k]! }]),
    );
  }
  if (!bucket || !table) throw new Error('say which deployment: --stack NAME, or --bucket and --table');
  return { bucket, table, clients: makeClients(clientOptions), ...(queues ? { queues } : {}) };
}

export interface Submitted {
  runId: string;
  inputKey: string;
  configKey: string;
}

/**
 * Uploads the config, then the input, into incoming/ (the input's creation triggers ingest, which
 * reads the config next to it). Returns the run id ingest will compute (same bytes, same config).
 */
export async function submitRun(t: RemoteTarget, inputPath: string, configPath?: string): Promise<Submitted> {
  const input = readFileSync(inputPath);
  const rawConfig = configPath ? JSON.parse(readFileSync(configPath, 'utf8')) : {};
  const cfg = parseRunConfig(rawConfig, configPath ?? 'default run config');
  if (cfg.llm.cassette.mode !== 'live' && cfg.llm.cassette.path && configPath) {
    // A cassette travels with the run: upload it and point the config at its key. Not `.jsonl`:
    // the bucket notification starts a run for every incoming/*.jsonl. Ingest copies it under
    // runs/<runId>/, the prefix every function may read.
    const local = resolve(dirname(configPath), cfg.llm.cassette.path);
    const key = `incoming/cassettes/${createHash('sha256').update(readFileSync(local)).digest('hex').slice(0, 16)}.cassette`;
    await new S3BlobStore(t.clients.s3, t.bucket).put(key, readFileSync(local));
    rawConfig.llm = { ...rawConfig.llm, cassette: { ...rawConfig.llm?.cassette, path: key } };
  }
  const finalCfg = parseRunConfig(rawConfig);
  const tag = createHash('sha256').update(input).update(JSON.stringify(rawConfig)).digest('hex').slice(0, 8);
  const name = basename(inputPath).replace(/\.jsonl$/, '').replace(/[^A-Za-z0-9._-]/g, '_');
  const inputKey = `incoming/${name}-${tag}.jsonl`;
  const configKey = configKeyFor(inputKey);
  const blobs = new S3BlobStore(t.clients.s3, t.bucket);
  await blobs.put(configKey, JSON.stringify(rawConfig, null, 2));
  await blobs.put(inputKey, input);
  const runId = await runIdFor((async function* () { yield input; })(), finalCfg);
  return { runId, inputKey, configKey };
}

export interface StageProgress {
  stage: StageName;
  shards: number;
  in: number;
  kept: number;
  rejected: number;
  failed: number;
}

export interface RunProgress {
  run: RunState;
  stages: StageProgress[];
  /** Batch mode: batches still open at the provider. */
  batches?: OpenBatchView[];
}

export async function runStatus(t: RemoteTarget, runId: string): Promise<RunProgress | null> {
  const state = new DynamoStateStore(t.clients.doc, t.table);
  const run = await state.getRun(runId);
  if (!run) return null;
  // One small counters item per stage (never every shard item: status is polled).
  const counters = new Map((await state.progress(runId)).map((c) => [c.stage, c]));
  const stages = stageNames(CACO)
    .map((stage) => counters.get(stage))
    .filter((c): c is NonNullable<typeof c> => c !== undefined && c.shards > 0)
    .map(({ stage, shards, in: inCount, kept, rejected, failed }) => ({ stage, shards, in: inCount, kept, rejected, failed }));
  // Batch mode: the shards waiting on a provider's batch.
  const batches = await listOpenBatches(new DynamoBatchStore(t.clients.doc, t.table), runId);
  return { run, stages, ...(batches.length ? { batches } : {}) };
}

export function formatStatus(p: RunProgress): string {
  const expected = Object.entries(p.run.expected).map(([b, n]) => `${b}: ${n} shards`).join(', ');
  const lines = [`run ${p.run.runId}  ${p.run.status}  mode ${p.run.mode}  input ${p.run.input}`, expected ? `expected: ${expected}` : ''];
  lines.push('stage          shards        in      kept  rejected    failed');
  for (const s of p.stages) {
    lines.push(
      `${s.stage.padEnd(13)} ${String(s.shards).padStart(7)} ${String(s.in).padStart(9)} ${String(s.kept).padStart(9)} ${String(s.rejected).padStart(9)} ${String(s.failed).padStart(9)}`,
    );
  }
  for (const b of p.batches ?? []) lines.push(`open ${formatOpenBatch(b)}`);
  const f = p.run.status === 'failed' ? p.run.failure : undefined;
  if (f && f.stage === 'ingest') {
    // The drop was refused (no or a bad config): nothing to redrive, the input must be dropped again.
    lines.push(`FAILED at ingest: ${f.reason}`);
  } else if (f) {
    lines.push(
      `FAILED: ${f.stage} shard ${f.shard} (after ${f.receives} attempts, ${f.at}): ${f.reason}`,
      `its message is in the ${f.stage} dead-letter queue; after a fix: caco redrive ${p.run.runId}`,
    );
  }
  return lines.filter(Boolean).join('\n');
}

/** Downloads runs/<id>/dataset/* into outDir; returns the files written. */
/** `caco pull`: the run's dataset folder, the same files a local run writes (lib/local/materialize.ts). */
export async function pullDataset(t: RemoteTarget, runId: string, outDir: string): Promise<string[]> {
  return downloadDataset(new S3BlobStore(t.clients.s3, t.bucket), runId, outDir);
}

export interface LlmUsageLine {
  role: string;
  model: string;
  requests: number;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
  /** Answers served from the response cache or a cassette (no request bought); absent when none. */
  cacheHits?: number;
}

/** LLM usage from the shards' counters (llm|role|model|what), never double counted on retries. */
export function llmUsage(shards: ShardState[]): LlmUsageLine[] {
  return usageFromCounters(shards.map((s) => s.counts.counters ?? {})).map((u) => {
    const line: LlmUsageLine = { role: u.role, model: u.model, requests: u.requests, promptTokens: u.promptTokens, completionTokens: u.completionTokens, costUsd: u.costUSD };
    if (u.cacheHits) line.cacheHits = u.cacheHits;
    return line;
  });
}

/** Which Lambda makes each LLM role's calls: the host of the stage that calls it (lib/pipeline/spec.ts). */
const FUNCTION_OF_ROLE: Record<string, string> = Object.fromEntries(CACO.stages.flatMap((s) => (s.llmRoles ?? []).map((r) => [r, s.host])));

export interface RunCost {
  aws: CostReport;
  llm: LlmUsageLine[];
  candidates: number;
  scaled: ScaledCost | null;
  /** Tokens priced interactively and in batch mode, per role (needs the run's config). */
  tokens?: TokenCostLine[];
  /** The scaled estimate in batch mode: no function waits on the model (only the polls remain). */
  scaledBatch?: ScaledCost | null;
}

export async function runCostReport(t: RemoteTarget, runId: string, prices: Prices = loadPrices(), llmLatencyS = 20): Promise<RunCost> {
  const usage = await new CostLedger(t.clients.doc, t.table).list(runId);
  const shards = await new DynamoStateStore(t.clients.doc, t.table).listShards(runId);
  const llm = llmUsage(shards);
  const firsts = BRANCHES.map((b) => firstOf(CACO, b));
  const candidates = shards.filter((s) => firsts.includes(s.stage)).reduce((a, s) => a + s.counts.in, 0);
  const llmCalls: Record<string, number> = {};
  for (const l of llm) {
    const fn = FUNCTION_OF_ROLE[l.role] ?? l.role;
    // Scaled to new candidates every call is live: a replayed (cassette) or cached answer counts too.
    llmCalls[fn] = (llmCalls[fn] ?? 0) + l.requests + (l.cacheHits ?? 0);
  }
  // The calls in flight that run on Lambda for this run's config (an explicit lower limit counts), not a constant.
  const cfg = await loadRunConfig(new S3BlobStore(t.clients.s3, t.bucket), runId).catch(() => null);
  const callsInFlight = cfg ? runCallsInFlight(cfg) : STACK_LLM_CONCURRENCY;
  const scaled = candidates > 0 && usage.length > 0 ? scaleToTarget({ usage, candidates, llmCalls }, { llmLatencyS, callsInFlight, llmMemoryMb: 512, target: 1_000_000 }, prices) : null;
  const tokens = cfg ? tokenCostBothWays(usageFromCounters(shards.map((s) => s.counts.counters ?? {})), cfg) : undefined;
  const scaledBatch = candidates > 0 && usage.length > 0 ? scaleToTarget({ usage, candidates, llmCalls: {} }, { llmLatencyS, callsInFlight, llmMemoryMb: 512, target: 1_000_000 }, prices) : null;
  return { aws: runCost(usage, prices), llm, candidates, scaled, ...(tokens ? { tokens, scaledBatch } : {}) };
}

export function formatCost(c: RunCost): string {
  const $ = (x: number) => `$${x.toFixed(x < 0.01 ? 6 : 4)}`;
  const out = [`AWS cost (${c.aws.prices.region}, prices ${c.aws.prices.pricesAsOf})`];
  out.push('function        GB-s    lambda       sqs  dynamodb        s3     total');
  for (const l of c.aws.lines) {
    out.push(`${l.function.padEnd(13)} ${l.gbSeconds.toFixed(1).padStart(7)} ${$(l.lambdaCompute + l.lambdaRequests).padStart(9)} ${$(l.sqs).padStart(9)} ${$(l.dynamodb).padStart(9)} ${$(l.s3).padStart(9)} ${$(l.total).padStart(9)}`);
  }
  out.push(`total AWS: ${$(c.aws.total)} (LLM tokens excluded)`);
  out.push('LLM usage (separate from AWS):');
  for (const l of c.llm) {
    const hits = l.cacheHits ? `, ${l.cacheHits} from cache/cassette` : '';
    out.push(`  ${l.role} ${l.model}: ${l.requests} requests${hits}, ${l.promptTokens} prompt + ${l.completionTokens} completion tokens, ${$(l.costUsd)}`);
  }
  if (c.tokens) out.push(...formatTokenCost(c.tokens));
  if (c.scaled && c.scaledBatch) {
    out.push(`scaled AWS per 1,000,000 candidates: interactive ${$(c.scaled.perTarget)}, batch mode ${$(c.scaledBatch.perTarget)} (no function waits on the model; measured time only)`);
  }
  if (c.scaled) {
    out.push(`scaled: ${$(c.scaled.perTarget)} AWS per 1,000,000 candidate programs (measured ${c.candidates}); assumptions:`);
    for (const a of c.scaled.assumptions) out.push(`  - ${a}`);
  }
  return out.join('\n');
}

/**
 * Redrive after a fix: reopens a failed run and moves its messages from every dead-letter queue
 * back to their stage queues (other runs' messages stay). Returns how many messages moved.
 */
export async function redriveRun(t: RemoteTarget, runId: string): Promise<number> {
  if (!t.queues || Object.keys(t.queues).length === 0) throw new Error("redrive needs the stack's queues: pass --stack NAME");
  const state = new DynamoStateStore(t.clients.doc, t.table);
  if (!(await state.getRun(runId))) throw new Error(`no run ${runId} in table ${t.table}`);
  await state.reopenRun(runId);
  let moved = 0;
  for (const { queue, dlq } of Object.values(t.queues)) {
    for (;;) {
      const res = await t.clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: dlq, MaxNumberOfMessages: 10, VisibilityTimeout: 60, WaitTimeSeconds: 0 }));
      const mine = (res.Messages ?? []).filter((m) => runIdOf(m.Body) === runId);
      if ((res.Messages ?? []).length === 0) break;
      for (const m of mine) {
        await t.clients.sqs.send(new SendMessageCommand({ QueueUrl: queue, MessageBody: m.Body! }));
        await t.clients.sqs.send(new DeleteMessageCommand({ QueueUrl: dlq, ReceiptHandle: m.ReceiptHandle! }));
        moved++;
      }
    }
  }
  return moved;
}

function runIdOf(body: string | undefined): string | undefined {
  try {
    return (JSON.parse(body ?? '') as { runId?: string }).runId;
  } catch {
    return undefined;
  }
}
