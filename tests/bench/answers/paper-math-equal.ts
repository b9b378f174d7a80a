// A TypeScript port of the RULES of the grader the Caco paper cites for verification: `math_equal`
// of Qwen2.5-Math's evaluation (evaluation/grader.py), with its answer extraction (parser.py:
// extract_answer, strip_string). Written from reading that code, for side-by-side measurement only;
// the product never uses it. Faithful in the rules that decide most verdicts:
// - extraction: Minerva "final answer is $..$. I hope" > the LAST "boxed" (no ambiguity check) >
//   "he answer is" > "final answer is" > the last number (commas dropped);
// - strip_string: \left/\right, \{ \}, tfrac/dfrac, a trailing \text{unit}, unit words, ^\circ,
//   dollars, \text{..}, `x=`/`y=`/`z=`, percent signs REMOVED (so 45\% becomes 45), `k=` prefixes of
//   at most 2 characters, spaces, \frac12 and a/b rewrites;
// - math_equal: case-insensitive string equality; choice letters; numbers: commas dropped,
//   float(), `x%` = x/100, and the PERCENTAGE RULE (reference/100, reference, reference*100 all
//   accepted) with math.isclose(rel_tol=1e-4); bracket-insensitive string equality after dropping
//   {}(); element-wise (ORDERED) comparison of [..]/(..) lists split on commas; pmatrix element-wise;
//   equations as lhs-(rhs) up to sign; `x = v` against v when the left side has <= 2 characters;
//   then symbolic equality.
// The one part that cannot be ported as is: SymPy's parse_latex/simplify. Here the compute engine
// parses both sides (Python/SymPy text such as `6*pi` through lib/answer's expression reader, in
// the role of SymPy's parse_expr); without free symbols both are evaluated and compared with rel 1e-4 (what
// numeric_equal(float(N(a)), float(N(b))) does), with free symbols a-b is evaluated at 4 points.
// Where SymPy would parse something the engine cannot, this port says "not equal", so it may
// under-count the original's true AND false positives on symbolic answers.
import { ComputeEngine } from '@cortex-js/compute-engine';
import { looksPythonic, parsePythonExpr } from '../../../lib/answer/pyexpr.ts';
import { exactEval } from '../../../lib/answer/exact.ts';

const UNIT_WORDS = [
  'degree', 'degrees', 'mph', 'kmph', 'ft', 'feet', 'foot', 'mile', 'miles', 'inch', 'inches', 'cm', 'mm', 'km', 'm', 'kg', 'g',
  'lb', 'lbs', 'hour', 'hours', 'minute', 'minutes', 'min', 'second', 'seconds', 'sec', 'day', 'days', 'year', 'years',
  'month', 'months', 'meter', 'meters', 'metre', 'metres', 'liter', 'liters', 'litre', 'litres', 'gallon', 'gallons',
  'unit', 'units', 'square', 'sq', 'cubic', 'percent', 'dollar', 'dollars', 'cent', 'cents', 'apple', 'apples', 'yard', 'yards',
];

/** Qwen2.5-Math's extract_answer for a math dataset (use_last_number=True). */
export function paperExtract(text: string): string {
  const s = text;
  let pred: string;
  const minerva = s.indexOf('final answer is $');
  if (minerva >= 0 && s.includes('$. I hope')) {
    pred = s.slice(minerva + 'final answer is $'.length).split('$. I hope')[0].trim();
  } else if (s.includes('boxed')) {
    const ans = s.split('boxed').pop()!;
    if (ans.length === 0) return '';
    if (ans[0] === '{') {
      let depth = 1;
      let a = '';
      for (const c of ans.slice(1)) {
        if (c === '{') depth++;
        else if (c === '}' && --depth === 0) break;
        a += c;
      }
      pred = a;
    } else pred = ans.split('$')[0].trim();
  } else if (s.includes('he answer is')) {
    pred = s.split('he answer is').pop()!.trim();
  } else if (s.includes('final answer is')) {
    pred = s.split('final answer is').pop()!.trim();
  } else {
    const nums = s.replace(/,/g, '').match(/-?\d*\.?\d+/g);
    pred = nums ? nums[nums.length - 1] : '';
  }
  pred = pred.replace(/\n\s*/g, '');
  if (pred.startsWith(':')) pred = pred.slice(1);
  if (pred.endsWith('.')) pred = pred.slice(0, -1);
  if (pred.endsWith('/')) pred = pred.slice(0, -1);
  return paperStrip(pred);
}

function fixFracs(s: string): string {
  const parts = s.split('\\frac');
  let out = parts[0];
  for (const sub of parts.slice(1)) {
    out += '\\frac';
    if (sub.startsWith('{') || sub.length < 2) {
      out += sub;
      continue;
    }
    const [a, b] = [sub[0], sub[1]];
    out += b !== '{' ? `{${a}}{${b}}${sub.slice(2)}` : `{${a}}${sub.slice(1)}`;
  }
  return out;
}

/** strip_string's rules. */
export function paperStrip(raw: string): string {
  let s = String(raw).trim().replace(/\n/g, '').replace(/\.+$/, '').replace(/\\!/g, '');
  s = s.replace(/\\begin\{array\}\{.*?\}/g, '\\begin{pmatrix}').replace(/\\end\{array\}/g, '\\end{pmatrix}').replace(/bmatrix/g, 'pmatrix');
  s = s.replace(/tfrac/g, 'frac').replace(/dfrac/g, 'frac').replace(/\\neq/g, '\\ne').replace(/\\leq/g, '\\le').replace(/\\geq/g, '\\ge');
  s = s.replace(/\\left/g, '').replace(/\\right/g, '').replace(/\\\{/g, '{').replace(/\\\}/g, '}');
  const noUnit = s.replace(/\\text\{.*?\}$/, '').trim();
  if (noUnit !== '' && noUnit !== s) s = noUnit;
  for (let r = 0; r < 2; r++) {
    for (const u of UNIT_WORDS) {
      const t = s.replace(new RegExp(`(^|\\W)${u}($|\\W)`, 'g'), '$1$2');
      if (t !== '') s = t;
    }
  }
  s = s.replace(/\^\{\\circ\}/g, '').replace(/\^\\circ/g, '');
  s = s.replace(/\\\$/g, '').replace(/\$/g, '').replace(/\\\(/g, '').replace(/\\\)/g, '');
  s = s.replace(/\\text\{(.*?)\}/g, '$1');
  for (const k of ['x=', 'y=', 'z=', 'x\\in', 'y\\in', 'z\\in', 'x\\to', 'y\\to', 'z\\to']) s = s.split(k).join('');
  s = s.replace(/\\emptyset/g, '{}').replace(/\(-\\infty,\\infty\)/g, '\\mathbb{R}');
  s = s.replace(/\\%/g, '').replace(/%/g, '');
  s = s.replace(/ \./g, ' 0.').replace(/\{\./g, '{0.');
  if (/^[{([][A-Za-z0-9]*[})\]]$/.test(s) && /^[A-Za-z0-9]+$/.test(s.slice(1, -1))) s = s.slice(1, -1);
  s = s.replace(/infinity/g, '\\infty');
  if (!s.includes('\\infty')) s = s.replace(/inf/g, '\\infty');
  s = s.replace(/and/g, '').replace(/\\mathbf/g, '').replace(/\\mbox\{.*?\}/g, '');
  if (s.includes('j') && !s.includes('i')) s = s.replace(/j/g, 'i');
  s = s.replace(/(\d+)\.0*([^\d])/g, '$1$2').replace(/(\d+)\.0*$/, '$1');
  if (s === '') return s;
  if (s[0] === '.') s = '0' + s;
  const eq = s.split('=');
  if (eq.length === 2 && eq[0].length <= 2) s = eq[1];
  s = s.replace(/\\sqrt(\w+)/g, '\\sqrt{$1}').replace(/ /g, '');
  s = fixFracs(s);
  const slash = s.split('/');
  if (slash.length === 2 && /^-?\d+$/.test(slash[0]) && /^-?\d+$/.test(slash[1])) s = `\\frac{${slash[0]}}{${slash[1]}}`;
  return s;
}

function parseDigits(x: string): number | null {
  const t = x.replace(/,/g, '');
  if (/^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(t) || /^\s*[+-]?(inf|nan)\s*$/i.test(t)) return Number(t);
  if (t.endsWith('%')) {
    let u = t.slice(0, -1);
    if (u.endsWith('\\')) u = u.slice(0, -1);
    if (/^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(u)) return Number(u) / 100;
  }
  return null;
}

/** math.isclose(a, b, rel_tol=1e-4) */
function isclose(a: number, b: number): boolean {
  if (a === b) return true;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
  return Math.abs(a - b) <= 1e-4 * Math.max(Math.abs(a), Math.abs(b));
}

function choiceClean(p: string): string {
  const t = p.replace(/^\n+|\n+$/g, '').replace(/\.+$/, '').replace(/\/+$/, '').trim().replace(/^:+/, '');
  const letters = t.toUpperCase().match(/\b[A-E]\b/g);
  const out = letters ? letters[letters.length - 1] : t.trim().replace(/^\.+|\.+$/g, '');
  return out.replace(/\.+$/, '').replace(/\/+$/, '');
}

let engine: ComputeEngine | null = null;
function ce(): ComputeEngine {
  if (!engine) {
    engine = new ComputeEngine();
    engine.precision = 'machine';
  }
  return engine;
}

function symbolicEqual(a: string, b: string): boolean {
  if (a.length > 500 || b.length > 500) return false;
  const e = ce();
  e.pushScope();
  try {
    const parse = (x: string) => {
      const j = looksPythonic(x) ? parsePythonExpr(x) : null;
      return j !== null ? e.box(j as never) : e.parse(x);
    };
    // SymPy keeps rationals exact (1/2^99 is not 1/2^98) but float(N(1/2004!)) is 0.0; the engine's
    // canonical form would round 1/2^99 to 0, so exact rationals are read from the raw parse and
    // compared as Python floats
    if (!looksPythonic(a) && !looksPythonic(b)) {
      const ea = exactEval(e.parse(a, { canonical: false }).json);
      const eb = exactEval(e.parse(b, { canonical: false }).json);
      if (ea && eb && ea !== 'limit' && eb !== 'limit') {
        return ea.n * eb.d === eb.n * ea.d || isclose(Number(ea.n) / Number(ea.d), Number(eb.n) / Number(eb.d));
      }
    }
    const pa = parse(a);
    const pb = parse(b);
    if (!pa.isValid || !pb.isValid) return false;
    if (pa.isSame(pb)) return true;
    const vars = [...new Set([...(pa.unknowns ?? []), ...(pb.unknowns ?? [])])];
    // float(N(a)) raises on a complex value in the original: such a side is never numerically equal
    const val = (x: typeof pa, sub: Record<string, number>): number => {
      const v = (vars.length ? x.subs(sub) : x).N();
      const im = v.im;
      if (typeof im === 'number' && im !== 0 && !Number.isNaN(im)) return NaN;
      return typeof v.re === 'number' ? v.re : NaN;
    };
    const points = vars.length ? [0.37, 1.91, -0.83, 2.6] : [0];
    let checked = 0;
    for (const p of points) {
      const sub = Object.fromEntries(vars.map((v, i) => [v, p + 0.11 * i]));
      const x = val(pa, sub);
      const y = val(pb, sub);
      if (Number.isNaN(x) || Number.isNaN(y)) continue;
      if (!isclose(x, y)) return false;
      checked++;
    }
    return checked > 0;
  } catch {
    return false;
  } finally {
    e.popScope();
  }
}

const LIST = /^(\(|\[).+(\)|\])$/;

/** math_equal(prediction, reference) with include_percentage=True, is_close=True. */
export function paperMathEqual(prediction: string, reference: string, depth = 0): boolean {
  if (depth > 5) return false;
  if (prediction.trim().toLowerCase() === reference.trim().toLowerCase()) return true;
  if (['A', 'B', 'C', 'D', 'E'].includes(reference) && choiceClean(prediction) === reference) return true;
  const pd = parseDigits(prediction);
  const rd = parseDigits(reference);
  if (pd !== null && rd !== null) {
    for (const item of [rd / 100, rd, rd * 100]) if (isclose(pd, item)) return true;
  }
  if (prediction === '') return false;
  let ref = reference.trim();
  const pred = prediction.trim();
  if (pred.includes('pmatrix') && !ref.includes('pmatrix')) {
    const groups = ref.match(/\{.*,.*\}/g) ?? [];
    ref = groups.map((g) => `\\begin{pmatrix}${g.replace(/^\{+|\}+$/g, '').replace(/,/g, '\\')}\\end{pmatrix}`).join(', ');
  }
  let ps = pred;
  let rs = ref;
  if ((ps.startsWith('[') && ps.endsWith(']') && !rs.startsWith('(')) || (ps.startsWith('(') && ps.endsWith(')') && !rs.startsWith('['))) {
    ps = ps.replace(/^[[\]()]+|[[\]()]+$/g, '');
    rs = rs.replace(/^[[\]()]+|[[\]()]+$/g, '');
  }
  ps = ps.replace(/[{}()]/g, '');
  rs = rs.replace(/[{}()]/g, '');
  if (ps.toLowerCase() === rs.toLowerCase()) return true;
  if (LIST.test(pred) && LIST.test(ref)) {
    const a = pred.slice(1, -1).split(',');
    const b = ref.slice(1, -1).split(',');
    return a.length === b.length && a.every((x, i) => paperMathEqual(x, b[i], depth + 1));
  }
  const isMat = (x: string) => /^\\begin\{[pb]matrix\}/.test(x) && /\\end\{[pb]matrix\}$/.test(x);
  if (isMat(pred) && isMat(ref)) {
    const rows = (x: string) => x.replace(/^\\begin\{[pb]matrix\}/, '').replace(/\\end\{[pb]matrix\}$/, '').split('\\\\').map((l) => l.trim()).filter(Boolean);
    const ra = rows(pred);
    const rb = rows(ref);
    if (ra.length !== rb.length) return false;
    for (let i = 0; i < ra.length; i++) {
      const ca = ra[i].split('&');
      const cb = rb[i].split('&');
      if (ca.length !== cb.length || !ca.every((x, j) => paperMathEqual(x, cb[j], depth + 1))) return false;
    }
    return true;
  }
  const count = (x: string) => x.split('=').length - 1;
  if (count(pred) === 1 && count(ref) === 1) {
    const f = (x: string) => {
      const [l, r] = x.split('=');
      return `${l.trim()} - (${r.trim()})`;
    };
    return symbolicEqual(f(pred), f(ref)) || symbolicEqual(`-(${f(pred)})`, f(ref));
  }
  if (count(pred) === 1 && pred.split('=')[0].trim().length <= 2 && !ref.includes('=')) {
    return paperMathEqual(pred.split('=')[1], ref, depth + 1);
  }
  if (count(ref) === 1 && ref.split('=')[0].trim().length <= 2 && !pred.includes('=')) {
    return paperMathEqual(pred, ref.split('=')[1], depth + 1);
  }
  return symbolicEqual(pred, ref);
}

/** The paper's verdict on a whole solution against a gold answer (text, or a program's str()). */
export function paperGrade(solution: string, gold: string): boolean {
  return paperMathEqual(paperExtract(solution), paperStrip(gold));
}
