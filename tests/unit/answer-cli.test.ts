import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, PassThrough } from 'node:stream';
import { spawnSync } from 'node:child_process';
import { compareStream, comparePairLine } from '../../lib/answer/batch.ts';

const LINES = [
  JSON.stringify({ pred: '\\frac{3}{4}', gold: { json: { $fraction: ['3', '4'] }, repr: 'Fraction(3, 4)', str: '3/4', type: 'Fraction' } }),
  'not json',
  JSON.stringify({ pred: '10', gold: '0.1' }),
  '',
  JSON.stringify({ pred: 5, gold: '5' }),
  JSON.stringify({ id: 'q7', pred: '(1,2)', gold: '(2,1)' }),
  JSON.stringify({ pred: null, gold: '3' }),
  JSON.stringify({ pred: '3', gold: { json: 3 } }),
];

test('comparePairLine: a malformed line is reported with its number and never throws', () => {
  assert.deepEqual(comparePairLine('[1]', 4), { equal: false, reason: 'bad_line', line: 4, error: 'expected an object {pred, gold}' });
  assert.equal(comparePairLine('{', 9).line, 9);
  assert.deepEqual(comparePairLine(JSON.stringify({ pred: null, gold: '3' }), 1), { equal: false, reason: 'no_answer' });
});

test('compareStream keeps order, skips blank lines, counts bad lines', async () => {
  const out = new PassThrough();
  const chunks: string[] = [];
  out.on('data', (c) => chunks.push(String(c)));
  const counts = await compareStream(Readable.from([LINES.join('\n') + '\n']), out);
  const res = chunks.join('').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(res.length, 7);
  // a bare answer given where a whole solution is expected is taken whole (not cut to its last number)
  assert.deepEqual(res[0], { equal: true, reason: 'numeric', extracted: '\\frac{3}{4}', rule: 'whole_text' });
  assert.equal(res[1].reason, 'bad_line');
  assert.equal(res[1].line, 2);
  assert.deepEqual(res[2], { equal: false, reason: 'numeric', extracted: '10', rule: 'whole_text' });
  assert.equal(res[3].line, 5, 'line numbers count blank lines too');
  assert.deepEqual(res[4], { id: 'q7', equal: false, reason: 'tuple_ordered', extracted: '(1,2)', rule: 'whole_text' });
  assert.equal(res[6].reason, 'bad_line', 'a gold that is neither text nor a PyValue');
  assert.deepEqual(counts, { lines: 7, equal: 1, notEqual: 3, badLines: 3 });
});

test('whole solutions: the answer is extracted and its rule reported; ids pass through; --no-extract compares as given', () => {
  const line = (o: object) => JSON.stringify(o);
  const sol = 'Janet has 16 eggs, eats 3 and bakes with 4, so 16 - 3 - 4 = 9 are left.\nShe sells them at $2 each: 9 * 2 = 18.\nSo the final answer is $\\boxed{18}$.';
  assert.deepEqual(comparePairLine(line({ id: 7, pred: sol, gold: '18' }), 1), { id: '7', equal: true, reason: 'exact_string', extracted: '18', rule: 'boxed' });
  assert.deepEqual(comparePairLine(line({ pred: sol, gold: '18' }), 1, { extract: false }).equal, false, 'without extraction a whole solution is not an answer');
  assert.deepEqual(comparePairLine(line({ pred: '16 - 3 - 4 = 9, and 9 * 2 = 18.\n#### 18', gold: '18' }), 1), { equal: true, reason: 'exact_string', extracted: '18', rule: 'gsm8k' });
  assert.deepEqual(comparePairLine(line({ pred: 'It is 2 + 3 = 5 pages. The answer is 5.', gold: { json: 5, repr: '5', str: '5', type: 'int' } }), 1), {
    equal: true, reason: 'exact_string', extracted: '5', rule: 'answer_is',
  });
  const twoBoxes = 'First guess \\boxed{12}. Checking again, the total is \\boxed{14}.';
  assert.deepEqual(comparePairLine(line({ id: 'a', pred: twoBoxes, gold: '14' }), 1), { id: 'a', equal: false, reason: 'ambiguous', extracted: null, rule: 'ambiguous', candidates: ['12', '14'] });
  assert.equal(comparePairLine(line({ pred: twoBoxes, gold: '14' }), 1, { ambiguous: 'last' }).equal, true);
  assert.deepEqual(comparePairLine(line({ pred: 'I do not know.', gold: '3' }), 1), { equal: false, reason: 'no_answer', extracted: null, rule: 'none' });
  // a gold that is itself a worked solution is reduced to its answer
  assert.equal(comparePairLine(line({ pred: 'so \\boxed{72}', gold: 'Natalia sold 48/2 = 24 clips in May.\n48+24 = 72\n#### 72' }), 1).equal, true);
});

test('`caco answers` writes one result line per pair to -o', () => {
  const dir = mkdtempSync(join(tmpdir(), 'caco-answers-'));
  try {
    const inp = join(dir, 'pairs.jsonl');
    const outp = join(dir, 'out.jsonl');
    writeFileSync(inp, LINES.join('\n') + '\n');
    // the command module registered on a fresh commander program, run as its own process (bin/caco.ts
    // loads every command module, so another command's unfinished imports must not break this test)
    const mod = new URL('../../lib/cli/answers.ts', import.meta.url).href;
    const script = `import { Command } from 'commander'; import { register } from ${JSON.stringify(mod)};
      const p = new Command(); p.exitOverride(); register(p);
      try { await p.parseAsync(process.argv.slice(process.argv.indexOf('answers')), { from: 'user' }); } catch (e) { console.error('caco: ' + e.message); process.exitCode = 1; }`;
    const run = (...args: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, '--', ...args], { encoding: 'utf8', cwd: new URL('../..', import.meta.url).pathname });
    const r = run('answers', inp, '-o', outp);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /7 pairs, 1 equal, 3 not equal, 3 bad lines/);
    const res = readFileSync(outp, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(res.length, 7);
    assert.equal(res[0].equal, true);
    const noExtract = run('answers', inp, '-o', outp, '--no-extract');
    assert.equal(noExtract.status, 0, noExtract.stderr);
    const raw = readFileSync(outp, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(raw[0], { equal: true, reason: 'numeric' }, '--no-extract: no extraction fields');
    assert.deepEqual(raw[4], { id: 'q7', equal: false, reason: 'tuple_ordered' });
    const missing = run('answers', join(dir, 'nope.jsonl'));
    assert.notEqual(missing.status, 0);
    assert.match(missing.stderr, /no such file/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
