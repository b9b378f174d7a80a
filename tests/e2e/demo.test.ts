// The offline demo end to end: the README's first command, in process. Checks the dataset's
// content, that every major rejection reason shows up, conservation, the exports (each a config of
// Parquet parts), and that a second replay of the cassette gives byte-identical output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadConfigFile, runLocal } from '../../lib/local/run-local.ts';
import { DEMO_CONFIG, DEMO_INPUT } from '../../lib/cli/demo.ts';
import { answersEqual } from '../../lib/answer/index.ts';
import { findContamination } from '../../lib/decontam/index.ts';
import { filesUnder, partsOf, readConfig } from '../helpers/dataset.ts';


async function demo(out: string) {
  return runLocal({ input: DEMO_INPUT, config: loadConfigFile(DEMO_CONFIG), configDir: dirname(DEMO_CONFIG), out, progress: 'quiet' });
}

test('the offline demo makes a verified dataset and shows every major rejection reason', { timeout: 180_000 }, async () => {
  const out = mkdtempSync(join(tmpdir(), 'caco-demo-'));
  const r = await demo(out);
  assert.equal(r.status, 'done', JSON.stringify(r.deadLetters));
  const dir = r.datasetDir!;
  const data = await readConfig(dir, 'default');
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
  const sft = await readConfig(dir, 'sft');
  const rlvr = await readConfig(dir, 'rlvr');
  assert.equal(sft.length, data.length);
  assert.equal(rlvr.length, data.length);
  assert.equal((await readConfig(dir, 'codegen')).length, stats.codegen);
  assert.deepEqual(sft[0].messages.map((m: { role: string }) => m.role), ['user', 'assistant']);
  assert.match(sft[0].messages[1].content, /\\boxed\{[^]*\}\$?\.?\s*$/, 'the assistant turn ends with the boxed answer');
  assert.equal(typeof rlvr[0].reward_model.ground_truth, 'string');
  for (const c of ['data', 'sft', 'rlvr', 'codegen', 'rejected']) {
    for (const p of partsOf(dir, c)) assert.equal(readFileSync(p).subarray(0, 4).toString(), 'PAR1');
  }
  const rejected = await readConfig(dir, 'rejected');
  const rejectedFilter = rejected.filter((x) => x.stage === 'filter');
  assert.ok(rejectedFilter.length > 0 && rejectedFilter.every((x) => typeof x.reason === 'string' && x.id && x.outcome === 'rejected'));
  const rejectedTotal = Object.values(stats.stages as Record<string, { rejected: Record<string, number>; failed: Record<string, number> }>)
    .flatMap((s) => [...Object.values(s.rejected), ...Object.values(s.failed)])
    .reduce((a, b) => a + b, 0);
  assert.equal(rejected.length, rejectedTotal, 'every rejected and failed record is in the rejected config');
  // No JSONL unless the config asks for it; the card names exactly the files written.
  assert.ok(!existsSync(join(dir, 'data.jsonl')) && partsOf(dir, 'default', 'jsonl').length === 0);
  const card = readFileSync(join(dir, 'README.md'), 'utf8');
  assert.match(card, /^---\nlicense:/);
  assert.match(card, /\| backtranslate \|/);
  const parquet = filesUnder(dir).filter((f) => f.endsWith('.parquet'));
  assert.deepEqual(stats.files.map((f: { path: string }) => f.path).sort(), parquet);
  for (const f of parquet) assert.ok(card.includes(`    - ${f}\n`) && card.includes(`| \`${f}\` |`), `the card names ${f}`);

  // A second replay of the same cassette gives byte-identical output.
  const again = await demo(mkdtempSync(join(tmpdir(), 'caco-demo-')));
  assert.equal(again.status, 'done', JSON.stringify(again.deadLetters));
  assert.equal(again.runId, r.runId);
  assert.deepEqual(filesUnder(again.datasetDir!), filesUnder(dir));
  // The records themselves are byte-identical; rejected ones carry timings and random outputs.
  for (const f of filesUnder(dir).filter((f) => /^(data|sft|rlvr|codegen)\//.test(f) || f === 'README.md')) {
    assert.ok(readFileSync(join(again.datasetDir!, f)).equals(readFileSync(join(dir, f))), `${f} is byte-identical`);
  }
  const verdicts = (rows: Record<string, unknown>[]) => rows.map((x) => [x.id, x.stage, x.outcome, x.reason].join(' '));
  assert.deepEqual(verdicts(await readConfig(again.datasetDir!, 'rejected')), verdicts(rejected));
});
