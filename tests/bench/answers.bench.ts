// npm run bench:answers — the answer checker on labelled pairs, side by side with a port of the
// Caco paper's grader (Qwen2.5-Math's math_equal with its extraction; tests/bench/answers/
// paper-math-equal.ts) on the SAME pairs, measured in the same run.
// Corpora:
//   suite    tests/fixtures/answer-suite/suite.jsonl: whole solutions (the checker extracts)
//   holdout  tests/fixtures/answer-suite/holdout.jsonl: whole solutions written blind after the code
//   pairs    tests/fixtures/answer-pairs*.jsonl: already-extracted answers (compared as given)
// Prints per corpus: accuracy, false positives (said equal, labelled not), false negatives, pairs/s;
// per shape the errors of each grader; and examples of each grader's mistakes.
// Env: REPEAT (timing passes over the suite, default 3), SHOW (examples per grader, default 12).
import { readFileSync, existsSync } from 'node:fs';
import { comparePairLine } from '../../lib/answer/batch.ts';
import { answersEqual } from '../../lib/answer/equal.ts';
import { extractFinalAnswer } from '../../lib/answer/final.ts';
import { paperGrade, paperMathEqual, paperStrip } from './answers/paper-math-equal.ts';

const REPEAT = Number(process.env.REPEAT ?? 3);
const SHOW = Number(process.env.SHOW ?? 12);

type Row = { id?: string; shape?: string; source?: string; style?: string; pred: string; gold: string | { str: string }; equal: boolean; note?: string };

function load(rel: string): Row[] {
  const url = new URL(rel, import.meta.url);
  if (!existsSync(url)) return [];
  return readFileSync(url, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l));
}

const goldStr = (g: Row['gold']) => (typeof g === 'string' ? g : g.str);

type Grader = { name: string; grade: (r: Row) => boolean };

function ours(extract: boolean): Grader {
  return {
    name: 'caco',
    grade: (r) => (extract ? comparePairLine(JSON.stringify(r), 0).equal : answersEqual(r.pred, r.gold as never).equal),
  };
}
/** The paper's equivalence rules on the answer OUR extraction found: isolates equivalence from extraction. */
function paperOnOurExtraction(): Grader {
  return {
    name: 'paper rules, our extr.',
    grade: (r) => {
      const x = extractFinalAnswer(r.pred).answer;
      return x !== null && paperMathEqual(paperStrip(x), paperStrip(goldStr(r.gold)));
    },
  };
}
function paper(extract: boolean): Grader {
  return {
    name: 'paper math_equal',
    grade: (r) => (extract ? paperGrade(r.pred, goldStr(r.gold)) : paperMathEqual(paperStrip(r.pred), paperStrip(goldStr(r.gold)))),
  };
}

type Score = { n: number; acc: number; fp: Row[]; fn: Row[]; perSec: number };

function score(rows: Row[], g: Grader, repeat: number): Score {
  const fp: Row[] = [];
  const fn: Row[] = [];
  for (const r of rows) {
    const v = g.grade(r);
    if (v && !r.equal) fp.push(r);
    if (!v && r.equal) fn.push(r);
  }
  const t0 = performance.now();
  for (let k = 0; k < repeat; k++) for (const r of rows) g.grade(r);
  const secs = (performance.now() - t0) / 1000;
  return { n: rows.length, acc: 1 - (fp.length + fn.length) / rows.length, fp, fn, perSec: (rows.length * repeat) / secs };
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const short = (s: string, n = 70) => {
  const t = s.replace(/\s+/g, ' ');
  return t.length <= n ? t : '…' + t.slice(-n);
};

function corpus(title: string, rows: Row[], extract: boolean, byShape: boolean): void {
  if (rows.length === 0) return;
  const eqn = rows.filter((r) => r.equal).length;
  console.log(`\n=== ${title}: ${rows.length} pairs (${eqn} equal, ${rows.length - eqn} not) ===`);
  const graders = extract ? [ours(true), paper(true), paperOnOurExtraction()] : [ours(false), paper(false)];
  // warm both (the compute engine's first call builds its libraries)
  for (const g of graders) for (const r of rows.slice(0, 20)) g.grade(r);
  const scores = graders.map((g) => score(rows, g, title === 'suite' ? REPEAT : 1));
  console.log(`${'grader'.padEnd(22)} ${'accuracy'.padStart(9)} ${'FP'.padStart(5)} ${'FN'.padStart(5)} ${'pairs/s'.padStart(9)}`);
  graders.forEach((g, i) => {
    const s = scores[i];
    console.log(`${g.name.padEnd(22)} ${pct(s.acc).padStart(9)} ${String(s.fp.length).padStart(5)} ${String(s.fn.length).padStart(5)} ${s.perSec.toFixed(0).padStart(9)}`);
  });
  console.log(`speed ratio caco / paper port: ${(scores[0].perSec / scores[1].perSec).toFixed(2)}x (same run)`);
  if (byShape) {
    const shapes = [...new Set(rows.map((r) => r.shape ?? r.source ?? '?'))];
    console.log(`\n${'shape'.padEnd(16)} ${'pairs'.padStart(5)}  ${graders.map((g) => g.name.slice(0, 12).padStart(12)).join(' ')}   (FP/FN)`);
    for (const sh of shapes) {
      const inShape = (x: Row) => (x.shape ?? x.source ?? '?') === sh;
      const c = (s: Score) => `${s.fp.filter(inShape).length}/${s.fn.filter(inShape).length}`.padStart(12);
      console.log(`${sh.padEnd(16)} ${String(rows.filter(inShape).length).padStart(5)}  ${scores.map(c).join(' ')}`);
    }
    const amb = rows.filter((r) => r.style === 'two_different_boxes');
    if (amb.length) {
      const paperSaysEqual = amb.filter((r) => paper(extract).grade(r)).length;
      console.log(`\nsolutions with two different boxed answers: ${amb.length} (labelled not equal by design); the paper's port accepts ${paperSaysEqual} of them (it takes the last box)`);
      const s1 = scores[1];
      const fpNoAmb = s1.fp.filter((r) => r.style !== 'two_different_boxes').length;
      console.log(`paper port without those: FP ${fpNoAmb}, FN ${s1.fn.length}, accuracy ${pct(1 - (fpNoAmb + s1.fn.length) / (rows.length - amb.length))} on ${rows.length - amb.length} pairs`);
    }
  }
  graders.forEach((g, i) => {
    const s = scores[i];
    const bad = [...s.fp.map((r) => ['FP', r] as const), ...s.fn.map((r) => ['FN', r] as const)];
    if (bad.length === 0) return;
    console.log(`\n${g.name}: ${bad.length} wrong${bad.length > SHOW ? ` (first ${SHOW})` : ''}`);
    for (const [kind, r] of bad.slice(0, SHOW)) {
      console.log(`  ${kind} [${r.shape ?? r.source}${r.style ? '/' + r.style : ''}] pred ${JSON.stringify(short(r.pred))}  gold ${JSON.stringify(short(goldStr(r.gold), 40))}${r.note ? `  (${r.note})` : ''}`);
    }
  });
}

corpus('suite', load('../fixtures/answer-suite/suite.jsonl'), true, true);
corpus('holdout (written blind after the code)', load('../fixtures/answer-suite/holdout.jsonl'), true, true);
corpus('answer-pairs (already-extracted answers)', [...load('../fixtures/answer-pairs.jsonl'), ...load('../fixtures/answer-pairs-holdout.jsonl')], false, true);
