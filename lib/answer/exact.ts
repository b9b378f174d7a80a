// Exact rational evaluation of a MathJSON tree (integers, fractions, + - * /, integer powers,
// factorials) with BigInt. The compute engine's own integer arithmetic depends on its precision
// setting (2^100+1 comes back as a float at machine precision), so exactness is decided here.
// Returns null when the tree is outside this subset (radicals, pi, symbols...).
import { exact, parsePlainNumber, type Exact } from './number.ts';

export const EXACT_LIMITS = { maxDigits: 20_000, maxExponent: 100_000, maxFactorial: 3000 };

class TooBig extends Error {}

function gcd(a: bigint, b: bigint): bigint {
  a = a < 0n ? -a : a;
  b = b < 0n ? -b : b;
  while (b) [a, b] = [b, a % b];
  return a;
}
function norm(n: bigint, d: bigint, dec: boolean): Exact {
  if (d === 0n) throw new RangeError('division by zero');
  const g = gcd(n, d) || 1n;
  const r = exact(n / g, d / g, dec);
  if (r.n.toString().length + r.d.toString().length > 2 * EXACT_LIMITS.maxDigits) throw new TooBig();
  return r;
}
function digits(b: bigint): number {
  return (b < 0n ? -b : b).toString().length;
}

function lit(j: unknown): Exact | null {
  if (typeof j === 'number') {
    if (Number.isSafeInteger(j)) return exact(BigInt(j));
    if (!Number.isFinite(j)) return null;
    return parsePlainNumber(String(j)); // a decimal literal such as 0.15: exact, marked dec
  }
  if (typeof j === 'object' && j !== null && !Array.isArray(j) && 'num' in j) {
    const s = String((j as { num: string }).num);
    const m = /^([+-]?\d+)(?:e\+?(\d{1,6}))?$/.exec(s);
    if (m) {
      const e = m[2] ? Number(m[2]) : 0;
      if (m[1].length + e > EXACT_LIMITS.maxDigits) throw new TooBig();
      return exact(BigInt(m[1]) * 10n ** BigInt(e));
    }
    return s.length <= EXACT_LIMITS.maxDigits ? parsePlainNumber(s) : null;
  }
  return null;
}

function ev(j: unknown): Exact | null {
  const l = lit(j);
  if (l) return l;
  if (!Array.isArray(j) || typeof j[0] !== 'string') return null;
  const [head, ...args] = j as [string, ...unknown[]];
  const vals: Exact[] = [];
  for (const a of args) {
    const v = ev(a);
    if (!v) return null;
    vals.push(v);
  }
  const dec = vals.some((v) => v.dec);
  switch (head) {
    case 'Add': {
      let n = 0n;
      let d = 1n;
      for (const v of vals) {
        n = n * v.d + v.n * d;
        d *= v.d;
      }
      return norm(n, d, dec);
    }
    case 'Subtract':
      return vals.length === 2 ? norm(vals[0].n * vals[1].d - vals[1].n * vals[0].d, vals[0].d * vals[1].d, dec) : null;
    case 'Negate':
      return vals.length === 1 ? exact(-vals[0].n, vals[0].d, dec) : null;
    case 'Multiply': {
      let n = 1n;
      let d = 1n;
      for (const v of vals) {
        n *= v.n;
        d *= v.d;
      }
      return norm(n, d, dec);
    }
    case 'Divide':
    case 'Rational':
      if (vals.length !== 2 || vals[1].n === 0n) return null;
      return norm(vals[0].n * vals[1].d, vals[0].d * vals[1].n, dec);
    case 'Delimiter':
      return vals.length === 1 ? vals[0] : null;
    case 'Square':
      return vals.length === 1 ? norm(vals[0].n * vals[0].n, vals[0].d * vals[0].d, dec) : null;
    case 'Power': {
      if (vals.length !== 2) return null;
      const [b, e] = vals;
      if (e.d !== 1n) return null; // fractional exponent: leave to the engine
      const k = e.n < 0n ? -e.n : e.n;
      if (k > BigInt(EXACT_LIMITS.maxExponent)) throw new TooBig();
      if (b.n === 0n && e.n < 0n) return null;
      // result size check before computing: digits(b) * k
      if ((digits(b.n) + digits(b.d)) * Number(k) > 2 * EXACT_LIMITS.maxDigits + 4 && !(b.n === 1n || b.n === -1n || b.n === 0n) ) throw new TooBig();
      const n = b.n ** k;
      const d = b.d ** k;
      return e.n < 0n ? norm(d, n, dec) : norm(n, d, dec);
    }
    case 'Factorial': {
      if (vals.length !== 1 || vals[0].d !== 1n || vals[0].n < 0n) return null;
      if (vals[0].n > BigInt(EXACT_LIMITS.maxFactorial)) throw new TooBig();
      let f = 1n;
      for (let i = 2n; i <= vals[0].n; i++) f *= i;
      return exact(f, 1n, dec);
    }
    default:
      return null;
  }
}

/** Exact value of a rational MathJSON tree; null outside the subset; 'limit' when too large. */
export function exactEval(json: unknown): Exact | null | 'limit' {
  try {
    return ev(json);
  } catch (e) {
    if (e instanceof TooBig) return 'limit';
    return null;
  }
}
