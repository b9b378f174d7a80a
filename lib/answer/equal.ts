// answersEqual: does a model's final answer equal the gold (a string, or a program's output as a
// PyValue)? Returns the verdict and the rule that decided it. Stricter than the paper's
// math_equal on percentages (a bare 10 never equals 0.1) and exact on integers and fractions.
//
// Rules, in order: exact canonical string; shape (scalar vs tuple/list/set/interval, ordered or
// not); per scalar: number (exact for integers/fractions, rel 1e-4 otherwise; `10%` may be 10 or
// 0.1), symbolic (random-point evaluation over the union of free variables), equation
// (proportional lhs-rhs), boolean, text.
import type { PyValue } from '../schema.ts';
import { evalAt } from './cas.ts';
import { canonicalText, cleanAnswer } from './normalize.ts';
import { numEqual, parsePlainNumber, percentOf, type Num } from './number.ts';
import { isPyValue, nodeOfPyValue, fromText } from './pyvalue.ts';
import type { MathJson } from './pyexpr.ts';
import { numJson, resolveScalar, type Scalar } from './scalar.ts';
import type { Node } from './structure.ts';

export type EqualReason =
  | 'exact_string' | 'numeric' | 'percent' | 'symbolic' | 'equation' | 'bool' | 'text'
  | 'tuple_ordered' | 'set_unordered' | 'interval' | 'shape' | 'length' | 'type_mismatch'
  | 'unparseable' | 'unsupported' | 'limit' | 'too_long' | 'timeout' | 'gold_too_large'
  | 'gold_truncated' | 'empty' | 'choice' | 'decimal_comma' | 'ratio';

export type EqualResult = { equal: boolean; reason: EqualReason | string };

export type EqualOptions = {
  /** Soft time budget per comparison (checked between steps; the engine itself is bounded by input limits). */
  timeoutMs?: number;
  /** Longest answer text accepted on either side. */
  maxLength?: number;
};

const DEFAULTS: Required<EqualOptions> = { timeoutMs: 1000, maxLength: 2000 };

class Timeout extends Error {}

type Ctx = { deadline: number };

function tick(ctx: Ctx): void {
  if (performance.now() > ctx.deadline) throw new Timeout();
}

const N_POINTS = 6;

/** Deterministic pseudo-random value of variable `name` at point p, in [-2.5, -0.5] or [0.5, 2.5]. */
function varValue(p: number, name: string): number {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  const r = Math.abs(Math.sin((p + 1) * 12.9898 + (h >>> 0) * 78.233) * 43758.5453) % 1;
  const v = 0.5 + 2 * r;
  return p % 3 === 2 ? -v : v; // some negative points, so sqrt(x^2) is not |x|-blind
}

function pointFor(p: number, vars: string[]): Record<string, number> {
  const point: Record<string, number> = {};
  for (const v of vars) point[v] = varValue(p, v);
  return point;
}

// a scalar's value at point p does not depend on the other side, so it is computed once
const atCache = new WeakMap<object, (Num | null)[]>();
function valueAt(s: Scalar, p: number): Num | null {
  if (s.k === 'num') return s.num;
  if (s.k !== 'expr') return null;
  let c = atCache.get(s);
  if (!c) atCache.set(s, (c = []));
  if (c[p] === undefined) c[p] = evalAt(s.json, pointFor(p, s.vars));
  return c[p];
}

function finite(n: Num | null): n is Num {
  if (!n) return false;
  const ok = (r: Num['re']) => (r.kind === 'exact' ? true : Number.isFinite(r.x));
  return ok(n.re) && (!n.im || ok(n.im));
}

function symbolicEqual(a: Scalar, b: Scalar, ctx: Ctx): boolean {
  const vars = new Set([...(a.k === 'expr' ? a.vars : []), ...(b.k === 'expr' ? b.vars : [])]);
  if (vars.size > 12) return false;
  let checked = 0;
  for (let p = 0; p < N_POINTS; p++) {
    tick(ctx);
    const va = valueAt(a, p);
    const vb = valueAt(b, p);
    if (!finite(va) || !finite(vb)) continue;
    if (!numEqual(va, vb)) return false;
    checked++;
  }
  return checked >= 3;
}

function toFloat(n: Num): [number, number] {
  const f = (r: Num['re']) => (r.kind === 'exact' ? Number(r.n) / Number(r.d) : r.x * 10 ** r.e);
  return [f(n.re), n.im ? f(n.im) : 0];
}

/** Two equations are equal when lhs-rhs of one is a non-zero constant multiple of the other's. */
function equationEqual(a: Extract<Scalar, { k: 'eq' }>, b: Extract<Scalar, { k: 'eq' }>, ctx: Ctx): boolean {
  const vars = [...new Set([...a.vars, ...b.vars])];
  const fa: MathJson = ['Subtract', a.lhs, a.rhs];
  const fb: MathJson = ['Subtract', b.lhs, b.rhs];
  let ratio: number | null = null;
  let checked = 0;
  for (let p = 0; p < N_POINTS; p++) {
    tick(ctx);
    const point = pointFor(p, vars);
    const va = evalAt(fa, point);
    const vb = evalAt(fb, point);
    if (!finite(va) || !finite(vb)) continue;
    const [xa] = toFloat(va);
    const [xb] = toFloat(vb);
    if (xb === 0 || xa === 0) {
      if (xa !== xb) return false;
      continue;
    }
    const r = xa / xb;
    if (ratio === null) ratio = r;
    else if (Math.abs(r - ratio) > 1e-6 * Math.max(1, Math.abs(ratio))) return false;
    checked++;
  }
  return checked >= 3;
}

function scalarEqual(a: Scalar, b: Scalar, ctx: Ctx): EqualResult {
  tick(ctx);
  if (a.k === 'bad') return { equal: false, reason: a.why === 'empty' ? 'empty' : a.why };
  if (b.k === 'bad') return { equal: false, reason: b.why };
  if (a.k === 'bool' || b.k === 'bool') {
    return { equal: a.k === 'bool' && b.k === 'bool' && a.b === b.b, reason: 'bool' };
  }
  if (a.k === 'text' || b.k === 'text') {
    return { equal: a.k === 'text' && b.k === 'text' && a.t === b.t, reason: 'text' };
  }
  if (a.k === 'eq' || b.k === 'eq') {
    if (a.k === 'eq' && b.k === 'eq') return { equal: equationEqual(a, b, ctx), reason: 'equation' };
    // `y = 2x + 3` (read as the value 2x + 3 labelled y) against the equation `2x - y + 3 = 0`
    const [e, o] = a.k === 'eq' ? [a, b] : [b as Extract<Scalar, { k: 'eq' }>, a];
    if ((o.k === 'num' || o.k === 'expr') && o.label) {
      const rhs = o.k === 'num' ? numJson(o.num) : o.json;
      const vars = [...new Set([o.label, ...(o.k === 'expr' ? o.vars : [])])];
      return { equal: equationEqual(e, { k: 'eq', lhs: o.label, rhs, vars }, ctx), reason: 'equation' };
    }
    return { equal: false, reason: 'type_mismatch' };
  }
  if (a.k === 'num' && b.k === 'num') {
    if (numEqual(a.num, b.num)) return { equal: true, reason: 'numeric' };
    // `10%` may stand for 10 or for 0.1; a bare number never gets rescaled
    if (a.percent && !b.percent && numEqual(percentOf(a.num), b.num)) return { equal: true, reason: 'percent' };
    if (b.percent && !a.percent && numEqual(a.num, percentOf(b.num))) return { equal: true, reason: 'percent' };
    return { equal: false, reason: a.percent || b.percent ? 'percent' : 'numeric' };
  }
  // at least one symbolic side
  if (symbolicEqual(a, b, ctx)) return { equal: true, reason: 'symbolic' };
  if (a.k === 'expr' && b.k === 'num' && a.percent) {
    // rare: a percent of a symbolic constant (e.g. 50\pi\%)
    return { equal: symbolicEqual({ ...a, json: ['Divide', a.json, 100] }, b, ctx), reason: 'percent' };
  }
  return { equal: false, reason: 'symbolic' };
}

function resolved(n: Extract<Node, { k: 'scalar' }>): Scalar {
  if (!n.val) n.val = resolveScalar(n.s);
  return n.val;
}

const ORDERED_REASON: Record<string, EqualReason> = { interval: 'interval', union: 'interval' };

function nodeEqual(a: Node, b: Node, ctx: Ctx): EqualResult {
  tick(ctx);
  if (a.k === 'opaque') return { equal: false, reason: a.why };
  if (b.k === 'opaque') return { equal: false, reason: b.why };
  if (a.k === 'scalar' && b.k === 'scalar') return scalarEqual(resolved(a), resolved(b), ctx);
  if (a.k === 'seq' && b.k === 'scalar') return a.items.length === 1 && a.loose ? nodeEqual(a.items[0], b, ctx) : { equal: false, reason: 'shape' };
  if (a.k === 'scalar' && b.k === 'seq') return b.items.length === 1 && b.loose ? nodeEqual(a, b.items[0], ctx) : { equal: false, reason: 'shape' };
  if (a.k !== 'seq' || b.k !== 'seq') return { equal: false, reason: 'shape' };
  if (a.items.length !== b.items.length) return { equal: false, reason: 'length' };
  // sets and ± pairs are unordered; a bare list "2, 5, 8" is unordered against written answers, but
  // ordered against a program's list or tuple (it may be a sequence: a false positive costs more)
  const setLike = (n: Extract<Node, { k: 'seq' }>) => n.kind === 'set' || n.kind === 'pm';
  const pyOrdered = (n: Extract<Node, { k: 'seq' }>) => !!n.loose && (n.kind === 'list' || n.kind === 'tuple');
  const unordered = setLike(a) || setLike(b) || ((a.kind === 'bare' || b.kind === 'bare') && !pyOrdered(a) && !pyOrdered(b));
  if (unordered) {
    const used = new Array<boolean>(b.items.length).fill(false);
    for (const x of a.items) {
      let found = -1;
      for (let j = 0; j < b.items.length && found < 0; j++) {
        if (!used[j] && nodeEqual(x, b.items[j], ctx).equal) found = j;
      }
      if (found < 0) return { equal: false, reason: 'set_unordered' };
      used[found] = true;
    }
    return { equal: true, reason: 'set_unordered' };
  }
  const reason = ORDERED_REASON[a.kind] ?? ORDERED_REASON[b.kind] ?? 'tuple_ordered';
  // brackets matter between two written answers ((1,2] vs (1,2)); a Python list/tuple has none
  if (!a.loose && !b.loose && (a.open !== b.open || a.close !== b.close)) return { equal: false, reason };
  for (let i = 0; i < a.items.length; i++) {
    if (!nodeEqual(a.items[i], b.items[i], ctx).equal) return { equal: false, reason };
  }
  return { equal: true, reason };
}

// Multiple choice: a lone option letter on one side, a letter or an option with its text
// ("(B) 42", "B) 42", "\textbf{(B)} 42") on the other. Only capitals A-E count as options.
const LONE_CHOICE = /^\(?([A-E])\)?$/;
const LEADING_CHOICE = /^\(([A-E])\)\s*\S|^([A-E])[).:]\s+\S/;

function unwrapText(s: string): string {
  return s.replace(/\\text\{([^{}]*)\}/g, '$1').replace(/\s+/g, ' ').trim();
}

function choiceEqual(a: string, b: string): EqualResult | null {
  const ua = unwrapText(a);
  const ub = unwrapText(b);
  const la = LONE_CHOICE.exec(ua);
  const lb = LONE_CHOICE.exec(ub);
  if (!la && !lb) return null;
  const letter = (u: string, lone: RegExpExecArray | null): string | null => {
    if (lone) return lone[1];
    const m = LEADING_CHOICE.exec(u);
    return m ? (m[1] ?? m[2]) : null;
  };
  const x = letter(ua, la);
  const y = letter(ub, lb);
  if (x === null || y === null) return null;
  return { equal: x === y, reason: 'choice' };
}

// Ratios a:b(:c): equal when proportional (4:6 = 2:3). A clock time (12:15, 9:05) is not a ratio.
const RATIO = /^\d+(?:\.\d+)?(?:\s*:\s*\d+(?:\.\d+)?)+$/;
const CLOCK = /^\d{1,2}:\d{2}(?::\d{2})?$/;

function ratioEqual(a: string, b: string): EqualResult | null {
  const ta = a.trim();
  const tb = b.trim();
  if (!RATIO.test(ta) || !RATIO.test(tb) || CLOCK.test(ta) || CLOCK.test(tb)) return null;
  const pa = ta.split(':').map((x) => parsePlainNumber(x.trim()));
  const pb = tb.split(':').map((x) => parsePlainNumber(x.trim()));
  if (pa.length !== pb.length || pa.some((x) => !x || x.n === 0n) || pb.some((x) => !x || x.n === 0n)) return { equal: false, reason: 'ratio' };
  // a_i / a_0 == b_i / b_0 for every i, exactly
  const [a0, b0] = [pa[0]!, pb[0]!];
  const same = pa.every((x, i) => x!.n * a0.d * pb[i]!.d * b0.n === pb[i]!.n * b0.d * x!.d * a0.n);
  return { equal: same, reason: 'ratio' };
}

// A decimal comma where it cannot be a thousands separator (3,5 or 0,25 but not 1,234) is read
// as a decimal point when the other side is one number, never when it is a list.
const DECIMAL_COMMA = /^([+-]?\d+),(\d+)$/;

function withDecimalComma(p: string, g: string, pn: Node, gn: Node, ctx: Ctx): EqualResult {
  const r = nodeEqual(pn, gn, ctx);
  if (r.equal) return r;
  for (const [text, other] of [[p, gn], [cleanAnswer(g), pn]] as const) {
    const m = DECIMAL_COMMA.exec(text.trim());
    // 1,234 may be thousands; 0,111 and 12,5 cannot
    if (!m || (/^[+-]?[1-9]\d{0,2}$/.test(m[1]) && m[2].length === 3)) continue;
    if (other.k !== 'scalar') continue;
    const alt = fromText(`${m[1]}.${m[2]}`);
    const d = nodeEqual(alt, other, ctx);
    return { equal: d.equal, reason: 'decimal_comma' };
  }
  return r;
}

/**
 * Decides whether `pred` (a model's final answer text) equals `gold` (answer text, or a program
 * output as a PyValue). Never throws; an answer it cannot read gives {equal:false, reason:'unparseable'}.
 */
export function answersEqual(pred: string, gold: string | PyValue, opts: EqualOptions = {}): EqualResult {
  const o = { ...DEFAULTS, ...opts };
  if (typeof pred !== 'string') return { equal: false, reason: 'unparseable' };
  const goldText = typeof gold === 'string' ? gold : null;
  if (goldText === null && !isPyValue(gold)) return { equal: false, reason: 'unparseable' };
  if (pred.length > o.maxLength || (goldText !== null && goldText.length > o.maxLength)) return { equal: false, reason: 'too_long' };
  const ctx: Ctx = { deadline: performance.now() + o.timeoutMs };
  try {
    const p = cleanAnswer(pred);
    if (p === '') return { equal: false, reason: 'empty' };
    if (goldText !== null) {
      const g = cleanAnswer(goldText);
      if (canonicalText(p) === canonicalText(g)) return { equal: true, reason: 'exact_string' };
      const choice = choiceEqual(p, g) ?? ratioEqual(p, g);
      if (choice) return choice;
      return withDecimalComma(p, g, fromText(p), fromText(g), ctx);
    }
    const pv = gold as PyValue;
    if (pv.str.length > o.maxLength && !pv.str.endsWith('...[truncated]') && typeof pv.json !== 'object') {
      return { equal: false, reason: 'too_long' };
    }
    if (canonicalText(p) === canonicalText(pv.str)) return { equal: true, reason: 'exact_string' };
    const choice = choiceEqual(p, cleanAnswer(pv.str)) ?? ratioEqual(p, cleanAnswer(pv.str));
    if (choice) return choice;
    return withDecimalComma(p, pv.str, fromText(p), nodeOfPyValue(pv), ctx);
  } catch (e) {
    if (e instanceof Timeout) return { equal: false, reason: 'timeout' };
    return { equal: false, reason: 'unparseable' };
  }
}

