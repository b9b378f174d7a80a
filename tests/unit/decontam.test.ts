import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  BENCHMARKS,
  checkContamination,
  contaminationReason,
  DecontamConfigSchema,
  findContamination,
  getDecontamIndex,
  loadBenchmarkProblems,
  NgramIndex,
  normalizeText,
  tokenize,
  type BenchmarkProblem,
} from '../../lib/decontam/index.ts';
import { parseBenchmarkData } from '../../lib/decontam/load-benchmarks.ts';

// GSM8K test #0 and MATH-500 test #0, verbatim from the public test sets.
const GSM8K_TEST_0 =
  "Janet\u2019s ducks lay 16 eggs per day. She eats three for breakfast every morning and bakes muffins for her friends every day with four. She sells the remainder at the farmers' market daily for $2 per fresh duck egg. How much in dollars does she make every day at the farmers' market?";
const MATH500_TEST_0 =
  'Convert the point $(0,3)$ in rectangular coordinates to polar coordinates.  Enter your answer in the form $(r,\\theta),$ where $r > 0$ and $0 \\le \\theta < 2 \\pi.$';

test('the committed benchmark data loads, covers every benchmark, and the index is built once', (t) => {
  const load = getDecontamIndex();
  const problems = loadBenchmarkProblems();
  t.diagnostic(
    `index load ${load.loadMs.toFixed(0)} ms, +${(load.memoryBytes / 2 ** 20).toFixed(1)} MiB, ` +
      `${load.index.stats.entries} n-gram entries (${(load.index.stats.keyBytes / 2 ** 20).toFixed(1)} MiB of keys), ` +
      `${load.index.stats.wholeProblems} short problems matched whole, ${load.index.stats.skippedProblems} too short`,
  );
  assert.deepEqual([...new Set(problems.map((p) => p.benchmark))].sort(), [...BENCHMARKS].sort());
  assert.equal(problems.filter((p) => p.benchmark === 'gsm8k').length, 1319);
  assert.equal(problems.filter((p) => p.benchmark === 'math500').length, 500);
  assert.equal(problems.find((p) => p.benchmark === 'gsm8k' && p.id === '0')?.text, normalizeText(GSM8K_TEST_0));
  assert.equal(getDecontamIndex({}), load, 'same config: same cached index');
  assert.equal(getDecontamIndex({ n: 13, minWords: 8, benchmarks: [...BENCHMARKS].reverse() }), load);
});

test('normalization: NFKC, case, apostrophes, LaTeX commands, punctuation, thousands separators', () => {
  assert.deepEqual(tokenize('Janet\u2019s DUCKS lay １６ eggs.'), ['janet', 's', 'ducks', 'lay', '16', 'eggs']);
  assert.equal(normalizeText("Janet's ducks"), normalizeText('JANET\u2019S  ducks!'));
  assert.equal(normalizeText('$\\frac{9}{s} + t = 4$ and \\text{apples}'), '9 s t 4 and apples');
  assert.equal(normalizeText('It costs $1,250,000.50 or 2.5 each, (1,2).'), 'it costs 1250000.50 or 2.5 each 1 2');
  assert.equal(normalizeText('e\uFB01ne'), 'efine', 'the fi ligature unfolds under NFKC');
  assert.equal(normalizeText('?!... $$'), '');
});

test('catches a lightly reworded GSM8K test problem (numbers kept, words, casing, punctuation changed)', () => {
  const reworded =
    "JANET's ducks produce 16 eggs per day; she eats three for breakfast every morning and bakes muffins for her friends every day with four!! She sells the rest at the farmers market daily for $2 per fresh duck egg. How many dollars does she earn each day at the farmers\u2019 market?";
  const m = findContamination(reworded);
  assert.ok(m, 'reworded problem must be flagged');
  assert.equal(m.benchmark, 'gsm8k');
  assert.equal(m.id, '0');
  assert.equal(m.ngram.split(' ').length, 13);
  assert.ok(normalizeText(GSM8K_TEST_0).includes(m.ngram));
  assert.equal(checkContamination(reworded), 'contaminated:gsm8k');
});

test('catches nearly every GSM8K test problem after one word swap plus casing and punctuation noise', (t) => {
  let seed = 12345;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const gsm = loadBenchmarkProblems().filter((p) => p.benchmark === 'gsm8k');
  let caught = 0;
  for (const p of gsm) {
    const words = p.text.split(' ');
    const wordPositions = words.flatMap((w, i) => (/\d/.test(w) ? [] : [i]));
    words[wordPositions[Math.floor(rand() * wordPositions.length)]] = 'zebra';
    const noisy = words.map((w, i) => (i % 3 === 0 ? w.toUpperCase() : w) + (i % 5 === 4 ? ',' : '')).join('  ') + '?!';
    if (findContamination(noisy, { benchmarks: ['gsm8k'] })?.id === p.id) caught++;
  }
  t.diagnostic(`caught ${caught}/${gsm.length} (${((100 * caught) / gsm.length).toFixed(1)}%)`);
  // Misses are problems too short for a 13-word run to survive one swap in the middle.
  assert.ok(caught / gsm.length >= 0.97, `caught only ${caught}/${gsm.length}`);
});

test('catches a MATH-500 problem embedded in a longer text', () => {
  const text = `Here is a warm-up question from my homework.\n\n${MATH500_TEST_0}\n\nShow all your steps and put the final answer in \\boxed{}.`;
  const m = findContamination(text);
  assert.deepEqual(m && { benchmark: m.benchmark, id: m.id }, { benchmark: 'math500', id: '0' });
  assert.equal(checkContamination(text), 'contaminated:math500');
});

test('does not flag unrelated text', () => {
  const fresh =
    'A gardener plants 17 rows of tulips with 23 bulbs in each row, then gives away 41 bulbs to a neighbour. How many bulbs remain planted if 9 bulbs fail to sprout?';
  assert.equal(findContamination(fresh), null);
  assert.equal(checkContamination(''), null);
});

// Reviewed by hand: these first-1000 GSM8K train problems reuse a test problem's template
// (same sentences, other names and numbers), so they are real 13-gram overlaps, not false alarms.
const REVIEWED_TRAIN_OVERLAPS: Record<string, string> = {
  'gsm8k-train-0021': 'gsm8k:632', // Bella/Max stamps (snowflake, truck, rose designs)
  'gsm8k-train-0204': 'asdiv:1366', // soft drinks and candy bars, "spent a total of 28 dollars"
  'gsm8k-train-0407': 'gsm8k:581', // "the first movie is 1 hour and 30 minutes long while the second"
};

test('GSM8K train sample: flagged rate is tiny and every flag is a reviewed template overlap', (t) => {
  const sample = readFileSync(new URL('../../examples/seeds/gsm8k-train-1000.jsonl', import.meta.url), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { id: string; question: string });
  assert.equal(sample.length, 1000);
  const flagged: Record<string, string> = {};
  for (const s of sample) {
    const m = findContamination(s.question);
    if (m) {
      flagged[s.id] = `${m.benchmark}:${m.id}`;
      t.diagnostic(`${s.id} -> ${m.benchmark}:${m.id} "${m.ngram}"`);
    }
  }
  const n = Object.keys(flagged).length;
  t.diagnostic(`flagged ${n}/${sample.length} (${((100 * n) / sample.length).toFixed(2)}%)`);
  assert.ok(n <= 10, `flagged ${n} of 1000 (more than 1%)`);
  for (const [id, hit] of Object.entries(flagged)) {
    assert.equal(REVIEWED_TRAIN_OVERLAPS[id], hit, `${id} flagged as ${hit}: not a reviewed overlap`);
  }
  // The known overlaps must stay caught: they are genuine shared 13-grams.
  assert.deepEqual(flagged, REVIEWED_TRAIN_OVERLAPS);
});

test('short problems: matched whole from minWords words up, ignored below', () => {
  const problems: BenchmarkProblem[] = [
    { benchmark: 'deepmind_mathematics', id: '0', text: normalizeText('What is 451 to the power of 1/10?') },
    { benchmark: 'college_math', id: '1', text: normalizeText('Simplify: $-10-4(n-5)$') },
    { benchmark: 'gsm8k', id: '2', text: normalizeText(GSM8K_TEST_0) },
  ];
  const index = NgramIndex.build(problems, { n: 13, minWords: 8 });
  assert.deepEqual(index.stats, {
    problems: 3, ngramProblems: 1, wholeProblems: 1, skippedProblems: 1, entries: 41 + 1, keyBytes: 42 * 8,
  });
  const hit = index.findTokens(tokenize('Quick one: WHAT is 451 to the power of 1/10? Thanks.'));
  assert.deepEqual(hit, { benchmark: 'deepmind_mathematics', id: '0', ngram: 'what is 451 to the power of 1 10' });
  assert.equal(index.findTokens(tokenize('what is 451 to the power of 1')), null, 'part of a short problem is not enough');
  assert.equal(index.findTokens(tokenize('Simplify: $-10-4(n-5)$')), null, 'under minWords: not indexed');
  // The 53-word problem gives 41 13-grams; 12 consecutive words of it are not a match at n = 13.
  assert.equal(index.findTokens(normalizeText(GSM8K_TEST_0).split(' ').slice(3, 15)), null);
  assert.equal(index.findTokens(normalizeText(GSM8K_TEST_0).split(' ').slice(3, 16))?.id, '2');
});

test('config: disabled, benchmark subset, smaller n, and bad values rejected', () => {
  const reworded = `Quiz: ${GSM8K_TEST_0.replace('remainder', 'rest')}`;
  assert.equal(findContamination(reworded, { enabled: false }), null);
  assert.equal(findContamination(reworded, { benchmarks: ['math500', 'aime24'] }), null);
  assert.equal(findContamination(reworded, { n: 20, benchmarks: ['gsm8k'] })?.ngram.split(' ').length, 20);
  assert.deepEqual(DecontamConfigSchema.parse({}), { enabled: true, n: 13, minWords: 8, benchmarks: [...BENCHMARKS] });
  assert.throws(() => DecontamConfigSchema.parse({ benchmarks: ['gsm9k'] }));
  assert.throws(() => DecontamConfigSchema.parse({ n: 2 }));
  assert.throws(() => DecontamConfigSchema.parse({ ngram: 13 }), 'unknown keys are errors, not silently ignored');
  assert.equal(contaminationReason({ benchmark: 'aime24' }), 'contaminated:aime24');
});

test('a stale or damaged data file is refused with the rebuild command', () => {
  const header = (h: object) => JSON.stringify(h);
  const good = header({ format: 'caco-decontam-benchmarks/1', normalizer: 1, problems: 1 });
  const row = JSON.stringify({ benchmark: 'gsm8k', id: '0', text: 'a b c' });
  assert.equal(parseBenchmarkData(`${good}\n${row}\n`).length, 1);
  assert.throws(() => parseBenchmarkData(`${header({ format: 'caco-decontam-benchmarks/1', normalizer: 0, problems: 1 })}\n${row}`), /normalizer v0.*build-benchmarks/);
  assert.throws(() => parseBenchmarkData(`${good}\n`), /header says 1 problems, found 0/);
  assert.throws(() => parseBenchmarkData(`${good}\n${JSON.stringify({ benchmark: 'nope', id: '0', text: '' })}`), /bad problem on line 2/);
});

// The committed data file must be what build-benchmarks.ts makes from the shared test sets today
// (a normalizer change without a rebuild fails here). Skipped where ../shared is not mounted.
const SHARED_BENCHMARKS = new URL('../../../shared/data/benchmarks', import.meta.url);
test('the committed data file matches a fresh build from the benchmark test sets', { skip: !existsSync(SHARED_BENCHMARKS) && 'no ../shared/data/benchmarks here' }, async () => {
  const { readBenchmarkProblems } = await import('../../lib/decontam/build-benchmarks.ts');
  assert.deepEqual(readBenchmarkProblems(fileURLToPath(SHARED_BENCHMARKS)), loadBenchmarkProblems());
});
