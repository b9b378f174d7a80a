// AWS operations (issue 14, part 5) on the emulators with the real ingest handler and the real
// CLI as a child process: a drop without a config fails its run visibly (no dead letter, status
// says why), the stack's default config starts a drop that has none, `caco runs` lists the runs
// with status and counts, and the AWS commands reach the emulators through `--endpoint` or the
// SDK's AWS_ENDPOINT_URL_<SERVICE> variables.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createBucket,
  createStageQueues,
  createTable,
  EMULATOR_CREDENTIALS,
  forwardS3Events,
  pollOnce,
  queueDepth,
  startAwsEmulators,
  type AwsEmulators,
  type StageQueues,
} from '../helpers/aws-emulators.ts';
import { makeIngestHandler } from '../../lib/aws/handlers.ts';
import type { LambdaEnv } from '../../lib/aws/lambda-runtime.ts';
import { formatStatus, resolveTarget, runStatus, type RemoteTarget } from '../../lib/aws/remote.ts';
import { DEFAULT_CONFIG_KEY } from '../../lib/aws/drop-config.ts';
import { listRuns } from '../../lib/aws/run-list.ts';
import { S3BlobStore } from '../../lib/aws/s3-blob-store.ts';
import { runCli } from '../helpers/run-cli.ts';

process.env.POWERTOOLS_METRICS_DISABLED = 'true';
process.env.POWERTOOLS_METRICS_NAMESPACE = 'CacoTest';
process.env.POWERTOOLS_LOG_LEVEL = 'CRITICAL';

const BUCKET = 'caco-ops';
const TABLE = 'caco-ops-state';
let emu: AwsEmulators;
let q: StageQueues;
let stop: () => void;
let t: RemoteTarget;
let blobs: S3BlobStore;

before(async () => {
  emu = await startAwsEmulators();
  await createBucket(emu, BUCKET);
  await createTable(emu, TABLE);
  q = await createStageQueues(emu, ['ingest', 'generate'], { maxReceiveCount: 2, visibilityTimeoutSeconds: 1 });
  stop = forwardS3Events(emu, q.queues.ingest!);
  t = await resolveTarget({ bucket: BUCKET, table: TABLE, clientOptions: emu.clientOptions });
  blobs = new S3BlobStore(t.clients.s3, BUCKET);
});
after(async () => {
  stop?.();
  await emu?.stop();
});

const seeds = (n: number, salt: string) => Array.from({ length: n }, (_, i) => JSON.stringify({ id: `${salt}${i}`, question: `What is ${i} + ${salt.length}?`, answer: `#### ${i + salt.length}` })).join('\n') + '\n';

/** Drops an object into incoming/ and runs the ingest handler on its notification. */
async function drop(key: string, body: string): Promise<void> {
  const env: LambdaEnv = { bucket: BUCKET, table: TABLE, queues: { unify: q.queues.generate, generate: q.queues.generate }, functionName: 'ingest', memoryMb: 1024 };
  const ingest = makeIngestHandler({ env, clientOptions: emu.clientOptions, processEnv: {} });
  await blobs.put(key, body);
  const deadline = Date.now() + 5000;
  let got = 0;
  while (got < 1 && Date.now() < deadline) {
    got += await pollOnce(emu, q.queues.ingest!, ingest);
    if (!got) await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(got, 1, `ingest did not receive the drop of ${key}`);
}

/** The CLI against the emulators through the SDK's per-service endpoint variables. */
const cliEnv = () => ({
  AWS_ENDPOINT_URL_S3: emu.endpoints.s3,
  AWS_ENDPOINT_URL_DYNAMODB: emu.endpoints.dynamodb,
  AWS_ENDPOINT_URL_SQS: emu.endpoints.sqs,
  AWS_ACCESS_KEY_ID: EMULATOR_CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: EMULATOR_CREDENTIALS.secretAccessKey,
  AWS_REGION: 'us-east-1',
});

let refused = '';
let started = '';

test('a drop without a config and no stack default fails its run visibly, with no retry and no dead letter', async () => {
  await drop('incoming/lonely.jsonl', seeds(3, 'a'));
  const runs = await listRuns(t);
  assert.equal(runs.length, 1);
  const r = runs[0]!;
  refused = r.runId;
  assert.equal(r.status, 'failed');
  assert.match(r.failure!, /^ingest: no run config for incoming\/lonely\.jsonl: upload it beside the input as incoming\/lonely\.config\.json BEFORE the input .* or set a stack default at incoming\/default\.config\.json/);
  assert.equal(r.input, `s3://${BUCKET}/incoming/lonely.jsonl`);
  const status = formatStatus((await runStatus(t, refused))!);
  assert.match(status, /failed/);
  assert.match(status, /FAILED at ingest: no run config/);
  assert.doesNotMatch(status, /redrive/, 'nothing to redrive: the drop itself must be redone');
  const depth = await queueDepth(emu, q.queues.ingest!);
  assert.equal(depth.visible + depth.inFlight, 0, 'the ingest message was consumed, not retried');
  assert.equal((await queueDepth(emu, q.dlqs.ingest!)).visible, 0, 'nothing dead-lettered');
});

test("a drop without a config of its own runs with the stack's default config", async () => {
  const cfg = { mode: 'unify', shardSize: 2, decontam: { enabled: false }, llm: { default: { baseURL: 'http://127.0.0.1:9/v1', model: 'default-model' } } };
  await blobs.put(DEFAULT_CONFIG_KEY, JSON.stringify(cfg));
  await drop('incoming/second.jsonl', seeds(5, 'bb'));
  const r = (await listRuns(t)).find((x) => x.runId !== refused)!;
  started = r.runId;
  assert.equal(r.status, 'running');
  assert.equal(r.mode, 'unify', 'the mode of the default config');
  assert.deepEqual(r.expected, { unify: 3 });
  assert.deepEqual(r.shardsDone, { ingest: 1 });
  assert.equal(JSON.parse((await blobs.get(`runs/${r.runId}/config.json`))!.toString()).llm.default.model, 'default-model');

  // A config beside the drop wins over the default; an invalid one is refused with the field named.
  await blobs.put('incoming/third.config.json', JSON.stringify({ mode: 'unify', shardSize: 'two' }));
  await drop('incoming/third.jsonl', seeds(2, 'ccc'));
  const third = (await listRuns(t)).find((x) => x.input.endsWith('third.jsonl'))!;
  assert.equal(third.status, 'failed');
  assert.match(third.failure!, /ingest: invalid incoming\/third\.config\.json:\n  shardSize: .*; fix it and drop the input again/);
});

test('caco runs lists every run with status and counts; AWS commands take --endpoint or the SDK endpoint variables', async () => {
  const byEnv = await runCli(['runs', '--bucket', BUCKET, '--table', TABLE], { env: cliEnv() });
  assert.equal(byEnv.code, 0, byEnv.stderr);
  const lines = byEnv.stdout.split('\n');
  assert.match(lines[0]!, /^run id +status +created +mode +samples +shards done/);
  assert.ok(lines.some((l) => l.startsWith(started) && /running .* unify .* ingest 1 /.test(l)), byEnv.stdout);
  assert.ok(lines.some((l) => l.startsWith(refused) && /failed/.test(l)), byEnv.stdout);
  assert.match(byEnv.stdout, /FAILED ingest: no run config for incoming\/lonely\.jsonl/);

  const status = await runCli(['status', refused, '--bucket', BUCKET, '--table', TABLE], { env: cliEnv() });
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /FAILED at ingest: no run config/);

  // --endpoint: one URL for every service (s3rver serves S3 only, so a command that needs only S3).
  await blobs.put(`runs/${started}/dataset/stats.json`, '{"samples": 0}');
  const out = mkdtempSync(join(tmpdir(), 'ops-pull-'));
  const { AWS_ENDPOINT_URL_S3: _s3, AWS_ENDPOINT_URL_DYNAMODB: _d, AWS_ENDPOINT_URL_SQS: _q, ...noEndpoints } = cliEnv();
  const pulled = await runCli(['pull', started, '--bucket', BUCKET, '--table', TABLE, '--endpoint', emu.endpoints.s3, '-o', out], { env: noEndpoints });
  assert.equal(pulled.code, 0, pulled.stderr);
  assert.equal(readFileSync(join(out, 'stats.json'), 'utf8'), '{"samples": 0}');
});
