// The stack as `cdk deploy` would ship it, run on this machine: `cdk synth` into a fresh folder,
// then every stage function from its own bundle and the layer asset in cdk.out, each in a
// LambdaEnvironment (tests/lambda/lambda-environment.ts) under the Node of the stack's runtime
// (from the npm registry, cached in .cache/node). The template's resources become emulator
// resources (s3rver bucket, dynalite table, local-aws-sqs queues with the template's redrive
// policy), its references resolve to them, and a driver plays Lambda's SQS event source.
//
// What differs from AWS, and why: the SDK is pointed at the emulators with the SDK's own
// AWS_ENDPOINT_URL_<SERVICE> variables and fixed credentials (Lambda gives role credentials);
// Secrets Manager is a small fake answering GetSecretValue (no emulator for it here); queues'
// visibility timeouts are shortened so failures come back in seconds; x64, not arm64.
import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chmodSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { DynamoStateStore } from '../../lib/aws/dynamo-state-store.ts';
import { S3BlobStore } from '../../lib/aws/s3-blob-store.ts';
import { parseRunConfig } from '../../lib/config.ts';
import { keys } from '../../lib/pipeline/keys.ts';
import { tableDefinition } from '../../lib/aws/table.ts';
import { STAGE_FUNCTIONS, type StageFunctionName } from '../../lib/infra/routing.ts';
import { EMULATOR_CREDENTIALS, forwardS3Events, pollOnce, queueDepth, type AwsEmulators } from '../helpers/aws-emulators.ts';
import { LambdaEnvironment, type FunctionSpec, type InvokeResult } from './lambda-environment.ts';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

type Resource = { Type: string; Properties: Record<string, any>; Metadata?: Record<string, string> };
type Template = { Resources: Record<string, Resource> };

/** `cdk synth` of bin/app.ts into a fresh folder (bundles every function with esbuild). */
export function synth(stackName = 'Caco'): { outDir: string; template: Template } {
  // Development shortcut only: reuse a synth output (CI always synthesizes).
  const reuse = process.env.CACO_LAMBDA_CDK_OUT;
  if (reuse && !process.env.CI) return { outDir: reuse, template: JSON.parse(readFileSync(join(reuse, `${stackName}.template.json`), 'utf8')) };
  const outDir = mkdtempSync(join(tmpdir(), 'caco-cdk-out-'));
  chmodSync(outDir, 0o755); // the functions run as an unprivileged user
  const r = spawnSync('npx', ['cdk', 'synth', '--no-notices', '-q', '-o', outDir, '-c', `caco:stackName=${stackName}`], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true' },
  });
  if (r.status !== 0) throw new Error(`cdk synth failed:\n${(r.stderr || r.stdout).slice(-3000)}`);
  return { outDir, template: JSON.parse(readFileSync(join(outDir, `${stackName}.template.json`), 'utf8')) };
}

/** The registry's Node of the stack's runtime major (.ci/node.sh --exact): its install folder. */
export function runtimeNode(): string {
  const r = spawnSync('bash', [join(ROOT, '.ci/node.sh'), '--exact'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cannot get the runtime's Node: ${r.stderr}`);
  return dirname(r.stdout.trim());
}

/** Queue and DLQ logical ids and the redrive limit of every stage function, from the template. */
function queuesOf(t: Template, fnId: string): { queue: string; dlq: string; maxReceiveCount: number } {
  const esm = Object.values(t.Resources).find((r) => r.Type === 'AWS::Lambda::EventSourceMapping' && r.Properties.FunctionName?.Ref === fnId);
  if (!esm) throw new Error(`no event source for ${fnId}`);
  const queue = esm.Properties.EventSourceArn['Fn::GetAtt'][0] as string;
  const redrive = t.Resources[queue]!.Properties.RedrivePolicy;
  return { queue, dlq: redrive.deadLetterTargetArn['Fn::GetAtt'][0], maxReceiveCount: redrive.maxReceiveCount };
}

/** Resolves Ref / Fn::Join / Fn::GetAtt(Arn) against the emulated resources. */
function resolver(refs: Record<string, string>) {
  const resolve = (v: unknown): string => {
    if (typeof v === 'string') return v;
    const o = v as Record<string, any>;
    if (o.Ref) {
      if (!(o.Ref in refs)) throw new Error(`unresolved Ref ${o.Ref}`);
      return refs[o.Ref]!;
    }
    if (o['Fn::Join']) return (o['Fn::Join'][1] as unknown[]).map(resolve).join(o['Fn::Join'][0]);
    throw new Error(`cannot resolve ${JSON.stringify(v)}`);
  };
  return resolve;
}

/** A fake Secrets Manager (GetSecretValue only) for the LLM functions' API key secret. */
async function fakeSecretsManager(secrets: Record<string, string>): Promise<Server> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const id = JSON.parse(body || '{}').SecretId as string;
      if (req.headers['x-amz-target'] !== 'secretsmanager.GetSecretValue' || !(id in secrets)) {
        res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify({ __type: 'ResourceNotFoundException', message: `no secret ${id}` }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify({ Name: id, SecretString: secrets[id] }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return server;
}

export interface DeployedStack {
  bucket: string;
  table: string;
  queues: Record<StageFunctionName, string>;
  dlqs: Record<StageFunctionName, string>;
  maxReceiveCount: number;
  functions: Record<StageFunctionName, LambdaEnvironment>;
  specs: Record<StageFunctionName, FunctionSpec>;
  close(): Promise<void>;
}

export interface DeployOptions {
  /** Visibility timeout of the stage queues (the template's is 6x the function timeout). */
  visibilityTimeoutSeconds?: number;
  /** Function timeouts overridden (a scaled-down checkpoint test), in ms. */
  timeoutMs?: Partial<Record<StageFunctionName, number>>;
  secrets?: Record<string, string>;
}

/** Emulated resources for the synthesized template and one Lambda environment per function. */
export async function deploy(emu: AwsEmulators, synthed: { outDir: string; template: Template }, nodeDir: string, name: string, opts: DeployOptions = {}): Promise<DeployedStack> {
  const t = synthed.template;
  const ids = (type: string) => Object.entries(t.Resources).filter(([, r]) => r.Type === type).map(([id]) => id);
  const bucketId = ids('AWS::S3::Bucket').find((id) => id.startsWith('Data'))!;
  const tableId = ids('AWS::DynamoDB::Table')[0]!;
  const refs: Record<string, string> = { [bucketId]: `${name}-data`, [tableId]: `${name}-state` };
  await emu.clients.s3.send(new CreateBucketCommand({ Bucket: refs[bucketId] }));
  await emu.clients.dynamo.send(new CreateTableCommand(tableDefinition(refs[tableId]!)));

  // The stage functions: driven by their SQS queues. The batch poller (a schedule, for batch mode)
  // is not run here: the demo runs interactively.
  const hasQueue = (id: string) => Object.values(t.Resources).some((r) => r.Type === 'AWS::Lambda::EventSourceMapping' && r.Properties.FunctionName?.Ref === id);
  const fnIds = ids('AWS::Lambda::Function').filter((id) => t.Resources[id]!.Properties.Environment?.Variables?.CACO_STAGE && hasQueue(id));
  const queues = {} as DeployedStack['queues'];
  const dlqs = {} as DeployedStack['dlqs'];
  let maxReceiveCount = 0;
  for (const fnId of fnIds) {
    const stage = t.Resources[fnId]!.Properties.Environment.Variables.CACO_STAGE as StageFunctionName;
    const q = queuesOf(t, fnId);
    maxReceiveCount = q.maxReceiveCount;
    const dlq = await emu.clients.sqs.send(new CreateQueueCommand({ QueueName: `${name}-${q.dlq}` }));
    const dlqArn = (await emu.clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl!, AttributeNames: ['All'] }))).Attributes!.QueueArn!;
    const main = await emu.clients.sqs.send(
      new CreateQueueCommand({
        QueueName: `${name}-${q.queue}`,
        Attributes: {
          VisibilityTimeout: String(opts.visibilityTimeoutSeconds ?? 60),
          RedrivePolicy: JSON.stringify({ maxReceiveCount: q.maxReceiveCount, deadLetterTargetArn: dlqArn }),
        },
      }),
    );
    refs[q.queue] = main.QueueUrl!;
    queues[stage] = main.QueueUrl!;
    dlqs[stage] = dlq.QueueUrl!;
  }
  const resolve = resolver(refs);
  const secretsServer = await fakeSecretsManager(opts.secrets ?? { 'caco/llm-api-key': 'sk-lambda-env-test' });
  const extraEnv = {
    AWS_ACCESS_KEY_ID: EMULATOR_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: EMULATOR_CREDENTIALS.secretAccessKey,
    AWS_SESSION_TOKEN: 'lambda-env-test',
    AWS_ENDPOINT_URL_S3: emu.endpoints.s3,
    AWS_ENDPOINT_URL_DYNAMODB: emu.endpoints.dynamodb,
    AWS_ENDPOINT_URL_SQS: emu.endpoints.sqs,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: `http://127.0.0.1:${(secretsServer.address() as AddressInfo).port}`,
    POWERTOOLS_METRICS_DISABLED: 'true',
  };

  const functions = {} as DeployedStack['functions'];
  const specs = {} as DeployedStack['specs'];
  for (const fnId of fnIds) {
    const p = t.Resources[fnId]!.Properties;
    const stage = p.Environment.Variables.CACO_STAGE as StageFunctionName;
    const layerId = p.Layers?.[0]?.Ref as string | undefined;
    const spec: FunctionSpec = {
      name: stage,
      bundle: join(synthed.outDir, t.Resources[fnId]!.Metadata!['aws:asset:path']!),
      layer: layerId ? join(synthed.outDir, t.Resources[layerId]!.Metadata!['aws:asset:path']!) : undefined,
      handler: p.Handler,
      memoryMb: p.MemorySize,
      timeoutMs: opts.timeoutMs?.[stage] ?? p.Timeout * 1000,
      runtime: p.Runtime,
      environment: Object.fromEntries(Object.entries(p.Environment.Variables as Record<string, unknown>).map(([k, v]) => [k, resolve(v)])),
    };
    specs[stage] = spec;
    functions[stage] = new LambdaEnvironment(spec, { nodeDir, extraEnv });
    await functions[stage].start();
  }
  const stopForwarding = forwardS3Events(emu, queues.ingest);
  return {
    bucket: refs[bucketId]!,
    table: refs[tableId]!,
    queues,
    dlqs,
    maxReceiveCount,
    functions,
    specs,
    async close() {
      stopForwarding();
      await Promise.all(Object.values(functions).map((f) => f.close()));
      await new Promise<void>((r) => secretsServer.close(() => r()));
    },
  };
}

export interface DriveReport {
  invocations: Record<StageFunctionName, number>;
  failed: Array<{ fn: StageFunctionName; body: unknown }>;
  wallMs: number;
}

/**
 * Lambda's SQS event source over the deployed functions: each function polls its queue (batch
 * size 1, one environment per function), invokes its environment through the Runtime API, deletes
 * what succeeded. Failed or timed-out invocations leave the message to come back after the
 * visibility timeout, and to reach the DLQ after maxReceiveCount. Ends when every queue is empty.
 */
export async function drive(emu: AwsEmulators, stack: DeployedStack, timeoutMs: number, only: readonly StageFunctionName[] = STAGE_FUNCTIONS): Promise<DriveReport> {
  const t0 = Date.now();
  const report: DriveReport = { invocations: Object.fromEntries(STAGE_FUNCTIONS.map((f) => [f, 0])) as DriveReport['invocations'], failed: [], wallMs: 0 };
  let busy = 0;
  let stop = false;
  const pollers = only.map(async (fn) => {
    const env = stack.functions[fn];
    while (!stop) {
      const n = await pollOnce(emu, stack.queues[fn], async (event) => {
        busy++;
        try {
          report.invocations[fn]++;
          const r: InvokeResult = await env.invoke(event);
          if (!r.ok) {
            report.failed.push({ fn, body: r.body });
            throw new Error(JSON.stringify(r.body));
          }
          return r.body as SQSBatchResponse;
        } finally {
          busy--;
        }
      }, { batchSize: 1 });
      if (n === 0) await new Promise((r) => setTimeout(r, 100));
    }
  });
  try {
    let quiet = 0;
    while (quiet < 3) {
      if (Date.now() - t0 > timeoutMs) throw new Error(`the deployed stack did not drain in ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 300));
      let pending = busy;
      for (const fn of only) {
        const d = await queueDepth(emu, stack.queues[fn]);
        pending += d.visible + d.inFlight;
      }
      quiet = pending === 0 ? quiet + 1 : 0;
    }
  } finally {
    stop = true;
    await Promise.allSettled(pollers);
  }
  report.wallMs = Date.now() - t0;
  return report;
}

// ---------------------------------------------------------------------------------------------
// Synthetic runs straight at one function: a run config, run state and one shard of programs.

let synthetic = 0;
/** A run that starts at execute: its config, its state and one generate shard of programs; returns the execute message. */
export async function seedExecuteShard(emu: AwsEmulators, stack: DeployedStack, programs: Array<{ id: string; code: string }>, config: Record<string, unknown>) {
  const runId = `synthetic${++synthetic}-${Date.now()}`;
  const blobs = new S3BlobStore(emu.clients.s3, stack.bucket);
  // No model is called: execute only. The endpoint just makes the config valid.
  const cfg = parseRunConfig({ mode: 'synthesize', llm: { default: { baseURL: 'http://127.0.0.1:9/v1', model: 'none' } }, ...config }, 'test config');
  await blobs.put(keys.config(runId), JSON.stringify(cfg));
  await new DynamoStateStore(emu.clients.doc, stack.table).createRun({ runId, createdAt: new Date().toISOString(), status: 'running', input: 'test', mode: 'synthesize', expected: { generate: 1 } });
  await blobs.put(keys.survivors(runId, 'generate', 'g00000'), programs.map((p) => JSON.stringify(p)).join('\n') + '\n');
  const message = JSON.stringify({ runId, stage: 'execute', shard: 'g00000' });
  return { runId, blobs, message };
}

export function sqsEvent(body: string, receives = 1): SQSEvent {
  return {
    Records: [{ messageId: `m-${Math.random().toString(36).slice(2)}`, receiptHandle: 'r', body, attributes: { ApproximateReceiveCount: String(receives) } as never, messageAttributes: {}, md5OfBody: '', eventSource: 'aws:sqs', eventSourceARN: 'arn', awsRegion: 'us-east-1' }],
  };
}

