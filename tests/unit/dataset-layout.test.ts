// The dataset's parts and its trainers' column contracts.
//  - Parts: rows stream into train-NNNNN.parquet parts that close at the row or byte limit, row
//    groups inside them bounded too; JSONL beside only when asked; an empty config still has a part.
//  - verl's contract, from its documentation (docs/preparation/prepare_data.rst, "Prepare Data for
//    Post-Training"): Parquet rows with `data_source` (names the reward function), `prompt` (a chat
//    list in the Hugging Face chat-template format), `ability` (the task category), `reward_model`
//    (`style`, and `ground_truth`, which the reward function compares with), `extra_info`. Its
//    MATH preprocessing asks for the final answer "within \boxed{}".
//  - TRL's, from its documentation: dataset formats ("conversational": `messages` lists of
//    {role, content}; prompt-only: `prompt` as a list of messages, what GRPOTrainer reads) and
//    trl.rewards.accuracy_reward(completions, solution): `solution` is a list of raw-text gold
//    solutions that math_verify parses as LaTeX (a gold it cannot parse gives None: no reward).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asyncBufferFromFile, parquetMetadataAsync } from 'hyparquet';
import { FileBlobStore } from '../../lib/store/file-blob-store.ts';
import { HUB_LIMITS, PartWriter } from '../../lib/pipeline/parquet-parts.ts';
import { BOXED_INSTRUCTION, FIELDS, dataRow, endsWithBoxed, groundTruth, rlvrRow, sftAnswerTurn, sftRow, type DataRow } from '../../lib/pipeline/dataset-layout.ts';
import { readConfigRows, readParquetRows } from '../../lib/pipeline/dataset-read.ts';
import { answersEqual, extractFinalAnswer } from '../../lib/answer/index.ts';
import type { BacktranslatedRecord } from '../../lib/stages/backtranslate.ts';
import { mulberry32 } from '../../lib/util/random.ts';

const record = (i: number, over: Partial<BacktranslatedRecord> = {}): BacktranslatedRecord => ({
  id: `gen-${i}`,
  instruction: `What is ${i} + ${i}?`,
  output: `Adding gives ${2 * i}. The answer is \\boxed{${2 * i}}.`,
  answer: String(2 * i),
  code: `input = {"a": ${i}}\noutput = input["a"] * 2\nprint(output)`,
  code_output: String(2 * i),
  provenance: { source: 'generated', model: 'm', sample: i, variant: 0, models: { reverse: 'r', solve: 's' } },
  ...over,
});

async function writeRows(rows: object[], limits = HUB_LIMITS, jsonl = false) {
  const root = mkdtempSync(join(tmpdir(), 'parts-'));
  const w = new PartWriter<object>(new FileBlobStore(root), (f) => `data/${f}`, 'data', FIELDS.default, { jsonl, limits });
  for (const r of rows) await w.add(r);
  return { root, ...(await w.close()) };
}

test('parts close at the row limit and row groups at theirs; the rows come back in order', async () => {
  const rows = Array.from({ length: 7 }, (_, i) => dataRow(record(i), 'run1'));
  const { root, files, rows: n } = await writeRows(rows, { ...HUB_LIMITS, maxRows: 3, rowGroupRows: 2 });
  assert.equal(n, 7);
  assert.deepEqual(files, [
    { path: 'data/train-00000.parquet', rows: 3 },
    { path: 'data/train-00001.parquet', rows: 3 },
    { path: 'data/train-00002.parquet', rows: 1 },
  ]);
  const groups = [];
  for (const f of files) groups.push((await parquetMetadataAsync(await asyncBufferFromFile(join(root, f.path)))).row_groups.map((g) => Number(g.num_rows)));
  assert.deepEqual(groups, [[2, 1], [2, 1], [1]]);
  const back = await readConfigRows(root, 'default');
  assert.deepEqual(back.map((r) => r.id), rows.map((r) => r.id));
  // provenance is a struct with the JSONL object's shape (absent optional fields read as null; hyparquet gives undefined for a null list)
  assert.deepEqual(back[1].provenance, { source: 'generated', runId: 'run1', seedId: null, model: 'm', sample: 1, variant: 0, examples: undefined, models: { reverse: 'r', solve: 's', judge: null }, extra: null });
  assert.deepEqual(readdirSync(join(root, 'data')).filter((f) => f.endsWith('.jsonl')), [], 'no JSONL unless asked');
});

test('parts close at the byte limit too; with jsonl the same rows go beside each part', async () => {
  const big = 'x'.repeat(2000);
  const rows = Array.from({ length: 5 }, (_, i) => dataRow(record(i, { code: big }), 'run1'));
  const { root, files } = await writeRows(rows, { ...HUB_LIMITS, maxBytes: 4500 }, true);
  // each row is ~2.3 KB of JSON: a part passes 4.5 KB at its second row
  assert.deepEqual(files.map((f) => `${f.path}:${f.rows}`), ['data/train-00000.parquet:2', 'data/train-00000.jsonl:2', 'data/train-00001.parquet:2', 'data/train-00001.jsonl:2', 'data/train-00002.parquet:1', 'data/train-00002.jsonl:1']);
  for (const part of ['train-00000', 'train-00001', 'train-00002']) {
    const fromJsonl = readFileSync(join(root, 'data', `${part}.jsonl`), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const fromParquet = await readParquetRows([join(root, 'data', `${part}.parquet`)]);
    assert.deepEqual(fromJsonl.map((r) => [r.id, r.provenance.runId, r.provenance.sample]), fromParquet.map((r) => [r.id, (r.provenance as DataRow['provenance']).runId, (r.provenance as DataRow['provenance']).sample]));
  }
});

test('a config with no rows still has one (empty) part, so it loads', async () => {
  const { root, files } = await writeRows([]);
  assert.deepEqual(files, [{ path: 'data/train-00000.parquet', rows: 0 }]);
  assert.deepEqual(await readConfigRows(root, 'default'), []);
});

test('provenance fields outside the schema are kept, as JSON in provenance.extra', () => {
  const row = dataRow(record(1, { provenance: { source: 'import', variant: 0, models: { reverse: 'r', solve: 's' }, batch: 'b7', runId: 'old' } as BacktranslatedRecord['provenance'] }), 'run9');
  assert.equal(row.provenance.runId, 'run9');
  assert.deepEqual(JSON.parse(row.provenance.extra!), { batch: 'b7' });
});

test("the SFT assistant turn ends with the boxed answer, appended only when the solution does not", () => {
  const boxedEnd = dataRow(record(3), 'r');
  assert.equal(sftAnswerTurn(boxedEnd), boxedEnd.output);
  for (const output of ['So 6 apples in all.\n#### 6', 'The answer is 6.', 'We get \\boxed{6}, and checking: 3 + 3 = 6 holds.']) {
    const row = { ...boxedEnd, output };
    const turn = sftAnswerTurn(row);
    assert.ok(turn.startsWith(output) && endsWithBoxed(turn), turn);
    assert.equal(extractFinalAnswer(turn).answer, '6');
  }
  for (const ok of ['x \\boxed{\\frac{1}{2}}', 'so $\\boxed{5}$.', '\\[\\boxed{x^{2}}\\]\n']) assert.ok(endsWithBoxed(ok), ok);
  assert.equal(endsWithBoxed('\\boxed{5} and more'), false);
  const sft = sftRow(boxedEnd);
  assert.deepEqual(sft.messages.map((m) => m.role), ['user', 'assistant'], "TRL's conversational messages");
  assert.equal(sft.messages[0]!.content, boxedEnd.instruction);
});

test("rlvr rows meet verl's and TRL's column contracts", () => {
  const rows = [record(4), record(5, { answer: '\\frac{1}{2}', code_output: '0.5', output: '... \\boxed{\\frac{1}{2}}' }), record(6, { answer: '\\frac{1}{3}', code_output: 'Fraction(1, 3)' })].map((r, i) => rlvrRow(dataRow(r, 'run1'), i));
  for (const [i, r] of rows.entries()) {
    // verl: the five fields, with the documented shapes
    assert.deepEqual(Object.keys(r).slice(0, 5), ['data_source', 'prompt', 'ability', 'reward_model', 'extra_info']);
    assert.equal(typeof r.data_source, 'string');
    assert.ok(Array.isArray(r.prompt) && r.prompt.every((m) => typeof m.role === 'string' && typeof m.content === 'string'));
    assert.equal(r.prompt.at(-1)!.role, 'user');
    assert.ok(r.prompt.at(-1)!.content.endsWith(BOXED_INSTRUCTION) && BOXED_INSTRUCTION.includes('\\boxed{}'), 'the prompt says where the final answer goes');
    assert.equal(r.ability, 'math');
    assert.equal(r.reward_model.style, 'rule');
    assert.equal(typeof r.reward_model.ground_truth, 'string');
    assert.equal(r.extra_info.index, i);
    // TRL: `prompt` is a prompt-only conversational column; `solution` is LaTeX math_verify reads
    assert.match(r.solution, /^\\boxed\{.+\}$/);
    // A completion that puts the right answer in \boxed{} earns the reward under our checker.
    const completion = `Work... so the result is \\boxed{${r.extra_info.answer}}.`;
    assert.ok(answersEqual(extractFinalAnswer(completion).answer!, r.reward_model.ground_truth).equal, r.reward_model.ground_truth);
    assert.equal(answersEqual('7777', r.reward_model.ground_truth).equal, false);
  }
  // ground truth: the program's output when the checker reads it as the answer...
  assert.deepEqual(rows.map((r) => r.reward_model.ground_truth).slice(0, 2), ['8', '0.5']);
  // ...else the verified answer, which the checker accepted against the program's output value
  const odd = { answer: '\\frac{1}{3}', code_output: '<a Fraction object>' };
  assert.equal(groundTruth(odd), '\\frac{1}{3}');
});

test('a part of many megabytes (written in 1 MB chunks) reads back whole', async () => {
  const rand = mulberry32(3);
  const noise = (n: number) => Array.from({ length: n }, () => String.fromCharCode(33 + Math.floor(rand() * 90))).join('');
  const rows = Array.from({ length: 3000 }, (_, i) => dataRow(record(i, { code: noise(2000) }), 'run1'));
  const { root, files } = await writeRows(rows, { ...HUB_LIMITS, rowGroupRows: 700 });
  assert.equal(files.length, 1);
  const file = join(root, files[0]!.path);
  assert.ok(readFileSync(file).length > 4 * 2 ** 20, 'bigger than a few chunks');
  const back = await readParquetRows([file]);
  assert.equal(back.length, 3000);
  assert.equal(back[2999]!.code, rows[2999]!.code);
  assert.deepEqual((await parquetMetadataAsync(await asyncBufferFromFile(file))).row_groups.map((g) => Number(g.num_rows)), [700, 700, 700, 700, 200]);
});
