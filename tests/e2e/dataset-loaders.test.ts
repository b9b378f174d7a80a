// The dataset with the real loaders: Python `datasets` loads every config the card declares and
// `pyarrow` reads every Parquet part, for the demo's local run and for the same run on the
// emulated AWS stack pulled down with `caco pull`. Row counts must equal stats.json's, and the two
// folders must hold the same files and the same rows. Needs `pip install datasets pyarrow`
// (.ci/run installs them): without them this test FAILS with that reason, it does not skip.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { startAwsEmulators, type AwsEmulators } from '../helpers/aws-emulators.ts';
import { captureOutput, createEmulatedStack, driveStack, type EmulatedStack } from '../helpers/emulated-stack.ts';
import { filesUnder } from '../helpers/dataset.ts';
import { REPO_ROOT } from '../helpers/run-cli.ts';
import { pullDataset, resolveTarget, submitRun } from '../../lib/aws/remote.ts';
import { loadConfigFile, runLocal } from '../../lib/local/run-local.ts';
import { DEMO_CONFIG, DEMO_INPUT } from '../../lib/cli/demo.ts';
import { BOXED_INSTRUCTION, CONFIGS } from '../../lib/pipeline/dataset-layout.ts';

process.env.POWERTOOLS_METRICS_DISABLED = 'true';
process.env.POWERTOOLS_METRICS_NAMESPACE = 'CacoLoaders';

const LOADER = join(REPO_ROOT, 'tests', 'fixtures', 'load-dataset.py');

interface Loaded {
  error?: string;
  datasets: string;
  pyarrow: string;
  config_names: string[];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  configs: Record<string, { rows: number; features: Record<string, any>; digest: string; first: Record<string, any> | null; jsonl?: { files: number; rows: number; digest: string } }>;
  files: Record<string, { rows: number; row_groups: number }>;
}

interface Stats {
  samples: number;
  codegen: number;
  configs: Record<string, number>;
  files: { path: string; rows: number }[];
  stages: Record<string, { rejected: Record<string, number>; failed: Record<string, number> }>;
}

/** Runs the Python loaders over a dataset folder (own HF cache, offline: nothing is downloaded). */
async function load(dir: string, jsonl = false): Promise<Loaded> {
  const home = mkdtempSync(join(tmpdir(), 'hf-'));
  const env = { ...process.env, HF_HOME: home, HF_DATASETS_CACHE: join(home, 'datasets'), HF_HUB_OFFLINE: '1', HF_DATASETS_OFFLINE: '1' };
  let stdout: string;
  try {
    ({ stdout } = await promisify(execFile)('python3', [LOADER, dir, ...(jsonl ? ['--jsonl'] : [])], { env, maxBuffer: 64 * 2 ** 20 }));
  } catch (e) {
    throw new Error(`python3 could not load ${dir}: ${(e as Error).message}`);
  }
  const out = JSON.parse(stdout) as Loaded;
  if (out.error) assert.fail(out.error);
  return out;
}

let emu: AwsEmulators;
let stack: EmulatedStack | undefined;
let localDir: string;
let pulledDir: string;

before(async () => {
  const r = await runLocal({ input: DEMO_INPUT, config: loadConfigFile(DEMO_CONFIG), configDir: dirname(DEMO_CONFIG), out: mkdtempSync(join(tmpdir(), 'caco-loaders-')), progress: 'quiet' });
  assert.equal(r.status, 'done', JSON.stringify(r.deadLetters));
  localDir = r.datasetDir!;

  emu = await startAwsEmulators();
  stack = await createEmulatedStack(emu, 'loaders', { visibilityTimeoutSeconds: 30, maxReceiveCount: 4 });
  const target = await resolveTarget({ bucket: stack.bucket, table: stack.table, clientOptions: emu.clientOptions });
  const { result } = await captureOutput(async () => {
    const submitted = await submitRun(target, DEMO_INPUT, DEMO_CONFIG);
    // The same bound as the emulated AWS test: on these shared cores the demo takes minutes there.
    await driveStack(emu, stack!, { timeoutMs: 300_000 });
    return submitted;
  });
  assert.equal(result.runId, r.runId, 'the same run id on both transports');
  pulledDir = join(mkdtempSync(join(tmpdir(), 'caco-pulled-')), 'dataset');
  await pullDataset(target, result.runId, pulledDir);
});
after(async () => {
  await stack?.close();
  await emu?.stop();
});

function checkAgainstStats(name: string, dir: string, loaded: Loaded): void {
  const stats = JSON.parse(readFileSync(join(dir, 'stats.json'), 'utf8')) as Stats;
  assert.deepEqual(loaded.config_names, [...CONFIGS], `${name}: the card declares every config`);
  const rejected = Object.values(stats.stages).reduce((a, s) => a + [...Object.values(s.rejected), ...Object.values(s.failed)].reduce((x, y) => x + y, 0), 0);
  const want: Record<string, number> = { default: stats.samples, sft: stats.samples, rlvr: stats.samples, codegen: stats.codegen, rejected };
  for (const c of CONFIGS) {
    assert.equal(loaded.configs[c]!.rows, stats.configs[c], `${name}: ${c} rows as stats.json's configs says`);
    assert.equal(loaded.configs[c]!.rows, want[c], `${name}: ${c} rows as stats.json's counts say`);
    assert.ok(loaded.configs[c]!.rows > 0, `${name}: ${c} is not empty in the demo`);
  }
  // pyarrow reads every part stats.json lists, with its row count; the card lists exactly those.
  const card = readFileSync(join(dir, 'README.md'), 'utf8');
  const parquet = filesUnder(dir).filter((f) => f.endsWith('.parquet'));
  assert.deepEqual(Object.keys(loaded.files).sort(), parquet);
  for (const f of stats.files) {
    assert.ok(card.includes(`| \`${f.path}\` | ${f.rows} |`), `${name}: the card's file table names ${f.path}`);
    if (!f.path.endsWith('.parquet')) continue; // a JSONL twin: checked by the json loader
    assert.equal(loaded.files[f.path]!.rows, f.rows, `${name}: ${f.path}`);
    assert.ok(card.includes(`    - ${f.path}\n`), `${name}: the card's configs name ${f.path}`);
  }
  assert.deepEqual(stats.files.map((f) => f.path).sort(), filesUnder(dir).filter((f) => /^(data|sft|rlvr|codegen|rejected)\//.test(f)), `${name}: stats.json lists every file of the configs`);
  const line = CONFIGS.map((c) => `${c} ${loaded.configs[c]!.rows}`).join(', ');
  console.log(`${name}: datasets ${loaded.datasets}, pyarrow ${loaded.pyarrow}: ${line} (= stats.json); ${parquet.length} Parquet files`);
}

test('Python datasets and pyarrow load every config of the local run and of the pulled AWS run; counts equal stats.json, the folders are the same', { timeout: 600_000 }, async () => {
  const local = await load(localDir);
  const pulled = await load(pulledDir);
  checkAgainstStats('local run', localDir, local);
  checkAgainstStats('emulated AWS run, pulled', pulledDir, pulled);

  assert.deepEqual(filesUnder(pulledDir).filter((f) => !f.startsWith('report/')), filesUnder(localDir).filter((f) => !f.startsWith('report/')), 'the same files');
  for (const c of CONFIGS) assert.equal(pulled.configs[c]!.digest, local.configs[c]!.digest, `${c}: the same rows`);

  // The schemas as the loaders see them: provenance a struct, chat lists of {role, content}, verl's rlvr.
  const f = local.configs;
  assert.equal(f.default!.features.provenance.runId.dtype, 'string');
  assert.equal(f.default!.features.provenance.sample.dtype, 'int32');
  const chat = { feature: { content: { dtype: 'string', _type: 'Value' }, role: { dtype: 'string', _type: 'Value' } }, _type: 'List' };
  assert.deepEqual(f.sft!.features.messages, chat);
  assert.deepEqual(f.codegen!.features.messages, chat);
  assert.deepEqual(f.rlvr!.features.prompt, chat);
  assert.deepEqual(Object.keys(f.rlvr!.features), ['data_source', 'prompt', 'ability', 'reward_model', 'extra_info', 'solution']);
  assert.deepEqual(Object.keys(f.rlvr!.features.reward_model).sort(), ['ground_truth', 'style']);
  const rl = f.rlvr!.first!;
  assert.equal(rl.reward_model.style, 'rule');
  assert.ok(rl.prompt[0].content.endsWith(BOXED_INSTRUCTION));
  assert.match(rl.solution, /^\\boxed\{/);
  assert.match(f.sft!.first!.messages[1].content, /\\boxed\{[^]*\}\$?\.?\s*$/);
  assert.equal(typeof f.default!.first!.provenance, 'object');
});

test('with dataset.jsonl the JSONL twins hold the same rows, in the same shape, as datasets loads them', { timeout: 300_000 }, async () => {
  const config = { ...(loadConfigFile(DEMO_CONFIG) as object), dataset: { jsonl: true } };
  const r = await runLocal({ input: DEMO_INPUT, config, configDir: dirname(DEMO_CONFIG), out: mkdtempSync(join(tmpdir(), 'caco-jsonl-')), progress: 'quiet' });
  assert.equal(r.status, 'done', JSON.stringify(r.deadLetters));
  const loaded = await load(r.datasetDir!, true);
  checkAgainstStats('local run with JSONL', r.datasetDir!, loaded);
  for (const c of CONFIGS) {
    const { jsonl } = loaded.configs[c]!;
    assert.ok(jsonl && jsonl.files > 0, `${c} has JSONL twins`);
    assert.equal(jsonl.rows, loaded.configs[c]!.rows, `${c}: as many JSONL rows as Parquet rows`);
    assert.equal(jsonl.digest, loaded.configs[c]!.digest, `${c}: the JSONL rows equal the Parquet rows`);
  }
  // The Parquet configs are unchanged by the twins: the same rows as the run without them.
  const plain = await load(localDir);
  for (const c of ['sft', 'rlvr', 'codegen', 'rejected']) assert.equal(loaded.configs[c]!.digest, plain.configs[c]!.digest, c);
});
