// The offline demo end to end: the README's first command, in process. Checks the dataset's
// content, that every major rejection reason shows up, conservation, the exports, and that a
// second replay of the cassette gives byte-identical output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadConfigFile, runLocal } from '../../lib/local/run-local.ts';
import { DEMO_CONFIG, DEMO_INPUT } from '../../lib/cli/demo.ts';
import { answersEqual } from '../../lib/answer/index.ts';
import { findContamination } from '../../lib/decontam/index.ts';

const lines = (file: string) => readFileSync(file, 'utf8').split('\n').filter(Boolean);

async function demo(out: string) {
  return runLocal({ input: DEMO_INPUT, config: loadConfigFile(DEMO_CONFIG), configDir: dirname(DEMO_CONFIG), out, progress: 'quiet' });
}

test('the offline demo makes a verified dataset and shows every major rejection reason', { timeout: 180_000 }, async () => {
  const out = mkdtempSync(join(tmpdir(), 'caco-demo-'));
  const r = await demo(out);
  assert.equal(r.status, 'done', JSON.stringify(r.deadLetters));
  const dir = r.datasetDir!;
  const data = lines(join(dir, 'data.jsonl')).map((l) => JSON.parse(l));
  assert.ok(data.length >= 20, `expected a real dataset, got ${data.length} samples`);
  assert.equal(new Set(data.map((d) => d.id)).size, data.length, 'no duplicate sample ids');
  for (const d of data) {
    for (const f of ['id', 'instruction', 'output', 'answer', 'code', 'code_output']) assert.equal(typeof d[f], 'string', `${d.id}.${f}`);
    assert.equal(d.provenance.runId, r.runId);
    assert.match(d.code, /\binput\s*=/);
    assert.ok(answersEqual(d.answer, d.code_output).equal, `${d.id}: answer ${d.answer} vs code ${d.code_output}`);
    assert.equal(findContamination(d.instruction), null, `${d.id} is contaminated`);
  }

  const stats = JSON.parse(readFileSync(join(dir, 'stats.json'), 'utf8'));
  assert.equal(stats.conservation.ok, true, stats.conservation.problems.join('\n'));
  assert.equal(stats.samples, data.length);
  const reasons = new Set<string>();
  for (const s of Object.values(stats.stages) as { rejected: Record<string, number> }[]) for (const k of Object.keys(s.rejected)) reasons.add(k);
  for (const reason of [
    'contaminated:gsm8k', 'llm_refusal', 'llm_truncated', 'timeout', 'exec_error', 'gold_mismatch', 'duplicate',
    'near_duplicate', 'nondeterministic', 'missing_module', 'huge_int', 'too_short', 'answer_mismatch', 'no_boxed_answer',
  ]) {
    assert.ok(reasons.has(reason), `rejection reason ${reason} missing from the demo summary (have ${[...reasons].join(', ')})`);
  }
  // Every stage ran, and in = kept + rejected + failed for each.
  for (const stage of ['ingest', 'unify', 'generate', 'execute', 'filter', 'dedup', 'backtranslate']) {
    const s = stats.stages[stage];
    assert.ok(s && s.in > 0, `stage ${stage} did not run`);
    const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);
    assert.equal(s.in, s.kept + sum(s.rejected) + sum(s.failed), stage);
  }

  // Exports line up with the samples; rejected records carry their reasons.
  assert.equal(lines(join(dir, 'sft.jsonl')).length, data.length);
  assert.equal(lines(join(dir, 'rlvr.jsonl')).length, data.length);
  assert.equal(lines(join(dir, 'codegen.jsonl')).length, stats.codegen);
  const sft = JSON.parse(lines(join(dir, 'sft.jsonl'))[0]);
  assert.deepEqual(sft.messages.map((m: { role: string }) => m.role), ['user', 'assistant']);
  const rlvr = JSON.parse(lines(join(dir, 'rlvr.jsonl'))[0]);
  assert.equal(typeof rlvr.ground_truth, 'string');
  const parts = readdirSync(join(dir, 'parquet'));
  assert.ok(parts.length > 0);
  for (const p of parts) assert.equal(readFileSync(join(dir, 'parquet', p)).subarray(0, 4).toString(), 'PAR1');
  const rejectedFilter = lines(join(dir, 'rejected', 'filter.jsonl')).map((l) => JSON.parse(l));
  assert.ok(rejectedFilter.every((x) => typeof x.reason === 'string' && x.id));
  const card = readFileSync(join(dir, 'README.md'), 'utf8');
  assert.match(card, /^---\nlicense:/);
  assert.match(card, /\| backtranslate \|/);

  // A second replay of the same cassette gives byte-identical output.
  const again = await demo(mkdtempSync(join(tmpdir(), 'caco-demo-')));
  assert.equal(again.status, 'done', JSON.stringify(again.deadLetters));
  assert.equal(again.runId, r.runId);
  assert.equal(readFileSync(join(again.datasetDir!, 'data.jsonl'), 'utf8'), readFileSync(join(dir, 'data.jsonl'), 'utf8'));
});
