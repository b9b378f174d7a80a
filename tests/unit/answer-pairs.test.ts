// The labelled set: >= 300 (pred, gold, equal) pairs in the answer styles of MATH-500 and GSM8K,
// gold as text or as a program output (PyValue). Labels come from how each pair was built
// (a rewrite of the gold is equal, a perturbation is not) and were checked by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { answersEqual } from '../../lib/answer/equal.ts';

type Pair = { pred: string; gold: unknown; equal: boolean; source: string; note?: string };
const load = (name: string): Pair[] =>
  readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l));
// answer-pairs.jsonl: MATH-500 / GSM8K answer styles; answer-pairs-holdout.jsonl: program outputs
// (PyValue) vs model answers, written after the first set and run blind once (90/96 before fixes).
const pairs: Pair[] = [...load('answer-pairs.jsonl'), ...load('answer-pairs-holdout.jsonl')];

test('labelled answer pairs: accuracy >= 99%, every comparison under 1 s', () => {
  assert.ok(pairs.length >= 300, `only ${pairs.length} pairs`);
  assert.ok(pairs.some((p) => p.equal) && pairs.some((p) => !p.equal), 'both labels present');
  assert.ok(pairs.some((p) => typeof p.gold === 'string') && pairs.some((p) => typeof p.gold === 'object'), 'both gold kinds present');
  const t0 = performance.now();
  answersEqual('\\sqrt{2}', '1'); // start the compute engine once, so the slowest pair below is a real comparison
  console.log(`compute engine start: ${(performance.now() - t0).toFixed(1)} ms`);
  const wrong: string[] = [];
  let slowest = { ms: 0, pair: '' };
  for (const p of pairs) {
    const t1 = performance.now();
    const r = answersEqual(p.pred, p.gold as never);
    const ms = performance.now() - t1;
    const gold = typeof p.gold === 'string' ? p.gold : (p.gold as { repr: string }).repr;
    if (ms > slowest.ms) slowest = { ms, pair: `${JSON.stringify(p.pred)} vs ${JSON.stringify(gold)}` };
    assert.ok(ms < 1000, `comparison took ${ms.toFixed(0)} ms: ${p.pred} vs ${gold}`);
    if (r.equal !== p.equal) wrong.push(`  expected ${p.equal}, got ${r.equal} (${r.reason}): ${JSON.stringify(p.pred)} vs ${JSON.stringify(gold)} [${p.source}${p.note ? ': ' + p.note : ''}]`);
  }
  const acc = 1 - wrong.length / pairs.length;
  console.log(`answer pairs: ${pairs.length}, accuracy ${(acc * 100).toFixed(2)}%, misclassified ${wrong.length}`);
  if (wrong.length) console.log(wrong.join('\n'));
  console.log(`slowest comparison: ${slowest.ms.toFixed(1)} ms (${slowest.pair})`);
  assert.ok(acc >= 0.99, `accuracy ${(acc * 100).toFixed(2)}% < 99%`);
});

test('the hard negatives named by the brief are all rejected', () => {
  const hard: [string, string][] = [['10', '0.1'], ['(1,2)', '(2,1)'], ['\\frac{1}{2004!}', '\\frac{1}{2006!}'], ['1', '-1'], ['2', '2x']];
  for (const [p, g] of hard) {
    const labelled = pairs.find((x) => x.pred === p && x.gold === g);
    assert.ok(labelled && labelled.equal === false, `labelled set holds ${p} vs ${g} as a negative`);
    assert.equal(answersEqual(p, g).equal, false, `${p} vs ${g}`);
  }
});
