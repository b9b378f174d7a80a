// Decontamination: reject a sample whose problem shares an n-gram (13 words by default) with a
// benchmark test problem. The index is built lazily, once per process and config, from the
// committed data file (lib/decontam/data), never from ../shared.
import { z } from 'zod';
import { BENCHMARKS, type Benchmark } from './benchmarks.ts';
import { loadBenchmarkProblems } from './load-benchmarks.ts';
import { NgramIndex, type ContaminationMatch, type NgramIndexStats } from './ngram-index.ts';
import { tokenize } from './normalize.ts';

export { BENCHMARKS, type Benchmark, type BenchmarkProblem } from './benchmarks.ts';
export { NgramIndex, type ContaminationMatch, type NgramIndexStats, type NgramIndexOptions } from './ngram-index.ts';
export { normalizeText, tokenize, NORMALIZER_VERSION } from './normalize.ts';
export { loadBenchmarkProblems } from './load-benchmarks.ts';

export const DecontamConfigSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** Words per n-gram. */
    n: z.number().int().min(4).max(64).default(13),
    /** Benchmark problems shorter than n words but at least this long are matched whole. */
    minWords: z.number().int().min(4).max(64).default(8),
    /** Benchmarks to check against (all by default). */
    benchmarks: z.array(z.enum(BENCHMARKS)).min(1).default([...BENCHMARKS]),
  })
  .strict();
export type DecontamConfig = z.infer<typeof DecontamConfigSchema>;
export type DecontamConfigInput = z.input<typeof DecontamConfigSchema>;

export interface DecontamIndexLoad {
  index: NgramIndex;
  /** Milliseconds spent reading the data file (0 when already read) and building this index. */
  loadMs: number;
  /** Growth of heap + array buffers while loading, in bytes (rough: GC may run in between). */
  memoryBytes: number;
}

const indexes = new Map<string, DecontamIndexLoad>();

/** The index for a config, built on first use and kept for the life of the process. */
export function getDecontamIndex(config: DecontamConfigInput = {}): DecontamIndexLoad {
  const c = DecontamConfigSchema.parse(config);
  const benchmarks = [...new Set(c.benchmarks)].sort();
  const cacheKey = `${c.n}|${c.minWords}|${benchmarks.join(',')}`;
  let load = indexes.get(cacheKey);
  if (!load) {
    const mem0 = memoryInUse();
    const t0 = performance.now();
    const wanted = new Set<Benchmark>(benchmarks);
    const problems = loadBenchmarkProblems().filter((p) => wanted.has(p.benchmark));
    const index = NgramIndex.build(problems, { n: c.n, minWords: c.minWords });
    load = { index, loadMs: performance.now() - t0, memoryBytes: Math.max(0, memoryInUse() - mem0) };
    indexes.set(cacheKey, load);
  }
  return load;
}

function memoryInUse(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/**
 * The first benchmark test problem sharing an n-gram with `text`, or null (also null when the
 * config disables decontamination).
 */
export function findContamination(text: string, config: DecontamConfigInput = {}): ContaminationMatch | null {
  if (config.enabled === false) return null;
  return getDecontamIndex(config).index.findTokens(tokenize(text));
}

/** The rejection reason for a match: `contaminated:<benchmark>`. */
export function contaminationReason(match: Pick<ContaminationMatch, 'benchmark'>): `contaminated:${string}` {
  return `contaminated:${match.benchmark}`;
}

/** `contaminated:<benchmark>` when `text` shares an n-gram with a benchmark test problem, else null. */
export function checkContamination(text: string, config: DecontamConfigInput = {}): `contaminated:${string}` | null {
  const match = findContamination(text, config);
  return match ? contaminationReason(match) : null;
}
