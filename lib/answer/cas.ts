// The bridge to @cortex-js/compute-engine (0.27): LaTeX/MathJSON in, a number or a symbolic
// expression out. Inputs are checked against size limits BEFORE the engine sees them (the engine
// is synchronous and cannot be interrupted), and every call runs in its own scope so symbols
// declared by one answer (say `a` becoming real) never leak into the next.
import { ComputeEngine } from '@cortex-js/compute-engine';
import { approx, exact, parseDecimalString, type Num, type Real } from './number.ts';
import type { MathJson } from './pyexpr.ts';
import { exactEval } from './exact.ts';

export const CAS_LIMITS = {
  maxLatexLength: 1000,
  maxNodes: 400,
  maxFactorialArg: 3000,
  maxDigits: 20_000,
};

export type CasValue =
  | { k: 'num'; num: Num }
  | { k: 'expr'; json: MathJson; vars: string[] }
  | { k: 'bad'; why: 'unparseable' | 'unsupported' | 'limit' };

let engine: ComputeEngine | null = null;
function ce(): ComputeEngine {
  if (!engine) {
    engine = new ComputeEngine();
    engine.precision = 'machine';
    // warm the lazily-built libraries once (first trig call costs ~250 ms otherwise)
    engine.parse('\\sin(1)+\\frac{1}{2}+\\sqrt{2}+x').N();
  }
  return engine;
}

/** Heads we refuse: they need iteration, calculus or are not a single value. */
const UNSUPPORTED = new Set([
  'Sum', 'Product', 'Integrate', 'Limit', 'D', 'Derivative', 'Tuple', 'Set', 'List', 'Sequence',
  'Delimiter', 'Interval', 'Equal', 'Less', 'LessEqual', 'Greater', 'GreaterEqual', 'NotEqual',
  'Element', 'PlusMinus', 'Subscript', 'At', 'Matrix', 'Function', 'Assign', 'Range', 'String',
  'LatexString', 'Hold', 'Apply', 'Block', 'Condition', 'Prime',
]);

const KNOWN_CONSTANTS = new Set(['Pi', 'ExponentialE', 'ImaginaryUnit', 'PositiveInfinity', 'NegativeInfinity', 'NaN', 'Half']);

type Check = { ok: true } | { ok: false; why: 'unsupported' | 'limit' | 'unparseable' };

function checkTree(json: unknown): Check {
  let nodes = 0;
  let fail: 'unsupported' | 'limit' | 'unparseable' | null = null;
  const hasSymbol = (j: unknown): boolean =>
    typeof j === 'string' ? !KNOWN_CONSTANTS.has(j) : Array.isArray(j) && j.slice(1).some(hasSymbol);
  const walk = (j: unknown): void => {
    if (fail) return;
    if (++nodes > CAS_LIMITS.maxNodes) {
      fail = 'limit';
      return;
    }
    if (typeof j === 'object' && j !== null && !Array.isArray(j) && 'num' in j) {
      if (String((j as { num: string }).num).length > CAS_LIMITS.maxDigits) fail = 'limit';
      return;
    }
    if (!Array.isArray(j)) return;
    const head = j[0];
    if (head === 'Error' || head === 'ErrorCode') {
      fail = 'unparseable';
      return;
    }
    if (typeof head === 'string' && UNSUPPORTED.has(head)) {
      fail = 'unsupported';
      return;
    }
    if (head === 'Factorial' || head === 'Factorial2' || head === 'Gamma') {
      // a literal argument must be small; a computed one (2000+2000, 10^5) is refused unless symbolic
      const a = j[1];
      if (typeof a === 'number') {
        if (a > CAS_LIMITS.maxFactorialArg) fail = 'limit';
      } else if (!hasSymbol(a)) {
        const v = exactEval(a); // e.g. (10-3)! from \binom: fine when it is a small integer
        if (!v || v === 'limit' || v.d !== 1n || v.n > BigInt(CAS_LIMITS.maxFactorialArg)) fail = 'limit';
      }
    }
    for (let i = 1; i < j.length; i++) walk(j[i]);
  };
  walk(json);
  if (fail) return { ok: false, why: fail };
  return { ok: true };
}

function bigintOf(j: unknown): bigint | null {
  if (typeof j === 'number') return Number.isSafeInteger(j) ? BigInt(j) : null;
  if (typeof j === 'object' && j !== null && 'num' in j) {
    return bigintOfString(String((j as { num: string }).num));
  }
  return null;
}

/** "123", or the engine's trailing-zero form "5332...6192e+499", as a bigint; else null. */
function bigintOfString(s: string): bigint | null {
  const m = /^([+-]?\d+)(?:e\+?(\d{1,6}))?$/.exec(s);
  if (!m) return null;
  const e = m[2] ? Number(m[2]) : 0;
  if (m[1].length + e > CAS_LIMITS.maxDigits) return null;
  return BigInt(m[1]) * 10n ** BigInt(e);
}

function realOf(j: unknown, exactInts: boolean): Real | null {
  if (typeof j === 'number') {
    if (exactInts && Number.isSafeInteger(j)) return exact(BigInt(j));
    return approx(j);
  }
  if (typeof j === 'string') {
    if (j === 'PositiveInfinity') return approx(Infinity);
    if (j === 'NegativeInfinity') return approx(-Infinity);
    if (j === 'NaN') return approx(NaN);
    return null;
  }
  if (typeof j === 'object' && j !== null && !Array.isArray(j) && 'num' in j) {
    const s = String((j as { num: string }).num);
    const b = exactInts ? bigintOfString(s) : null;
    return b !== null ? exact(b) : parseDecimalString(s);
  }
  if (Array.isArray(j) && j[0] === 'Rational' && j.length === 3) {
    const n = bigintOf(j[1]);
    const d = bigintOf(j[2]);
    if (n !== null && d !== null && d !== 0n) return exact(n, d);
  }
  if (Array.isArray(j) && j[0] === 'Negate' && j.length === 2) {
    const r = realOf(j[1], exactInts);
    if (!r) return null;
    return r.kind === 'exact' ? exact(-r.n, r.d, r.dec) : approx(-r.x, r.e);
  }
  return null;
}

/** A CE result json as a number, or null when it is still symbolic. */
export function numOfJson(j: unknown, exactInts: boolean): Num | null {
  if (Array.isArray(j) && j[0] === 'Complex' && j.length === 3) {
    const re = realOf(j[1], exactInts);
    const im = realOf(j[2], exactInts);
    return re && im ? { re, im } : null;
  }
  const re = realOf(j, exactInts);
  return re ? { re, im: null } : null;
}

function inScope<T>(fn: (e: ComputeEngine) => T): T {
  const e = ce();
  e.pushScope();
  try {
    return fn(e);
  } finally {
    e.popScope();
  }
}

/**
 * Delimiters must nest properly before the engine sees the text: its LaTeX parser backtracks
 * exponentially on unbalanced input (measured: 19 s for a 90-character string).
 */
export function balanced(latex: string): boolean {
  const stack: string[] = [];
  const pairs: Record<string, string> = { ')': '(', ']': '[', '}': '{', '\\}': '\\{' };
  const re = /\\begin\{([a-zA-Z*]+)\}|\\end\{([a-zA-Z*]+)\}|\\[{}]|\\[a-zA-Z]+|\\.|[()[\]{}]/g;
  for (let m = re.exec(latex); m; m = re.exec(latex)) {
    const t = m[0];
    if (m[1]) stack.push('env:' + m[1]);
    else if (m[2]) {
      if (stack.pop() !== 'env:' + m[2]) return false;
    } else if (t === '(' || t === '[' || t === '{' || t === '\\{') stack.push(t);
    else if (t === ')' || t === ']' || t === '}' || t === '\\}') {
      if (stack.pop() !== pairs[t]) return false;
    }
    if (stack.length > 50) return false;
  }
  return stack.length === 0;
}

/** Parses LaTeX (or takes MathJSON) and reduces it to a number when it has no free symbols. */
export function casValue(input: { latex: string } | { json: MathJson }): CasValue {
  if ('latex' in input && input.latex.length > CAS_LIMITS.maxLatexLength) return { k: 'bad', why: 'limit' };
  if ('latex' in input && !balanced(input.latex)) return { k: 'bad', why: 'unparseable' };
  return inScope((e) => {
    let boxed;
    try {
      boxed = 'latex' in input ? e.parse(input.latex) : e.box(input.json as never);
    } catch {
      return { k: 'bad', why: 'unparseable' } as CasValue;
    }
    const json = boxed.json as MathJson;
    if ('latex' in input) {
      // the canonical form evaluates numbers at machine precision (1/2^{99} comes back as 0), so
      // an exact rational value is read from the parse as written first
      const raw = rawExact(e, input.latex);
      if (raw) return raw;
    }
    const chk = checkTree(json);
    if (!chk.ok) return { k: 'bad', why: chk.why } as CasValue;
    const vars = [...(boxed.unknowns ?? [])];
    if (vars.length > 0) return { k: 'expr', json, vars } as CasValue;
    const ex = exactEval(json);
    if (ex === 'limit') return { k: 'bad', why: 'limit' } as CasValue;
    if (ex) return { k: 'num', num: { re: ex, im: null } } as CasValue;
    try {
      const n = numOfJson(boxed.N().json, false);
      if (n) return { k: 'num', num: n } as CasValue;
    } catch {
      return { k: 'bad', why: 'unparseable' } as CasValue;
    }
    return { k: 'bad', why: 'unsupported' } as CasValue;
  });
}

function rawExact(e: ComputeEngine, latex: string): CasValue | null {
  let raw: unknown;
  try {
    raw = e.parse(latex, { canonical: false }).json;
  } catch {
    return null;
  }
  // exactEval bounds its own work (digits, exponents, factorials)
  const ex = exactEval(raw);
  if (ex === 'limit') return { k: 'bad', why: 'limit' };
  return ex ? { k: 'num', num: { re: ex, im: null } } : null;
}

/** Numeric value of a symbolic expression at a point, or null (domain error, still symbolic). */
export function evalAt(json: MathJson, point: Record<string, number>): Num | null {
  return inScope((e) => {
    try {
      const subs: Record<string, number> = {};
      for (const [k, v] of Object.entries(point)) subs[k] = v;
      const r = e.box(json as never).subs(subs).N();
      return numOfJson(r.json, false);
    } catch {
      return null;
    }
  });
}
