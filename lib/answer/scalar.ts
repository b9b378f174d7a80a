// Turns one scalar part of an answer into a value: a number (exact or approximate, maybe marked
// as a percentage), a symbolic expression with free variables, an equation, a boolean, or text.
// Plain numbers and simple fractions take a fast path that never touches the compute engine.
import { balanced, casValue, type CasValue } from './cas.ts';
import { canonicalText, cleanScalar } from './normalize.ts';
import { exact, parsePlainNumber, type Num } from './number.ts';
import { looksPythonic, parsePythonExpr, type MathJson } from './pyexpr.ts';
import { splitTopLevel } from './structure.ts';

export type Scalar =
  | { k: 'num'; num: Num; percent?: boolean; degree?: boolean; label?: string }
  | { k: 'expr'; json: MathJson; vars: string[]; percent?: boolean; label?: string }
  | { k: 'eq'; lhs: MathJson; rhs: MathJson; vars: string[] }
  | { k: 'bool'; b: boolean }
  | { k: 'text'; t: string }
  | { k: 'bad'; why: string; t: string };

const FRACTION = /^([+-])?(\d{1,4000})\s*\/\s*(\d{1,4000})$/;
const LATEX_FRACTION = /^([+-])?\\frac\{([+-]?\d{1,4000})\}\{([+-]?\d{1,4000})\}$/;
const MIXED = /^([+-])?(\d{1,100})\s*\\frac\{(\d{1,100})\}\{(\d{1,100})\}$/;
// "2 1/2" (a space, then a proper fraction): a mixed number as typed in plain text
const MIXED_TEXT = /^([+-])?(\d{1,100})\s+(\d{1,100})\s*\/\s*(\d{1,100})$/;

/** Fast path: plain decimals, a/b, \frac{a}{b}, mixed numbers. Null when not one of those. */
export function fastNumber(t: string): Num | null {
  const plain = parsePlainNumber(t);
  if (plain) return { re: plain, im: null };
  let m = FRACTION.exec(t) ?? LATEX_FRACTION.exec(t);
  if (m) {
    const d = BigInt(m[3]);
    if (d === 0n) return null;
    const n = BigInt(m[2]) * (m[1] === '-' ? -1n : 1n);
    return { re: exact(n, d), im: null };
  }
  m = MIXED.exec(t) ?? MIXED_TEXT.exec(t);
  if (m) {
    const d = BigInt(m[4]);
    if (d === 0n) return null;
    const n = BigInt(m[2]) * d + BigInt(m[3]);
    return { re: exact(m[1] === '-' ? -n : n, d), im: null };
  }
  return null;
}

function fromCas(v: CasValue, t: string, percent: boolean, degree: boolean): Scalar {
  if (v.k === 'num') return { k: 'num', num: v.num, percent, degree };
  if (v.k === 'expr') return { k: 'expr', json: v.json, vars: v.vars, percent };
  return { k: 'bad', why: v.why, t };
}

function isTextLike(t: string): boolean {
  // words, a multiple-choice letter "(C)", base-n numerals "52_8" and the like
  // (a run of 3+ letters, so `p-q` or `xy` stay algebra)
  const words = /^[A-Za-z]+(?:(?:\s+|'|-)[A-Za-z]+)*$/.test(t) && /[A-Za-z]{3}/.test(t);
  return words || /^\(?[A-Ea-e]\)?$/.test(t) || /^\w+_\{?\w+\}?$/.test(t);
}

function exprOf(t: string): CasValue {
  if (looksPythonic(t)) {
    const j = parsePythonExpr(t);
    if (j !== null) {
      const v = casValue({ json: j });
      if (v.k !== 'bad') return v;
    }
  }
  return casValue({ latex: t });
}

/** Resolves one scalar answer part. `python` marks text that came from a Python value. */
export function resolveScalar(raw: string): Scalar {
  const c = cleanScalar(raw);
  const s = resolveCleaned(c.text, c.percent, c.degree);
  return c.label && (s.k === 'num' || s.k === 'expr') ? { ...s, label: c.label } : s;
}

const SMALL_WORDS = 'zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen'.split(' ');
const TENS = 'twenty thirty forty fifty sixty seventy eighty ninety'.split(' ');

/** "twelve", "forty-two", "one hundred": a whole number written in words (up to 999), or null. */
export function wordNumber(t: string): bigint | null {
  const words = t.toLowerCase().replace(/-/g, ' ').split(/\s+/).filter((w) => w !== 'and');
  if (words.length === 0 || words.length > 5) return null;
  let total = 0;
  let cur = 0;
  let seen = false;
  for (const w of words) {
    const small = SMALL_WORDS.indexOf(w);
    const ten = TENS.indexOf(w);
    if (small >= 0) cur += small;
    else if (ten >= 0) cur += 20 + 10 * ten;
    else if (w === 'hundred' && cur > 0 && cur < 10) cur *= 100;
    else return null;
    seen = true;
  }
  total += cur;
  return seen ? BigInt(total) : null;
}

/** `37_8`, `11001_2`, `1A_{16}`: a numeral in base 2..36, or null. */
function baseNumeral(t: string): bigint | null {
  const m = /^([0-9][0-9A-Za-z]{0,39})_\{?(\d{1,2})\}?$/.exec(t);
  if (!m) return null;
  const base = Number(m[2]);
  if (base < 2 || base > 36) return null;
  let v = 0n;
  for (const ch of m[1].toLowerCase()) {
    const d = parseInt(ch, 36);
    if (Number.isNaN(d) || d >= base) return null;
    v = v * BigInt(base) + BigInt(d);
  }
  return v;
}

function resolveCleaned(t: string, percent: boolean, degree: boolean): Scalar {
  const based = baseNumeral(t) ?? wordNumber(t);
  if (based !== null) return { k: 'num', num: { re: exact(based), im: null }, percent, degree };
  if (/^(true|false|yes|no)$/i.test(t)) return { k: 'bool', b: /^(true|yes)$/i.test(t) };
  const fast = fastNumber(t);
  if (fast) return { k: 'num', num: fast, percent, degree };
  if (t === '') return { k: 'bad', why: 'empty', t };
  if (isTextLike(t) && !/^[a-zA-Z]$/.test(t) && !/^(pi|e|i|oo|inf|infinity|nan)$/i.test(t)) {
    return { k: 'text', t: canonicalText(t) };
  }
  const eq = splitTopLevel(t, '=');
  if (eq.length === 2 && eq[0] && eq[1]) {
    const l = exprOf(eq[0]);
    const r = exprOf(eq[1]);
    const j = (v: CasValue): MathJson | null => (v.k === 'expr' ? v.json : v.k === 'num' ? numJson(v.num) : null);
    const lj = j(l);
    const rj = j(r);
    if (lj !== null && rj !== null) {
      const vars = [...new Set([...(l.k === 'expr' ? l.vars : []), ...(r.k === 'expr' ? r.vars : [])])];
      return { k: 'eq', lhs: lj, rhs: rj, vars };
    }
    return { k: 'bad', why: 'unparseable', t };
  }
  const v = exprOf(t);
  const s = fromCas(v, t, percent, degree);
  if (s.k === 'bad' && /^[\w\s()'\-]+$/.test(t) && balanced(t)) return { k: 'text', t: canonicalText(t) };
  return s;
}

/** A number back to MathJSON (for building equation sides). */
export function numJson(n: Num): MathJson {
  const r = (x: Num['re']): MathJson =>
    x.kind === 'exact' ? ['Rational', bigJson(x.n), bigJson(x.d)] : x.e === 0 ? x.x : ['Multiply', x.x, ['Power', 10, x.e]];
  return n.im ? ['Add', r(n.re), ['Multiply', r(n.im), 'ImaginaryUnit']] : r(n.re);
}
function bigJson(b: bigint): MathJson {
  return b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : { num: b.toString() };
}
