// Reads the committed benchmark data file (once per process) and checks it was built by this code.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import {
  BENCHMARK_DATA_FILE,
  BENCHMARK_DATA_FORMAT,
  BENCHMARKS,
  type Benchmark,
  type BenchmarkProblem,
} from './benchmarks.ts';
import { NORMALIZER_VERSION } from './normalize.ts';

const KNOWN = new Set<string>(BENCHMARKS);
let cached: readonly BenchmarkProblem[] | undefined;

/** Parses the data file's text; throws a clear error on a stale or damaged file. */
export function parseBenchmarkData(text: string, source = BENCHMARK_DATA_FILE): BenchmarkProblem[] {
  const lines = text.split('\n').filter((l) => l !== '');
  const header = JSON.parse(lines[0] ?? '{}') as { format?: string; normalizer?: number; problems?: number };
  const rebuild = 'rebuild it with: npx tsx lib/decontam/build-benchmarks.ts';
  if (header.format !== BENCHMARK_DATA_FORMAT) throw new Error(`${source}: not a ${BENCHMARK_DATA_FORMAT} file; ${rebuild}`);
  if (header.normalizer !== NORMALIZER_VERSION) {
    throw new Error(`${source}: built with normalizer v${header.normalizer}, code is v${NORMALIZER_VERSION}; ${rebuild}`);
  }
  const problems = lines.slice(1).map((line, i) => {
    const p = JSON.parse(line) as BenchmarkProblem;
    if (!KNOWN.has(p.benchmark) || typeof p.id !== 'string' || typeof p.text !== 'string') {
      throw new Error(`${source}: bad problem on line ${i + 2}`);
    }
    return { benchmark: p.benchmark as Benchmark, id: p.id, text: p.text };
  });
  if (problems.length !== header.problems) {
    throw new Error(`${source}: header says ${header.problems} problems, found ${problems.length}; ${rebuild}`);
  }
  return problems;
}

/** Every benchmark test problem, normalized; read from disk on the first call only. */
export function loadBenchmarkProblems(): readonly BenchmarkProblem[] {
  cached ??= parseBenchmarkData(gunzipSync(readFileSync(BENCHMARK_DATA_FILE)).toString('utf8'));
  return cached;
}
