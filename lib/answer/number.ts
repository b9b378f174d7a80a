// Numbers for answer comparison: exact rationals (BigInt) where the answer is exact, and
// approximations as mantissa * 10^exp so that 1/2004! or 10^500 neither underflow nor overflow.
//
// Tolerance rule (documented in the report / DESIGN):
// - both sides exact and neither written as a decimal (integers, fractions, big ints, factorials):
//   compared EXACTLY (1000000 != 1000001, 1/2004! != 1/2006!);
// - otherwise relative tolerance 1e-4, like the paper's math_equal (isclose rel_tol=1e-4);
//   a value compared with zero must be within 1e-9 (float noise such as 1e-17 equals 0).

export const REL_TOL = 1e-4;
export const ZERO_ABS_TOL = 1e-9;

/** value = n/d exactly; dec: written as a decimal literal (so it may be a rounded value). */
export type Exact = { kind: 'exact'; n: bigint; d: bigint; dec: boolean };
/** value ~= x * 10^e (e is 0 for ordinary doubles). */
export type Approx = { kind: 'approx'; x: number; e: number };
export type Real = Exact | Approx;
export type Num = { re: Real; im: Real | null };

const ZERO: Exact = { kind: 'exact', n: 0n, d: 1n, dec: false };

export function exact(n: bigint, d: bigint = 1n, dec = false): Exact {
  if (d < 0n) {
    n = -n;
    d = -d;
  }
  return { kind: 'exact', n, d, dec };
}
export function approx(x: number, e = 0): Approx {
  return { kind: 'approx', x, e };
}
export function realNum(re: Real): Num {
  return { re, im: null };
}

export function isZero(r: Real): boolean {
  return r.kind === 'exact' ? r.n === 0n : r.x === 0;
}
export function isInteger(r: Real): boolean {
  return r.kind === 'exact' && r.n % r.d === 0n;
}

function absBig(a: bigint): bigint {
  return a < 0n ? -a : a;
}

/** Leading ~17 significant digits of a bigint as [x, e] with value ~= x * 10^e. */
function bigToSci(a: bigint): [number, number] {
  const s = absBig(a).toString();
  if (s.length <= 300) return [Number(a), 0];
  const head = Number(s.slice(0, 17)) * (a < 0n ? -1 : 1);
  return [head, s.length - 17];
}

export function toApprox(r: Real): Approx {
  if (r.kind === 'approx') return r;
  const [xn, en] = bigToSci(r.n);
  const [xd, ed] = bigToSci(r.d);
  return approx(xn / xd, en - ed);
}

/** Normalises to mantissa in [1,10) and an integer exponent; zero/inf/nan have exp 0. */
function sci(a: Approx): [number, number] {
  if (!Number.isFinite(a.x) || a.x === 0) return [a.x, 0];
  const k = Math.floor(Math.log10(Math.abs(a.x)));
  let m = a.x / 10 ** k;
  let e = a.e + k;
  if (Math.abs(m) >= 10) {
    m /= 10;
    e += 1;
  } else if (Math.abs(m) < 1) {
    m *= 10;
    e -= 1;
  }
  return [m, e];
}

function closeApprox(a: Approx, b: Approx): boolean {
  if (Number.isNaN(a.x) || Number.isNaN(b.x)) return false;
  if (!Number.isFinite(a.x) || !Number.isFinite(b.x)) return a.x === b.x;
  const [ma, ea] = sci(a);
  const [mb, eb] = sci(b);
  if (ma === 0 || mb === 0) {
    const [m, e] = ma === 0 ? [mb, eb] : [ma, ea];
    return m === 0 || Math.abs(m) * 10 ** e <= ZERO_ABS_TOL;
  }
  if (Math.sign(ma) !== Math.sign(mb)) return false;
  if (Math.abs(ea - eb) > 1) return false;
  const x = ma * 10 ** (ea - eb);
  return Math.abs(x - mb) <= REL_TOL * Math.max(Math.abs(x), Math.abs(mb));
}

/** Equality of two reals under the rule above. */
export function realEqual(a: Real, b: Real): boolean {
  if (a.kind === 'exact' && b.kind === 'exact') {
    const lhs = a.n * b.d;
    const rhs = b.n * a.d;
    if (lhs === rhs) return true;
    if (!a.dec && !b.dec) return false;
    // tolerance in exact arithmetic: |a-b| <= tol * max(|a|,|b|)  (all scaled by a.d*b.d > 0)
    if (a.n === 0n || b.n === 0n) return false;
    const diff = absBig(lhs - rhs) * 10_000n;
    const big = absBig(lhs) > absBig(rhs) ? absBig(lhs) : absBig(rhs);
    return diff <= big;
  }
  return closeApprox(toApprox(a), toApprox(b));
}

export function numEqual(a: Num, b: Num): boolean {
  if (!realEqual(a.re, b.re)) return false;
  return realEqual(a.im ?? ZERO, b.im ?? ZERO);
}

/** Multiplies by 1/100 (exactly when exact): the value of "x%". */
export function percentOf(n: Num): Num {
  const f = (r: Real): Real => (r.kind === 'exact' ? exact(r.n, r.d * 100n, r.dec) : approx(r.x, r.e - 2));
  return { re: f(n.re), im: n.im ? f(n.im) : null };
}

const PLAIN_NUMBER = /^([+-])?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d{1,6}))?$/;

/** Parses a plain decimal literal (`-12`, `3.50`, `.5`, `1.25e3`) exactly, or null. */
export function parsePlainNumber(s: string): Exact | null {
  const m = PLAIN_NUMBER.exec(s);
  if (!m) return null;
  const [, sign, int = '', frac = '', exp] = m;
  if (int === '' && frac === '') return null;
  if (int.length + frac.length > 5000) return null;
  let n = BigInt((int || '0') + frac);
  let d = 10n ** BigInt(frac.length);
  const isDec = m[3] !== undefined || exp !== undefined;
  if (exp !== undefined) {
    const e = Number(exp);
    if (Math.abs(e) > 5000) return null;
    if (e >= 0) n *= 10n ** BigInt(e);
    else d *= 10n ** BigInt(-e);
  }
  if (sign === '-') n = -n;
  return exact(n, d, isDec);
}

/** Parses a decimal string that may be very long or carry an exponent (`2.00e+19728`). */
export function parseDecimalString(s: string): Real | null {
  const t = s.trim();
  if (/^[+-]?\d+$/.test(t)) return exact(BigInt(t));
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(t);
  if (!m) {
    if (/^[+-]?inf(inity)?$/i.test(t)) return approx(t.startsWith('-') ? -Infinity : Infinity);
    if (/^nan$/i.test(t)) return approx(NaN);
    return null;
  }
  const [, sign, int = '', frac = '', exp = '0'] = m;
  const digits = (int + frac).replace(/^0+/, '');
  if (digits === '') return approx(0);
  // position of the decimal point relative to the first significant digit
  const lead = (int + frac).length - (int + frac).replace(/^0+/, '').length;
  const pointPos = int.length - lead; // number of digits before the point, counted from first sig digit
  const head = Number('0.' + digits.slice(0, 17));
  return approx((sign === '-' ? -1 : 1) * head, pointPos + Number(exp));
}

export function describeReal(r: Real): string {
  if (r.kind === 'exact') return r.d === 1n ? r.n.toString() : `${r.n}/${r.d}`;
  return r.e === 0 ? String(r.x) : `${r.x}e${r.e}`;
}
