// `caco finetune` against the fake server's files and fine-tuning endpoints, through the SDK.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startFakeServer } from '../helpers/fake-openai-server.ts';
import { exportCodegen } from '../../lib/llm/codegen-export.ts';
import { startFineTune } from '../../lib/llm/finetune.ts';
import { FileBlobStore } from '../../lib/store/file-blob-store.ts';
import { PartWriter, HUB_LIMITS } from '../../lib/pipeline/parquet-parts.ts';
import { FIELDS, codegenRow } from '../../lib/pipeline/dataset-layout.ts';
import type { ExecutedRecord } from '../../lib/schema.ts';

const root = new URL('../..', import.meta.url).pathname;
const codes = ['input = {"a": 1}\noutput = input["a"] + 1\nprint(output)', 'input = {"b": 2}\noutput = input["b"] * 3\nprint(output)'];

function writeSet(): string {
  const path = join(mkdtempSync(join(tmpdir(), 'ft-')), 'codegen.jsonl');
  writeFileSync(path, exportCodegen(codes.map((code) => ({ code }))).chatJsonl);
  return path;
}

test('uploads the file and starts a job; --wait polls it to success', async (t) => {
  const s = await startFakeServer({ apiKey: 'sk-ft' });
  t.after(() => s.close());
  const seen: string[] = [];
  const r = await startFineTune({
    file: writeSet(),
    model: 'Qwen2.5-Coder-7B',
    baseURL: s.baseURL,
    apiKeyEnv: 'FT_KEY',
    env: { FT_KEY: 'sk-ft' },
    wait: true,
    pollMs: 1,
    onStatus: (st) => seen.push(st),
  });
  assert.equal(r.examples, 2);
  assert.equal(r.status, 'succeeded');
  assert.match(r.fineTunedModel!, /^ft:Qwen2.5-Coder-7B:/);
  assert.deepEqual(seen, ['queued', 'running', 'succeeded']);
  const file = s.files.get(r.fileId)!;
  assert.equal(file.purpose, 'fine-tune');
  assert.equal(JSON.parse(file.content.split('\n')[1]).messages[1].content, codes[1]);
  assert.equal(s.jobs.get(r.jobId)!.training_file, r.fileId);
});

test('caco finetune (the CLI) prints the job; a Code CoT file is refused before any upload', async (t) => {
  const s = await startFakeServer();
  t.after(() => s.close());
  const run = promisify(execFile);
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'bin/caco.ts', 'finetune', writeSet(), '--model', 'base-7b', '--base-url', s.baseURL], { cwd: root });
  const out = JSON.parse(stdout);
  assert.equal(out.status, 'queued');
  assert.ok(s.jobs.has(out.jobId));
  const bad = join(mkdtempSync(join(tmpdir(), 'ft-')), 'cots.jsonl');
  writeFileSync(bad, JSON.stringify({ id: 'x', code: codes[0] }) + '\n');
  await assert.rejects(run(process.execPath, ['--import', 'tsx', 'bin/caco.ts', 'finetune', bad, '--model', 'base-7b', '--base-url', s.baseURL], { cwd: root }), /not a chat example/);
  assert.equal(s.files.size, 1, 'nothing uploaded for the bad file');
});

test("caco finetune takes the dataset folder: its codegen config's Parquet parts go up as chat JSONL", async (t) => {
  const s = await startFakeServer();
  t.after(() => s.close());
  const dir = mkdtempSync(join(tmpdir(), 'ft-ds-'));
  // Two parts (a part holds 1 row here), as assemble writes them.
  const w = new PartWriter(new FileBlobStore(dir), (f) => `codegen/${f}`, 'codegen', FIELDS.codegen, { jsonl: false, limits: { ...HUB_LIMITS, maxRows: 1 } });
  for (const [i, code] of codes.entries()) await w.add(codegenRow({ id: `c${i}`, code } as ExecutedRecord));
  assert.equal((await w.close()).files.length, 2);
  const run = promisify(execFile);
  for (const arg of [dir, join(dir, 'codegen')]) {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'bin/caco.ts', 'finetune', arg, '--model', 'base-7b', '--base-url', s.baseURL], { cwd: root });
    const file = s.files.get(JSON.parse(stdout).fileId)!;
    assert.deepEqual(file.content.split('\n').filter(Boolean).map((l) => JSON.parse(l).messages[1].content), codes);
  }
  await assert.rejects(run(process.execPath, ['--import', 'tsx', 'bin/caco.ts', 'finetune', mkdtempSync(join(tmpdir(), 'ft-empty-')), '--model', 'b', '--base-url', s.baseURL], { cwd: root }), /no codegen\/train-\*\.parquet parts/);
});
