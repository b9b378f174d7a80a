// A program output (PyValue, see lib/schema.ts and notes/pyvalue.md) as an answer Node: the json
// tags give exact values (big ints, Fractions, tuples vs sets); `str` is the fallback.
import type { PyValue } from '../schema.ts';
import { casValue } from './cas.ts';
import { approx, exact, parseDecimalString, parsePlainNumber, type Real } from './number.ts';
import { parsePythonExpr } from './pyexpr.ts';
import { canonicalText } from './normalize.ts';
import { resolveScalar, type Scalar } from './scalar.ts';
import { MAX_ITEMS, parseStructure, type Node } from './structure.ts';
import { sympySetText } from './sets.ts';
import { cleanAnswer } from './normalize.ts';

export function isPyValue(v: unknown): v is PyValue {
  return (
    typeof v === 'object' && v !== null && 'json' in v && typeof (v as PyValue).repr === 'string' &&
    typeof (v as PyValue).str === 'string' && typeof (v as PyValue).type === 'string'
  );
}

const scalarNode = (val: Scalar, s = ''): Node => ({ k: 'scalar', s, val });

function realOfTagged(j: unknown): Real | null {
  if (typeof j === 'number') return Number.isSafeInteger(j) ? exact(BigInt(j)) : approx(j);
  if (typeof j === 'object' && j !== null) {
    const o = j as Record<string, unknown>;
    if (typeof o.$int === 'string' && /^[+-]?\d+$/.test(o.$int)) return exact(BigInt(o.$int));
    if (typeof o.$float === 'string') return approx(o.$float === 'nan' ? NaN : o.$float === '-inf' ? -Infinity : Infinity);
  }
  return null;
}

/** Converts the tagged json of a PyValue; `type` tells float 3.0 from int 3. */
function nodeOfJson(j: unknown, type: string | null, depth: number): Node {
  if (depth > 20) return { k: 'opaque', why: 'limit' };
  if (j === null) return scalarNode({ k: 'text', t: 'none' });
  if (typeof j === 'boolean') return scalarNode({ k: 'bool', b: j });
  if (typeof j === 'number') {
    const isFloat = type === 'float' || !Number.isInteger(j);
    return scalarNode({ k: 'num', num: { re: isFloat ? approx(j) : exact(BigInt(j)), im: null } });
  }
  if (typeof j === 'string') return fromText(j);
  if (Array.isArray(j)) return seqNode('list', j, depth);
  if (typeof j !== 'object') return { k: 'opaque', why: 'unsupported' };
  const o = j as Record<string, unknown>;
  if ('$int' in o) {
    const r = realOfTagged(o);
    return r ? scalarNode({ k: 'num', num: { re: r, im: null } }) : { k: 'opaque', why: 'unparseable' };
  }
  if ('$int_digits' in o) return { k: 'opaque', why: 'gold_too_large' };
  if ('$float' in o) return scalarNode({ k: 'num', num: { re: realOfTagged(o)!, im: null } });
  if (Array.isArray(o.$fraction) && o.$fraction.length === 2) {
    const [n, d] = o.$fraction.map(String);
    if (/^[+-]?\d+$/.test(n) && /^[+-]?\d+$/.test(d) && BigInt(d) !== 0n)
      return scalarNode({ k: 'num', num: { re: exact(BigInt(n), BigInt(d)), im: null } });
  }
  if (typeof o.$decimal === 'string') {
    const r = parsePlainNumber(o.$decimal) ?? parseDecimalString(o.$decimal);
    if (r) return scalarNode({ k: 'num', num: { re: r.kind === 'exact' ? { ...r, dec: true } : r, im: null } });
  }
  if (Array.isArray(o.$complex) && o.$complex.length === 2) {
    const re = realOfTagged(o.$complex[0]);
    const im = realOfTagged(o.$complex[1]);
    // Python complex parts are floats
    const f = (r: Real | null): Real | null => (r && r.kind === 'exact' ? approx(Number(r.n)) : r);
    if (re && im) return scalarNode({ k: 'num', num: { re: f(re)!, im: f(im)! } });
  }
  if (Array.isArray(o.$tuple)) return seqNode('tuple', o.$tuple, depth);
  if (Array.isArray(o.$set)) return seqNode('set', o.$set, depth);
  if (typeof o.$sympy === 'string') {
    if (sympySetText(o.$sympy) !== null) return fromText(o.$sympy);
    const pj = parsePythonExpr(o.$sympy);
    if (pj !== null) {
      const v = casValue({ json: pj });
      if (v.k === 'num') return scalarNode({ k: 'num', num: v.num });
      if (v.k === 'expr') return scalarNode({ k: 'expr', json: v.json, vars: v.vars });
    }
    return fromText(o.$sympy);
  }
  if ('$truncated' in o) return { k: 'opaque', why: 'gold_truncated' };
  if (typeof o.$object === 'string') return scalarNode({ k: 'text', t: canonicalText(o.$object) });
  return { k: 'opaque', why: 'unsupported' };
}

function seqNode(kind: 'list' | 'tuple' | 'set', items: unknown[], depth: number): Node {
  if (items.length > MAX_ITEMS) return { k: 'opaque', why: 'limit' };
  return {
    k: 'seq', kind, open: kind === 'set' ? '{' : '(', close: kind === 'set' ? '}' : ')', loose: true,
    items: items.map((x) => nodeOfJson(x, null, depth + 1)),
  };
}

/** A string gold (or Python str output): parsed like any answer text. */
export function fromText(s: string): Node {
  return parseStructure(cleanAnswer(s));
}

/** Node of a PyValue: json tags first, Python's str() as the fallback. */
export function nodeOfPyValue(v: PyValue): Node {
  if (v.str.endsWith('...[truncated]')) return { k: 'opaque', why: 'gold_truncated' };
  const n = nodeOfJson(v.json, v.type, 0);
  if (n.k === 'opaque' && n.why === 'unsupported') return fromText(v.str);
  return n;
}

export { resolveScalar };
