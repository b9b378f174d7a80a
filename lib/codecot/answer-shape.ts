// What a program's output must look like to be a final answer of a problem, judged on the PyValue
// JSON encoding (`_enc` in lib/sandbox/child/runner.py: tagged objects such as {"$int": "..."} and {"$tuple": [...]}).
import type { PyValue } from '../schema.ts';

export interface AnswerShapeLimits {
  maxOutputChars: number;
  maxAnswerStringChars: number;
  maxAnswerElements: number;
  allowBool: boolean;
  allowDict: boolean;
}

type Json = unknown;

function tagOf(v: Json): string | null {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return null;
  const keys = Object.keys(v);
  return keys.length === 1 && keys[0].startsWith('$') ? keys[0] : null;
}

/** Decimal digits of the largest integer anywhere in a PyValue's JSON (ints, fractions, nested). */
export function maxIntDigitsIn(v: Json, depth = 0): number {
  if (depth > 40) return 0;
  if (typeof v === 'number') return Number.isInteger(v) ? String(Math.abs(v)).length : 0;
  if (Array.isArray(v)) return v.reduce<number>((m, x) => Math.max(m, maxIntDigitsIn(x, depth + 1)), 0);
  if (v === null || typeof v !== 'object') return 0;
  const o = v as Record<string, Json>;
  const tag = tagOf(v);
  if (tag === '$int_digits') return Number(o.$int_digits) || Infinity;
  if (tag === '$int') return String(o.$int).replace(/^[-+]/, '').length;
  if (tag === '$fraction' && Array.isArray(o.$fraction)) {
    return Math.max(...o.$fraction.map((s) => String(s).replace(/^[-+]/, '').length));
  }
  return Object.values(o).reduce<number>((m, x) => Math.max(m, maxIntDigitsIn(x, depth + 1)), 0);
}

/** Why `value` cannot be a problem's final answer, or null when it can. */
export function answerShapeProblem(value: PyValue, lim: AnswerShapeLimits): string | null {
  if (value.repr.length > lim.maxOutputChars) return `output repr has ${value.repr.length} chars > ${lim.maxOutputChars}`;
  const count = { elements: 0 };
  return judge(value.json, lim, count, 0);
}

function judge(v: Json, lim: AnswerShapeLimits, count: { elements: number }, depth: number): string | null {
  if (depth > 3) return 'nested more than 3 levels';
  if (v === null) return 'None';
  if (typeof v === 'boolean') return lim.allowBool ? null : 'bool';
  if (typeof v === 'number') return Number.isFinite(v) ? null : 'non-finite number';
  if (typeof v === 'string') {
    if (v.trim() === '') return 'empty string';
    if (v.length > lim.maxAnswerStringChars) return `string of ${v.length} chars > ${lim.maxAnswerStringChars}`;
    return null;
  }
  if (Array.isArray(v)) return judgeItems(v, 'list', lim, count, depth);
  if (typeof v !== 'object') return `unexpected ${typeof v}`;
  const o = v as Record<string, Json>;
  switch (tagOf(v)) {
    case '$float':
      return `float ${String(o.$float)}`;
    case '$int':
    case '$int_digits': // the huge_int rule decides on length
    case '$fraction':
    case '$decimal':
    case '$complex':
    case '$sympy':
      return null;
    case '$tuple':
      return judgeItems(o.$tuple, 'tuple', lim, count, depth);
    case '$set':
      return judgeItems(o.$set, 'set', lim, count, depth);
    case '$dict':
      if (!lim.allowDict) return 'dict';
      return judgeItems((o.$dict as Json[][] | undefined)?.map((kv) => kv[1]), 'dict', lim, count, depth);
    case '$object':
      return `object ${String(o.$object).slice(0, 60)}`;
    case '$truncated':
      return 'value too large (truncated)';
    case null: {
      if (!lim.allowDict) return 'dict';
      return judgeItems(Object.values(o), 'dict', lim, count, depth);
    }
    default:
      return `unknown tag ${tagOf(v)}`;
  }
}

function judgeItems(items: Json, kind: string, lim: AnswerShapeLimits, count: { elements: number }, depth: number): string | null {
  if (!Array.isArray(items)) return `malformed ${kind}`;
  if (items.length === 0) return `empty ${kind}`;
  count.elements += items.length;
  if (count.elements > lim.maxAnswerElements) return `${kind} with more than ${lim.maxAnswerElements} elements`;
  for (const x of items) {
    const p = judge(x, lim, count, depth + 1);
    if (p) return `${kind} element: ${p}`;
  }
  return null;
}
