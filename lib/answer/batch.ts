// Compares `{pred, gold}` JSONL lines one by one (the engine behind `caco answers`). A bad line
// gives a `bad_line` result at its place and the run goes on; the output keeps the input order.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { answersEqual, type EqualResult } from './equal.ts';
import { isPyValue } from './pyvalue.ts';

export type PairResult = EqualResult & { id?: string; line?: number; error?: string };

/** Result for one JSONL line (1-based `lineNo` is reported for malformed lines). */
export function comparePairLine(line: string, lineNo: number): PairResult {
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
  return withId(answersEqual(pred, gold));
}

export type BatchCounts = { lines: number; equal: number; notEqual: number; badLines: number };

/** Streams pairs from `input` to `output` as JSONL; returns counts. Blank lines are skipped. */
export async function compareStream(input: Readable, output: Writable): Promise<BatchCounts> {
  const counts: BatchCounts = { lines: 0, equal: 0, notEqual: 0, badLines: 0 };
  const rl = createInterface({ input, crlfDelay: Infinity });
  let lineNo = 0;
  for await (const line of rl) {
    lineNo++;
    if (line.trim() === '') continue;
    const r = comparePairLine(line, lineNo);
    counts.lines++;
    if (r.reason === 'bad_line') counts.badLines++;
    else if (r.equal) counts.equal++;
    else counts.notEqual++;
    if (!output.write(JSON.stringify(r) + '\n')) await new Promise((res) => output.once('drain', res));
  }
  return counts;
}

export function compareFile(path: string, output: Writable): Promise<BatchCounts> {
  return compareStream(createReadStream(path, { encoding: 'utf8' }), output);
}
