// The deployed stack on a faithful Lambda environment (tests/lambda/lambda-environment.ts): the
// six functions from their cdk.out bundles, the layer at /opt, the Node of the stack's runtime,
// read-only code, a fresh /tmp, no python3, an unprivileged user, Lambda's variables only, the
// Runtime API, frozen between invocations and killed at the timeout. Against the emulators it
// must give the demo's local dataset, keep the sandbox's isolation, checkpoint a shard of
// programs that all time out, and mark a run whose shard reaches a DLQ failed.
// Prints each function's cold start and peak memory (the "must show" figures).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { startAwsEmulators, queueDepth, type AwsEmulators } from '../helpers/aws-emulators.ts';
import { captureOutput } from '../helpers/emulated-stack.ts';
import { formatStatus, redriveRun, resolveTarget, runStatus, submitRun } from '../../lib/aws/remote.ts';
import { S3BlobStore } from '../../lib/aws/s3-blob-store.ts';
import { DynamoStateStore } from '../../lib/aws/dynamo-state-store.ts';
import { parseRunConfig } from '../../lib/config.ts';
import { keys } from '../../lib/pipeline/keys.ts';
import { materializeDataset } from '../../lib/local/materialize.ts';
import { readConfig, recordFiles } from '../helpers/dataset.ts';
import { loadConfigFile, runLocal } from '../../lib/local/run-local.ts';
import { DEMO_CONFIG, DEMO_INPUT } from '../../lib/cli/demo.ts';
import { startFakeServer } from '../helpers/fake-openai-server.ts';
import { NODE_MAJOR } from '../../lib/infra/node-runtime.ts';
import { ESCAPE } from '../fixtures/sandbox-escape.ts';
import { STAGE_FUNCTIONS } from '../../lib/infra/routing.ts';
import { checkIsolationAvailable, LambdaEnvironment } from './lambda-environment.ts';
import { deploy, drive, runtimeNode, seedExecuteShard, sqsEvent, synth, type DeployedStack } from './deployed-stack.ts';

let emu: AwsEmulators;
let stack: DeployedStack;
let nodeDir: string;
let local: { runId: string; dir: string };
const figures: Record<string, unknown> = {};

before(async () => {
  checkIsolationAvailable(); // fails with the reason: no root, or no private mount namespace
  nodeDir = runtimeNode();
  const synthed = synth();
  emu = await startAwsEmulators();
  stack = await deploy(emu, synthed, nodeDir, 'lambda');
  const out = mkdtempSync(join(tmpdir(), 'caco-local-'));
  const r = await runLocal({ input: DEMO_INPUT, config: loadConfigFile(DEMO_CONFIG), configDir: dirname(DEMO_CONFIG), out, progress: 'quiet' });
  assert.equal(r.status, 'done');
  local = { runId: r.runId, dir: r.datasetDir! };
});

after(async () => {
  await stack?.close();
  await emu?.stop();
  if (process.env.CACO_LAMBDA_FIGURES) writeFileSync(process.env.CACO_LAMBDA_FIGURES, JSON.stringify(figures, null, 2));
});

const target = () => resolveTarget({ bucket: stack.bucket, table: stack.table, clientOptions: emu.clientOptions, queues: Object.fromEntries(STAGE_FUNCTIONS.map((f) => [f, { queue: stack.queues[f], dlq: stack.dlqs[f] }])) });
const failureText = (r: Awaited<ReturnType<typeof drive>>) => JSON.stringify(r.failed.slice(0, 3)).slice(0, 3000);

test('the demo through the six deployed functions gives the local dataset', { timeout: 600_000 }, async () => {
  const t = await target();
  const { result } = await captureOutput(async () => {
    const submitted = await submitRun(t, DEMO_INPUT, DEMO_CONFIG);
    const report = await drive(emu, stack, 480_000);
    return { submitted, report };
  });
  const { submitted, report } = result;
  const run = await new DynamoStateStore(emu.clients.doc, stack.table).getRun(submitted.runId);
  assert.equal(run?.status, 'done', `${failureText(report)}\n${stack.functions.execute.log.slice(-2000)}`);
  assert.equal(submitted.runId, local.runId);
  const dir = await materializeDataset(new S3BlobStore(emu.clients.s3, stack.bucket), submitted.runId, mkdtempSync(join(tmpdir(), 'caco-lambda-')));
  const data = await readConfig(dir, 'default');
  assert.ok(data.length >= 20);
  for (const f of recordFiles(local.dir)) assert.ok(readFileSync(join(dir, f)).equals(readFileSync(join(local.dir, f))), `${f} equals the local run's`);
  assert.equal(report.failed.length, 0, failureText(report));
  // The deployed assemble wrote the report page with its prebuilt script (no esbuild in Lambda).
  assert.ok(existsSync(join(dir, 'report', 'index.html')) && existsSync(join(dir, 'report', 'page.js')), `report page missing\n${stack.functions.assemble.log.slice(-2000)}`);

  const rows = STAGE_FUNCTIONS.map((fn) => {
    const f = stack.functions[fn];
    return { fn, memoryMb: f.spec.memoryMb, peakMb: Math.round(f.stats.peakMb), coldStartMs: Math.round(f.stats.initMs[0] ?? 0), coldStarts: f.stats.coldStarts, invocations: f.stats.invocations };
  });
  const pool = /"message":"sandbox pool ready","workers":(\d+),"startMs":(\d+)/.exec(stack.functions.execute.log);
  assert.ok(pool, 'the execute function logged its sandbox pool start');
  figures.demo = { wallMs: report.wallMs, functions: rows, executePool: { workers: Number(pool[1]), readyMs: Number(pool[2]) } };
  console.log(`  execute's sandbox pool: ${pool[1]} workers ready in ${pool[2]} ms (on its first invocation)`);
  console.log(`demo through the deployed functions: ${report.wallMs} ms, dataset equal to local (${data.length} samples)`);
  for (const r of rows) console.log(`  ${r.fn.padEnd(13)} cold start ${String(r.coldStartMs).padStart(6)} ms  peak ${String(r.peakMb).padStart(5)} MB of ${r.memoryMb} MB  ${r.invocations} invocations, ${r.coldStarts} cold`);
  for (const r of rows) {
    assert.ok(r.invocations > 0, `${r.fn} ran`);
    assert.ok(r.peakMb > 0 && r.peakMb < r.memoryMb, `${r.fn}: peak ${r.peakMb} MB within its ${r.memoryMb} MB`);
    assert.equal((await queueDepth(emu, stack.dlqs[r.fn])).visible, 0, `${r.fn} DLQ is empty`);
  }
});

test('each function ran in the Lambda environment: runtime Node, read-only code and layer, no python3, unprivileged, only Lambda variables', () => {
  for (const fn of STAGE_FUNCTIONS) {
    const env = stack.functions[fn];
    const pid = env.pid;
    assert.ok(pid, `${fn} is a warm (frozen) environment`);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    assert.match(status, /^Uid:\s+65534\s/m, `${fn} runs as an unprivileged user`);
    assert.match(status, /^State:\s+T/m, `${fn} is frozen between invocations`);
    assert.equal(readlinkSync(`/proc/${pid}/exe`), '/var/lang/bin/node');
    assert.equal(statSync(`/proc/${pid}/root/var/lang/bin/node`).ino, statSync(join(nodeDir, 'bin/node')).ino, 'the registry Node of the runtime');
    const mounts = readFileSync(`/proc/${pid}/mountinfo`, 'utf8').split('\n');
    const mount = (p: string) => mounts.find((l) => l.split(' ')[4] === p) ?? '';
    assert.match(mount('/var/task'), / ro[, ]/, `${fn}: /var/task read-only`);
    assert.match(mount('/tmp'), /tmpfs/, `${fn}: a fresh /tmp`);
    const root = `/proc/${pid}/root`;
    assert.ok(existsSync(`${root}/var/task/index.mjs`));
    for (const d of ['/usr/local/bin', '/usr/bin', '/bin']) {
      const py = `${root}${d}/python3`;
      if (existsSync(py)) assert.ok(statSync(py).isCharacterDevice(), `${d}/python3 is hidden`);
    }
    const layer = env.spec.layer;
    if (layer) {
      assert.match(mount('/opt'), / ro[, ]/);
      assert.deepEqual(readdirSync(`${root}/opt`).sort(), readdirSync(layer).sort(), 'the layer asset is /opt');
    }
    const vars = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean).map((l) => l.slice(0, l.indexOf('=')));
    const allowed = new Set([...Object.keys(env.environment())]);
    for (const v of vars) assert.ok(allowed.has(v) || v === '_X_AMZN_TRACE_ID', `${fn}: unexpected variable ${v}`);
    assert.ok(!vars.includes('HOME') || allowed.has('HOME'));
  }
  const major = readFileSync(`/proc/${stack.functions.execute.pid}/cmdline`, 'utf8');
  assert.match(major, /\/var\/lang\/bin\/node/);
  assert.equal(stack.specs.execute.runtime, `nodejs${NODE_MAJOR}.x`);
});

test('only the functions that call a model copy the cassette into /tmp', () => {
  for (const fn of STAGE_FUNCTIONS) {
    const files = readdirSync(`/proc/${stack.functions[fn].pid}/root/tmp`).filter((f) => f.startsWith('caco-cassette-'));
    if (fn === 'generate' || fn === 'backtranslate') assert.equal(files.length, 1, fn);
    else assert.deepEqual(files, [], `${fn} calls no model and copies no cassette`);
  }
});

// ---------------------------------------------------------------------------------------------
// Synthetic runs straight at the execute function: a run config, run state and one shard of programs.

type Exec = { status: string; output?: { json: any } | null; error?: { type: string } | null };
async function executed(blobs: S3BlobStore, runId: string): Promise<Record<string, Exec>> {
  const blob = await blobs.get(keys.survivors(runId, 'execute', 'g00000'));
  assert.ok(blob, 'execute wrote its output');
  return Object.fromEntries(blob.toString('utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)).map((r) => [r.id, r.exec as Exec]));
}

test('the sandbox isolation checks hold inside the deployed execute function', { timeout: 240_000 }, async () => {
  let connections = 0;
  const server: Server = createServer((s) => {
    connections++;
    s.destroy();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  const programs = {
    hostFile: `output = open('/var/task/index.mjs').read()[:50]`,
    procEnviron: `output = open('/proc/self/environ').read()`,
    layerFile: `output = open('/opt/manifest.json').read()`,
    environ: `import os\noutput = dict(os.environ)`,
    system: `import os\noutput = os.system('id')`,
    subprocess: `import subprocess\noutput = subprocess.run(['id']).returncode`,
    socket: `import socket\nsocket.create_connection(('127.0.0.1', ${port}))\noutput = 'connected'`,
    urllib: `import urllib.request\nurllib.request.urlopen('http://127.0.0.1:${port}/')\noutput = 'connected'`,
    jsBridge: `import js\noutput = 'reached'`,
    escapeFetch: ESCAPE + `G.fetch('http://127.0.0.1:${port}/')\noutput = 'fetched'`,
    escapeNet: ESCAPE + `G.process.getBuiltinModule('node:net').connect(${port}, '127.0.0.1')\noutput = 'connected'`,
    escapePowers: ESCAPE + `output = [k for k in ('fetch', 'require', 'WebSocket') if hasattr(G, k)] + [k for k in ('binding', 'dlopen', 'kill', 'getBuiltinModule') if hasattr(G.process, k)] + list(G.Object.keys(G.process.env))`,
    fine: `output = sum(range(10))`,
  };
  const { runId, blobs, message } = await seedExecuteShard(emu, stack, 
    Object.entries(programs).map(([id, code]) => ({ id, code })),
    { execute: { rerun: false }, sandbox: { timeoutMs: 5000 } },
  );
  const r = await stack.functions.execute.invoke(sqsEvent(message));
  await new Promise((res) => setTimeout(res, 300));
  server.close();
  assert.ok(r.ok, JSON.stringify(r.body));
  const ex = await executed(blobs, runId);
  const text = JSON.stringify(ex);
  assert.equal(ex.fine.status, 'ok');
  assert.equal(ex.fine.output?.json, 45);
  for (const id of ['hostFile', 'procEnviron', 'layerFile', 'system', 'subprocess', 'socket', 'urllib', 'jsBridge', 'escapeFetch', 'escapeNet']) {
    assert.notEqual(ex[id].status, 'ok', `${id} must fail inside the deployed function: ${JSON.stringify(ex[id]).slice(0, 300)}`);
  }
  assert.deepEqual(Object.keys(ex.environ.output?.json ?? {}), ["HOME"], 'no Lambda variable reaches the program');
  // The probe must reach the JS side (status ok) for its empty list of powers to mean anything.
  assert.equal(ex.escapePowers.status, 'ok', JSON.stringify(ex.escapePowers.error));
  assert.deepEqual(ex.escapePowers.output?.json, [], 'the escaped JS side has no process, network or import powers');
  for (const secret of ['S3RVER', 'lambda-env-test', 'AWS_SESSION_TOKEN', 'sk-lambda']) assert.ok(!text.includes(secret), `${secret} leaked`);
  assert.equal(connections, 0, 'no connection reached the loopback listener');
  figures.hostile = Object.fromEntries(Object.entries(ex).map(([id, e]) => [id, `${e.status}${e.error ? ' ' + e.error.type : ''}`]));
  console.log('hostile programs in the deployed execute function:', JSON.stringify(figures.hostile));
});

test('a warm execute environment runs each run with its own sandbox limits', { timeout: 180_000 }, async () => {
  const sleepy = [{ id: 'sleep', code: 'import time\ntime.sleep(1.5)\noutput = 1' }];
  const slow = await seedExecuteShard(emu, stack, sleepy, { execute: { rerun: false }, sandbox: { timeoutMs: 5000 } });
  const fast = await seedExecuteShard(emu, stack, sleepy, { execute: { rerun: false }, sandbox: { timeoutMs: 500 } });
  const coldBefore = stack.functions.execute.stats.coldStarts;
  assert.ok((await stack.functions.execute.invoke(sqsEvent(slow.message))).ok);
  assert.ok((await stack.functions.execute.invoke(sqsEvent(fast.message))).ok);
  assert.equal(stack.functions.execute.stats.coldStarts, coldBefore, 'one warm environment served both runs');
  assert.equal((await executed(slow.blobs, slow.runId)).sleep.status, 'ok');
  assert.equal((await executed(fast.blobs, fast.runId)).sleep.status, 'timeout', 'the second run has its 500 ms limit');
});

test('a shard whose message reaches the DLQ marks its run failed with stage, shard and reason; caco status says so; redrive sends it back', { timeout: 240_000 }, async () => {
  const { runId, blobs, message } = await seedExecuteShard(emu, stack, [{ id: 'a', code: 'output = 1' }], { execute: { rerun: false } });
  // Its input disappears: every attempt fails the same way.
  await blobs.delete(keys.survivors(runId, 'generate', 'g00000'));
  for (let receive = 1; receive <= stack.maxReceiveCount; receive++) {
    const r = await stack.functions.execute.invoke(sqsEvent(message, receive));
    assert.ok(r.ok, 'partial batch failure, not a crashed invocation');
    const run = await new DynamoStateStore(emu.clients.doc, stack.table).getRun(runId);
    assert.equal(run?.status, receive < stack.maxReceiveCount ? 'running' : 'failed', `after receive ${receive}`);
  }
  const t = await target();
  const text = formatStatus((await runStatus(t, runId))!);
  assert.match(text, /FAILED: execute shard g00000 \(after 5 attempts/);
  assert.match(text, /input of execute\/g00000 is missing/);
  assert.match(text, /caco redrive/);
  // After the fix (the input is back) a redrive finishes the shard.
  await blobs.put(keys.survivors(runId, 'generate', 'g00000'), JSON.stringify({ id: 'a', code: 'output = 1' }) + '\n');
  await emu.clients.sqs.send(new (await import('@aws-sdk/client-sqs')).SendMessageCommand({ QueueUrl: stack.dlqs.execute, MessageBody: message }));
  assert.equal(await redriveRun(t, runId), 1);
  assert.equal((await new DynamoStateStore(emu.clients.doc, stack.table).getRun(runId))?.status, 'running');
  const got = await emu.clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: stack.queues.execute, MaxNumberOfMessages: 10 }));
  const back = (got.Messages ?? []).find((m) => m.Body === message);
  assert.ok(back, 'the message is back on the execute queue');
  await emu.clients.sqs.send(new (await import('@aws-sdk/client-sqs')).DeleteMessageCommand({ QueueUrl: stack.queues.execute, ReceiptHandle: back.ReceiptHandle! }));
  assert.ok((await stack.functions.execute.invoke(sqsEvent(message))).ok);
  assert.equal((await executed(blobs, runId)).a.status, 'ok');
  console.log(`DLQ'd shard: ${text.split('\n').filter((l) => l.startsWith('FAILED')).join(' ')}`);
});

test('a shard of 100 programs that all time out finishes within the function timeout through checkpoints', { timeout: 420_000 }, async () => {
  // Scaled from 100 x 10 s programs (run twice) in a 900 s function: 500 ms programs in 60 s (the
  // first chunk also starts the pool, which took up to ~25 s on these loaded cores).
  const programs = Array.from({ length: 100 }, (_, i) => ({ id: `loop${i}`, code: `i = ${i}\nwhile True:\n    pass` }));
  const { runId, blobs, message } = await seedExecuteShard(emu, stack, programs, { sandbox: { timeoutMs: 500 } });
  const env = new LambdaEnvironment({ ...stack.specs.execute, timeoutMs: 60_000 }, { nodeDir, extraEnv: stack.functions.execute.extraVariables() });
  await env.start();
  try {
    let invocations = 0;
    let body = message;
    const durations: number[] = [];
    for (;;) {
      invocations++;
      assert.ok(invocations <= 12, 'finishes in a bounded number of invocations');
      const r = await env.invoke(sqsEvent(body));
      durations.push(Math.round(r.durationMs));
      assert.ok(r.ok && !r.timedOut, `invocation ${invocations} ended within the timeout: ${JSON.stringify(r.body)}`);
      if (await blobs.get(keys.survivors(runId, 'execute', 'g00000'))) break;
      // The checkpoint re-sent the message to the execute queue: take it from there.
      const got = await emu.clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: stack.queues.execute, MaxNumberOfMessages: 1 }));
      assert.ok(got.Messages?.[0], 'a checkpoint re-sent the shard');
      body = got.Messages[0].Body!;
      await emu.clients.sqs.send(new (await import('@aws-sdk/client-sqs')).DeleteMessageCommand({ QueueUrl: stack.queues.execute, ReceiptHandle: got.Messages[0].ReceiptHandle! }));
    }
    const ex = await executed(blobs, runId);
    assert.equal(Object.keys(ex).length, 100);
    assert.ok(Object.values(ex).every((e) => e.status === 'timeout'));
    assert.ok(invocations >= 2, 'it needed checkpoints');
    assert.equal(env.stats.timeouts, 0);
    figures.checkpoint = { programs: 100, programTimeoutMs: 500, functionTimeoutMs: 60_000, invocations, durationsMs: durations };
    console.log(`100 programs x 500 ms timeout x 2 runs in a 60 s function: ${invocations} invocations (${durations.join(', ')} ms)`);
  } finally {
    await env.close();
  }
});

test("the generate function keeps the stack's CACO_LLM_CONCURRENCY calls in flight, or the run's explicit lower limit", { timeout: 180_000 }, async () => {
  const inFlight: number[] = [];
  for (const explicit of [undefined, 4]) {
    const fake = await startFakeServer({ latencyMs: 400, apiKey: 'sk-lambda-env-test', respond: () => 'print(1)' });
    try {
      const endpoint = { baseURL: fake.baseURL, model: 'codegen', ...(explicit ? { concurrency: explicit } : {}) };
      const { message } = await seedExecuteShard(emu, stack, [], { shardSize: 50, generate: { mode: 'unconditional', samples: 50 }, llm: { default: endpoint } });
      const r = await stack.functions.generate.invoke(sqsEvent(message.replace('"execute"', '"generate"')));
      assert.ok(r.ok, JSON.stringify(r.body));
      assert.equal(fake.stats.served, 50, stack.functions.generate.log.slice(-1500));
      inFlight.push(fake.stats.maxConcurrent);
    } finally {
      await fake.close();
    }
  }
  // The stack sets 64; a shard's chunk is 50 samples: all of them in flight (the run config's
  // default of 8 was what ran before). An explicit limit of the run still lowers it.
  assert.equal(stack.specs.generate.environment.CACO_LLM_CONCURRENCY, '64');
  assert.ok(inFlight[0]! >= 40, `calls in flight with the stack's setting: ${inFlight[0]}`);
  assert.ok(inFlight[1]! <= 4, `calls in flight with llm.default.concurrency 4: ${inFlight[1]}`);
  figures.llmInFlight = { stackSetting: inFlight[0], explicit4: inFlight[1] };
});

test("a layer holding other child scripts than the bundle's is not run: the bundle's own are", { timeout: 180_000 }, async () => {
  // A layer from an older deploy: its copy of the child scripts is stale (here: it cannot start).
  const stale = mkdtempSync(join(tmpdir(), 'caco-stale-layer-'));
  cpSync(stack.specs.execute.layer!, stale, { recursive: true });
  chmodSync(stale, 0o755);
  writeFileSync(join(stale, 'child/controller.mjs'), "process.stderr.write('stale layer copy ran\\n'); process.exit(3);\n");
  const env = new LambdaEnvironment({ ...stack.specs.execute, layer: stale }, { nodeDir, extraEnv: stack.functions.execute.extraVariables() });
  await env.start();
  try {
    const { runId, blobs, message } = await seedExecuteShard(emu, stack, [{ id: 'p', code: 'output = 6 * 7' }], { execute: { rerun: false } });
    const r = await env.invoke(sqsEvent(message));
    assert.ok(r.ok, JSON.stringify(r.body));
    const ex = await executed(blobs, runId);
    assert.equal(ex.p!.status, 'ok', `${JSON.stringify(ex.p)}\n${env.log.slice(-1500)}`);
    assert.doesNotMatch(env.log, /stale layer copy ran/);
  } finally {
    await env.close();
  }
});
