import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { goldFromGsm8k, goldFromMath, lastBoxed, readBraceGroup } from '../../lib/answer/extract.ts';
import { extractAnswer, extractFinalAnswer } from '../../lib/answer/final.ts';

test('the \\boxed answer, with nested braces; two DIFFERENT boxed answers are ambiguous unless asked for the last', () => {
  const two = 'first $\\boxed{1}$, then $\\boxed{\\frac{\\sqrt{2}}{2}}$.';
  assert.equal(extractAnswer(two), null);
  assert.deepEqual(extractFinalAnswer(two), { answer: null, rule: 'ambiguous', candidates: ['1', '\\frac{\\sqrt{2}}{2}'] });
  assert.deepEqual(extractFinalAnswer(two, { ambiguous: 'last' }), { answer: '\\frac{\\sqrt{2}}{2}', rule: 'boxed' });
  assert.deepEqual(extractFinalAnswer('so $\\boxed{\\frac12}$, that is \\boxed{0.5}'), { answer: '0.5', rule: 'boxed' }, 'the same answer boxed twice is not ambiguous');
  assert.equal(extractAnswer('so $\\boxed{\\left( 3, \\frac{\\pi}{2} \\right)}.$'), '\\left( 3, \\frac{\\pi}{2} \\right)');
  assert.equal(extractAnswer('a set $\\boxed{\\{1,2\\}}$'), '\\{1,2\\}', 'escaped braces do not close the group');
});

test('\\fbox and \\boxed without braces', () => {
  assert.equal(extractAnswer('hence \\fbox{42} is it'), '42');
  assert.equal(extractAnswer('the value is $\\boxed 5$.'), '5');
  assert.equal(extractAnswer('the value is \\boxed 7.'), '7');
});

test('an unclosed \\boxed does not fall back to garbage; "The answer is" and #### are used in that order', () => {
  assert.equal(extractAnswer('so \\boxed{12 and then nothing'), null);
  assert.equal(extractAnswer('Therefore the answer is $\\frac{3}{4}$.\nDone'), '\\frac{3}{4}');
  assert.equal(extractAnswer('The answer is: 18'), '18');
  assert.equal(extractAnswer('The answer is 7.\nNo: the final answer is $8$.'), '8', 'the last statement wins');
  assert.equal(extractAnswer('She makes 9 * 2 = $18.\n#### 1,800'), '1800');
  assert.equal(extractAnswer('The answer is 5\n#### 6'), '6', 'GSM8K #### outranks "The answer is" (the documented order)');
  assert.equal(extractAnswer('\\boxed{3} ... the answer is 4'), '3', '\\boxed outranks "The answer is"');
});

test('no answer gives null', () => {
  assert.equal(extractAnswer('I am not sure.'), null);
  assert.equal(extractAnswer(''), null);
});

test('readBraceGroup and lastBoxed on the edges', () => {
  assert.deepEqual(readBraceGroup('{a{b}c}d', 0), { inner: 'a{b}c', end: 7 });
  assert.equal(readBraceGroup('{a{b}c', 0), null);
  assert.equal(lastBoxed('x'.repeat(300_000) + '\\boxed{9}'), '9', 'long texts are scanned from the tail');
});

test('gold of every GSM8K test solution and MATH-500 solution is found', () => {
  const read = (f: string) =>
    readFileSync(new URL(`../../../shared/data/benchmarks/${f}`, import.meta.url), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  let gsm: { answer: string }[] = [];
  let math: { answer: string }[] = [];
  try {
    gsm = read('gsm8k-test.jsonl');
    math = read('math500-test.jsonl');
  } catch {
    // the shared data folder is outside the product; the inline cases below still run
  }
  for (const r of gsm) assert.match(goldFromGsm8k(r.answer) ?? '', /^-?\d+(\.\d+)?$/, r.answer.slice(-40));
  for (const r of math) {
    const stated = r.answer.split('The answer is:').pop()!.trim();
    assert.ok(goldFromMath(r.answer), 'a MATH gold exists');
    assert.ok(stated.length > 0);
  }
  assert.equal(goldFromGsm8k('She makes $18.\n#### 18'), '18');
  assert.equal(goldFromGsm8k('#### 1,450,000'), '1450000');
  assert.equal(goldFromMath('so $x=\\boxed{\\frac{3}{2}}$.The answer is: \\frac{3}{2}'), '\\frac{3}{2}');
});
