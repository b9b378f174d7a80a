// Compares `{pred, gold}` JSONL lines one by one (the engine behind `caco answers`). By default
// `pred` is a whole solution and its final answer is extracted first (lib/answer/final.ts); with
// `extract: false` it is taken as an already-extracted answer. A `gold` string that is itself a
// worked solution (it holds \boxed{} or a GSM8K `####` line) is reduced to its answer too. A bad
// line gives a `bad_line` result at its place and the run goes on; the output keeps the input order.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { answersEqual, type EqualResult } from './equal.ts';
import { extractFinalAnswer, type ExtractRule } from './final.ts';
import { isPyValue } from './pyvalue.ts';

export type PairResult = EqualResult & {
  id?: string;
  line?: number;
  error?: string;
  /** The answer taken from `pred` and the rule that found it (when extracting). */
  extracted?: string | null;
  rule?: ExtractRule;
  /** The different boxed answers of an ambiguous solution. */
  candidates?: string[];
};

export type CompareOptions = {
  /** Extract the final answer from `pred` (default true). */
  extract?: boolean;
  /** Two different boxed answers: `reject` (default: reason `ambiguous`) or take the `last`. */
  ambiguous?: 'reject' | 'last';
};

const SOLUTION_GOLD = /\\boxed|\\fbox|^[ \t]*####/m;

/** Result for one JSONL line (1-based `lineNo` is reported for malformed lines). */
export function comparePairLine(line: string, lineNo: number, opts: CompareOptions = {}): PairResult {
  let rec: unknown;
  try {
    rec = JSON.parse(line);
  } catch (e) {
    return { equal: false, reason: 'bad_line', line: lineNo, error: `invalid JSON: ${(e as Error).message}` };
  }
  if (typeof rec !== 'object' || rec === null || Array.isArray(rec)) {
    return { equal: false, reason: 'bad_line', line: lineNo, error: 'expected an object {pred, gold}' };
  }
  const { pred, gold, id } = rec as { pred?: unknown; gold?: unknown; id?: unknown };
  const withId = (r: PairResult): PairResult => (typeof id === 'string' || typeof id === 'number' ? { id: String(id), ...r } : r);
  if (pred === null) return withId({ equal: false, reason: 'no_answer' });
  if (typeof pred !== 'string') return withId({ equal: false, reason: 'bad_line', line: lineNo, error: 'pred must be a string' });
  if (typeof gold !== 'string' && !isPyValue(gold)) {
    return withId({ equal: false, reason: 'bad_line', line: lineNo, error: 'gold must be a string or a PyValue {json, repr, str, type}' });
  }
  let goldAnswer = gold;
  if (typeof gold === 'string' && SOLUTION_GOLD.test(gold)) {
    const g = extractFinalAnswer(gold, { ambiguous: 'last' });
    if (g.answer !== null) goldAnswer = g.answer;
  }
  if (opts.extract === false) return withId(answersEqual(pred, goldAnswer));
  const ex = extractFinalAnswer(pred, { ambiguous: opts.ambiguous });
  if (ex.answer === null) {
    const r: PairResult = { equal: false, reason: ex.rule === 'ambiguous' ? 'ambiguous' : 'no_answer', extracted: null, rule: ex.rule };
    return withId(ex.candidates ? { ...r, candidates: ex.candidates } : r);
  }
  return withId({ ...answersEqual(ex.answer, goldAnswer), extracted: ex.answer, rule: ex.rule });
}

export type BatchCounts = { lines: number; equal: number; notEqual: number; badLines: number };

/** Streams pairs from `input` to `output` as JSONL; returns counts. Blank lines are skipped. */
export async function compareStream(input: Readable, output: Writable, opts: CompareOptions = {}): Promise<BatchCounts> {
  const counts: BatchCounts = { lines: 0, equal: 0, notEqual: 0, badLines: 0 };
  const rl = createInterface({ input, crlfDelay: Infinity });
  let lineNo = 0;
  for await (const line of rl) {
    lineNo++;
    if (line.trim() === '') continue;
    const r = comparePairLine(line, lineNo, opts);
    counts.lines++;
    if (r.reason === 'bad_line') counts.badLines++;
    else if (r.equal) counts.equal++;
    else counts.notEqual++;
    if (!output.write(JSON.stringify(r) + '\n')) await new Promise((res) => output.once('drain', res));
  }
  return counts;
}

export function compareFile(path: string, output: Writable, opts: CompareOptions = {}): Promise<BatchCounts> {
  return compareStream(createReadStream(path, { encoding: 'utf8' }), output, opts);
}
