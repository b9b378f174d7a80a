// Build script (run by hand, re-runnable): reads every benchmark test set in ../shared/data/benchmarks
// and writes lib/decontam/data/benchmarks.jsonl.gz, the only benchmark data the product reads.
//   npx tsx lib/decontam/build-benchmarks.ts [sourceDir]
// Each file's question field is mapped explicitly below (the sets disagree on field names).
// Multiple-choice options stored in a separate field (mmlu_stem `choices`, sat_math `options`) are
// not part of the question and are left out; they would only add n-grams shared by unrelated items.
import { readFileSync, writeFileSync, mkdirSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { BENCHMARK_DATA_FILE, BENCHMARK_DATA_FORMAT, type Benchmark, type BenchmarkProblem } from './benchmarks.ts';
import { normalizeText, NORMALIZER_VERSION } from './normalize.ts';

type Row = Record<string, unknown>;
interface Source {
  benchmark: Benchmark;
  file: string;
  question: (row: Row) => unknown;
}

const field = (name: string) => (row: Row) => row[name];
// body + question sets: the problem is the story followed by the question sentence.
const bodyAndQuestion = (body: string, question: string) => (row: Row) => {
  const b = row[body];
  const q = row[question];
  return typeof b === 'string' && typeof q === 'string' ? `${b} ${q}` : undefined;
};

export const SOURCES: readonly Source[] = [
  { benchmark: 'gsm8k', file: 'gsm8k-test.jsonl', question: field('question') },
  { benchmark: 'math500', file: 'math500-test.jsonl', question: field('question') },
  { benchmark: 'svamp', file: 'svamp-test.jsonl', question: bodyAndQuestion('Body', 'Question') },
  { benchmark: 'asdiv', file: 'asdiv-test.jsonl', question: bodyAndQuestion('body', 'question') },
  { benchmark: 'mawps', file: 'mawps-test.jsonl', question: field('input') },
  { benchmark: 'aime24', file: 'aime24-test.jsonl', question: field('problem') },
  { benchmark: 'amc23', file: 'amc23-test.jsonl', question: field('problem') },
  { benchmark: 'minerva_math', file: 'minerva_math-test.jsonl', question: field('problem') },
  { benchmark: 'college_math', file: 'college_math-test.jsonl', question: field('question') },
  { benchmark: 'olympiadbench', file: 'olympiadbench-test.jsonl', question: field('question') },
  { benchmark: 'gaokao2023en', file: 'gaokao2023en-test.jsonl', question: field('question') },
  { benchmark: 'mmlu_stem', file: 'mmlu_stem-test.jsonl', question: field('question') },
  { benchmark: 'sat_math', file: 'sat_math-test.jsonl', question: field('question') },
  { benchmark: 'theoremqa', file: 'theoremqa-test.json', question: field('Question') },
  { benchmark: 'deepmind_mathematics', file: 'deepmind-mathematics-test.json', question: field('question') },
];

function readRows(path: string): Row[] {
  const raw = readFileSync(path, 'utf8');
  if (path.endsWith('.json')) {
    const parsed: unknown = JSON.parse(raw);
    if (!Array.isArray(parsed)) throw new Error(`${path}: expected a JSON array`);
    return parsed as Row[];
  }
  return raw
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, i) => {
      try {
        return JSON.parse(line) as Row;
      } catch (e) {
        throw new Error(`${path}:${i + 1}: bad JSON (${(e as Error).message})`);
      }
    });
}

/** Reads every source file; throws naming the file and row when a question field is missing. */
export function readBenchmarkProblems(sourceDir: string): BenchmarkProblem[] {
  const out: BenchmarkProblem[] = [];
  for (const src of SOURCES) {
    const rows = readRows(join(sourceDir, src.file));
    rows.forEach((row, i) => {
      const q = src.question(row);
      if (typeof q !== 'string' || q.trim() === '') {
        throw new Error(`${src.file} row ${i}: no question text for ${src.benchmark}`);
      }
      out.push({ benchmark: src.benchmark, id: String(i), text: normalizeText(q) });
    });
  }
  return out;
}

function main(): void {
  const here = dirname(fileURLToPath(import.meta.url));
  const sourceDir = process.argv[2] ?? join(here, '../../../shared/data/benchmarks');
  const problems = readBenchmarkProblems(sourceDir);
  const header = { format: BENCHMARK_DATA_FORMAT, normalizer: NORMALIZER_VERSION, problems: problems.length };
  const lines = [JSON.stringify(header), ...problems.map((p) => JSON.stringify(p))];
  mkdirSync(dirname(BENCHMARK_DATA_FILE), { recursive: true });
  // mtime 0 in the gzip header so a rebuild from the same inputs gives the same bytes.
  writeFileSync(BENCHMARK_DATA_FILE, gzipSync(lines.join('\n') + '\n', { level: 9 }));
  const counts = new Map<string, number>();
  for (const p of problems) counts.set(p.benchmark, (counts.get(p.benchmark) ?? 0) + 1);
  console.log([...counts].map(([b, n]) => `${b}: ${n}`).join('\n'));
  console.log(`wrote ${problems.length} problems to ${BENCHMARK_DATA_FILE} (${statSync(BENCHMARK_DATA_FILE).size} bytes)`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
