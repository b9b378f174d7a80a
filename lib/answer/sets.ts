// Rewrites of set-like answers into the written forms parseStructure reads, so that every way of
// writing the same set meets on one shape:
// - SymPy's printing: Interval(0, 1), Interval.Lopen(a, b), Union(...), FiniteSet(1, 2), EmptySet,
//   Reals, Matrix([[1, 2], [3, 4]]);
// - inequalities in one variable: `x < 3` -> (-\infty, 3), `1 \leq x < 3` -> [1, 3),
//   `x < 1 or x > 2` -> (-\infty, 1) \cup (2, \infty);
// - \mathbb{R} -> (-\infty, \infty), \emptyset -> \{\}.
// Each function returns the rewritten text, or null when the answer is not of its kind.
import { splitTopLevel } from './structure.ts';

/** Splits at matches of `re` (anchored with ^) outside brackets. */
export function splitTopLevelRe(s: string, re: RegExp): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\' && (s[i + 1] === '{' || s[i + 1] === '}')) {
      depth += s[i + 1] === '{' ? 1 : -1;
      i++;
      continue;
    }
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') depth--;
    else if (depth === 0) {
      const m = re.exec(s.slice(i));
      // a word separator must start at a word boundary: "or" in "for" is not one
      if (m && m[0].length > 0 && !(/^[a-zA-Z]/.test(m[0]) && /[a-zA-Z\\]/.test(s[i - 1] ?? ''))) {
        parts.push(s.slice(start, i));
        start = i + m[0].length;
        i = start - 1;
      }
    }
  }
  parts.push(s.slice(start));
  return parts.map((p) => p.trim());
}

const INF = '\\infty';

function sympyBound(s: string): string {
  const t = s.trim();
  if (t === 'oo') return INF;
  if (t === '-oo') return `-${INF}`;
  return t;
}

/** SymPy's printing of sets and matrices as LaTeX-like text, or null. */
export function sympySetText(src: string): string | null {
  const t = src.trim();
  if (t === 'EmptySet' || t === 'EmptySet()' || t === 'set()') return '\\{\\}';
  if (t === 'Reals' || t === 'S.Reals') return `(-${INF}, ${INF})`;
  const union = /^Union\((.*)\)$/s.exec(t);
  if (union) {
    const parts = splitTopLevel(union[1], ',').map(sympySetText);
    if (parts.length < 2 || parts.some((p) => p === null)) return null;
    return parts.join(' \\cup ');
  }
  const fin = /^FiniteSet\((.*)\)$/s.exec(t);
  if (fin) return `\\{${splitTopLevel(fin[1], ',').join(', ')}\\}`;
  const iv = /^Interval(?:\.(open|Lopen|Ropen))?\((.*)\)$/s.exec(t);
  if (iv) {
    const parts = splitTopLevel(iv[2], ',');
    // Interval(a, b, True, False): the flags say left_open, right_open
    if (parts.length !== 2 && parts.length !== 4) return null;
    const kind = iv[1];
    let lo = kind === 'open' || kind === 'Lopen';
    let ro = kind === 'open' || kind === 'Ropen';
    if (parts.length === 4) {
      lo = parts[2] === 'True';
      ro = parts[3] === 'True';
    }
    const a = sympyBound(parts[0]);
    const b = sympyBound(parts[1]);
    const open = lo || a === `-${INF}` ? '(' : '[';
    const close = ro || b === INF ? ')' : ']';
    return `${open}${a}, ${b}${close}`;
  }
  const mat = /^(?:Immutable)?Matrix\(\s*(\[.*\])\s*\)$/s.exec(t);
  if (mat) return matrixText(mat[1]);
  return null;
}

/** A Python nested list `[[1, 2], [3, 4]]` (or a flat `[1, 2]`, a column) as a pmatrix. */
export function matrixText(list: string): string | null {
  const t = list.trim();
  if (!t.startsWith('[') || !t.endsWith(']')) return null;
  const rows = splitTopLevel(t.slice(1, -1), ',');
  if (rows.every((r) => r.startsWith('[') && r.endsWith(']'))) {
    const cells = rows.map((r) => splitTopLevel(r.slice(1, -1), ','));
    return `\\begin{pmatrix}${cells.map((r) => r.join(' & ')).join(' \\\\ ')}\\end{pmatrix}`;
  }
  return `\\begin{pmatrix}${rows.join(' \\\\ ')}\\end{pmatrix}`;
}

// relation operators after cleanAnswer (\le -> \leq, \ge -> \geq)
const REL = /^(?:\\leq|\\geq|\\lt|\\gt|\\leqslant|\\geqslant|<=|>=|<|>|≤|≥)/;
type Rel = '<' | '<=' | '>' | '>=';

function relOf(op: string): Rel {
  if (op === '<' || op === '\\lt') return '<';
  if (op === '>' || op === '\\gt') return '>';
  if (op === '\\leq' || op === '<=' || op === '≤' || op === '\\leqslant') return '<=';
  return '>=';
}

/** Splits at top-level relation operators: ["1", "<", "x", "\\leq", "3"]. */
function splitRelations(s: string): string[] | null {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') depth--;
    if (depth !== 0) continue;
    const m = REL.exec(s.slice(i));
    if (m) {
      out.push(s.slice(start, i).trim(), m[0]);
      i += m[0].length - 1;
      start = i + 1;
    }
  }
  out.push(s.slice(start).trim());
  return out.length >= 3 && out.every((p) => p !== '') ? out : null;
}

const VAR = /^\\?[a-zA-Z](?:_\{?\w+\}?)?$/;

/** One inequality chain in one variable as an interval, or null. */
function oneInequality(s: string): string | null {
  const p = splitRelations(s);
  if (!p) return null;
  if (p.length === 3) {
    const [a, op, b] = p;
    let r = relOf(op);
    let bound: string;
    if (VAR.test(a) && !VAR.test(b)) bound = b;
    else if (VAR.test(b) && !VAR.test(a)) {
      bound = a;
      r = r === '<' ? '>' : r === '>' ? '<' : r === '<=' ? '>=' : '<=';
    } else return null;
    if (r === '<') return `(-${INF}, ${bound})`;
    if (r === '<=') return `(-${INF}, ${bound}]`;
    if (r === '>') return `(${bound}, ${INF})`;
    return `[${bound}, ${INF})`;
  }
  if (p.length === 5 && VAR.test(p[2]) && !VAR.test(p[0]) && !VAR.test(p[4])) {
    const r1 = relOf(p[1]);
    const r2 = relOf(p[3]);
    const up1 = r1 === '<' || r1 === '<=';
    const up2 = r2 === '<' || r2 === '<=';
    if (up1 !== up2) return null;
    const [lo, hi, loOpen, hiOpen] = up1 ? [p[0], p[4], r1 === '<', r2 === '<'] : [p[4], p[0], r2 === '>', r1 === '>'];
    return `${loOpen ? '(' : '['}${lo}, ${hi}${hiOpen ? ')' : ']'}`;
  }
  return null;
}

const OR = /^\s*(?:\\text\{\s*or\s*\}|\\(?:lor|vee)(?![a-zA-Z])|or(?![a-zA-Z])|\\cup(?![a-zA-Z]))\s*/;

/** An inequality (or several joined by "or") as intervals, or null. */
export function inequalityText(s: string): string | null {
  const parts = splitTopLevelRe(s, OR);
  const ivs = parts.map(oneInequality);
  if (ivs.some((x) => x === null)) return null;
  return ivs.join(' \\cup ');
}

/** \mathbb{R}, \emptyset, set-builder \{x \mid x > 5\} and the like as intervals/sets, or null. */
export function namedSetText(s: string): string | null {
  const t = s.trim();
  const builder = /^\\\{\s*\\?[a-zA-Z]\s*(?:\\mid|\||:|\\colon)\s*(.+)\\\}$/s.exec(t);
  if (builder) {
    const cond = builder[1].trim();
    return inequalityText(cond) ?? (/^\\?[a-zA-Z]\s*\\in\s*/.test(cond) ? cond.replace(/^\\?[a-zA-Z]\s*\\in\s*/, '') : null);
  }
  if (/^\\mathbb\s*\{?R\}?$|^\\R$|^\(-\\infty,\s*\+?\\infty\)$/.test(t)) return `(-${INF}, ${INF})`;
  if (/^\\(?:emptyset|varnothing)$|^\\\{\s*\\\}$|^\{\s*\}$|^\\text\{\s*none\s*\}$/.test(t)) return '\\{\\}';
  return null;
}
