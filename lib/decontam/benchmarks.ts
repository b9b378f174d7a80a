// The benchmark test sets the decontaminator knows, and where the committed data file lives.
import { fileURLToPath } from 'node:url';

/** Benchmark names as they appear in `contaminated:<benchmark>` reasons. */
export const BENCHMARKS = [
  'gsm8k',
  'math500',
  'svamp',
  'asdiv',
  'mawps',
  'aime24',
  'amc23',
  'minerva_math',
  'college_math',
  'olympiadbench',
  'gaokao2023en',
  'mmlu_stem',
  'sat_math',
  'theoremqa',
  'deepmind_mathematics',
] as const;
export type Benchmark = (typeof BENCHMARKS)[number];

/** One benchmark test problem: `id` is its 0-based row index in the source file, `text` is normalized. */
export interface BenchmarkProblem {
  benchmark: Benchmark;
  id: string;
  text: string;
}

/** The committed, gzipped JSONL written by build-benchmarks.ts (a header line, then one problem per line). */
export const BENCHMARK_DATA_FILE = fileURLToPath(new URL('./data/benchmarks.jsonl.gz', import.meta.url));
export const BENCHMARK_DATA_FORMAT = 'caco-decontam-benchmarks/1';
