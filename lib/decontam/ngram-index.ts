// An n-gram index over normalized benchmark problems: "does this text share an n-gram with a test
// problem, and which one?". Kept compact: one sorted Float64Array of keys, each key packing a
// hash of the n-gram (high bits) with the problem's index (low bits) into an exact double (< 2^53).
// A hash hit is always confirmed against the problem's stored text, so hash collisions never
// produce a false match; they only cost a string comparison.
import type { BenchmarkProblem } from './benchmarks.ts';
import { hash53 } from '../util/random.ts';

export { hash53 };

export interface ContaminationMatch {
  benchmark: string;
  id: string;
  /** The shared normalized n-gram (or the whole normalized problem, for a short problem). */
  ngram: string;
}

export interface NgramIndexOptions {
  /** Words per n-gram (13 by default in DecontamConfigSchema). */
  n: number;
  /**
   * A problem with fewer than `n` words but at least `minWords` is indexed whole: text matches it
   * when it contains the entire normalized problem as consecutive words. Shorter problems are not
   * indexed (a 5-word "simplify 10 4 n 5" would match unrelated text by chance).
   */
  minWords: number;
}

export interface NgramIndexStats {
  problems: number;
  /** Problems with at least n words, indexed by their n-grams. */
  ngramProblems: number;
  /** Problems with minWords..n-1 words, indexed whole. */
  wholeProblems: number;
  /** Problems too short to index. */
  skippedProblems: number;
  /** Distinct (n-gram, problem) entries in the index. */
  entries: number;
  /** Bytes held by the key array. */
  keyBytes: number;
}

export class NgramIndex {
  readonly n: number;
  readonly minWords: number;
  readonly stats: NgramIndexStats;
  private readonly problems: readonly BenchmarkProblem[];
  private readonly keys: Float64Array;
  private readonly docScale: number; // 2^docBits: keys are hash * docScale + problem index
  private readonly hashScale: number; // 2^(53 - docBits): hashes are reduced modulo this
  private readonly windowLengths: number[]; // n first, then the lengths of whole-indexed problems

  private constructor(problems: readonly BenchmarkProblem[], opts: NgramIndexOptions) {
    if (!Number.isInteger(opts.n) || opts.n < 1) throw new Error(`n must be a positive integer, got ${opts.n}`);
    if (!Number.isInteger(opts.minWords) || opts.minWords < 1) {
      throw new Error(`minWords must be a positive integer, got ${opts.minWords}`);
    }
    this.n = opts.n;
    this.minWords = opts.minWords;
    this.problems = problems;
    const docBits = Math.max(1, Math.ceil(Math.log2(problems.length + 1)));
    if (docBits > 30) throw new Error(`too many problems to index: ${problems.length}`);
    this.docScale = 2 ** docBits;
    this.hashScale = 2 ** (53 - docBits);

    const tokenLists = problems.map((p) => (p.text === '' ? [] : p.text.split(' ')));
    let total = 0;
    const shortLengths = new Set<number>();
    let ngramProblems = 0;
    let wholeProblems = 0;
    for (const t of tokenLists) {
      if (t.length >= this.n) {
        total += t.length - this.n + 1;
        ngramProblems++;
      } else if (t.length >= this.minWords) {
        total += 1;
        wholeProblems++;
        shortLengths.add(t.length);
      }
    }
    const keys = new Float64Array(total);
    let k = 0;
    tokenLists.forEach((t, doc) => {
      if (t.length >= this.n) {
        for (let i = 0; i + this.n <= t.length; i++) keys[k++] = this.key(t.slice(i, i + this.n).join(' '), doc);
      } else if (t.length >= this.minWords) {
        keys[k++] = this.key(problems[doc].text, doc);
      }
    });
    keys.sort();
    // Drop repeats of the same n-gram inside one problem (equal keys are adjacent after sorting).
    let w = 0;
    for (let r = 0; r < keys.length; r++) if (r === 0 || keys[r] !== keys[w - 1]) keys[w++] = keys[r];
    this.keys = keys.slice(0, w);
    this.windowLengths = [this.n, ...[...shortLengths].sort((a, b) => b - a)];
    this.stats = {
      problems: problems.length,
      ngramProblems,
      wholeProblems,
      skippedProblems: problems.length - ngramProblems - wholeProblems,
      entries: w,
      keyBytes: this.keys.byteLength,
    };
  }

  static build(problems: readonly BenchmarkProblem[], opts: NgramIndexOptions): NgramIndex {
    return new NgramIndex(problems, opts);
  }

  private hashOf(gram: string): number {
    return hash53(gram) % this.hashScale;
  }

  private key(gram: string, doc: number): number {
    return this.hashOf(gram) * this.docScale + doc;
  }

  /** First index position whose key is >= target. */
  private lowerBound(target: number): number {
    let lo = 0;
    let hi = this.keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.keys[mid] < target) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The first benchmark problem sharing an n-gram with already-tokenized text, or null. */
  findTokens(tokens: readonly string[]): ContaminationMatch | null {
    for (const len of this.windowLengths) {
      for (let i = 0; i + len <= tokens.length; i++) {
        const gram = tokens.slice(i, i + len).join(' ');
        const base = this.hashOf(gram) * this.docScale;
        for (let p = this.lowerBound(base); p < this.keys.length && this.keys[p] < base + this.docScale; p++) {
          const problem = this.problems[this.keys[p] - base];
          if (this.confirms(problem.text, gram, len)) return { benchmark: problem.benchmark, id: problem.id, ngram: gram };
        }
      }
    }
    return null;
  }

  // Rules out hash collisions: an n-gram must really occur in the problem; a shorter window
  // must be the whole (short) problem.
  private confirms(problemText: string, gram: string, len: number): boolean {
    if (len < this.n) return problemText === gram;
    return ` ${problemText} `.includes(` ${gram} `);
  }
}
