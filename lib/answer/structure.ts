// Splits a cleaned answer into its shape: a scalar, or a sequence (tuple, list, set, interval,
// union of intervals, matrix/vector, `a \pm b`, or a bare comma list) of parts.
import { isThousands } from './normalize.ts';
import type { Scalar } from './scalar.ts';
import { inequalityText, namedSetText, splitTopLevelRe, sympySetText } from './sets.ts';

export type SeqKind = 'tuple' | 'list' | 'set' | 'interval' | 'bare' | 'union' | 'matrix' | 'pm';
export type Node =
  | { k: 'scalar'; s: string; val?: Scalar }
  | { k: 'seq'; kind: SeqKind; items: Node[]; open: string; close: string; loose?: boolean }
  | { k: 'opaque'; why: string };

export const MAX_ITEMS = 200;

const OPEN = new Set(['(', '[', '{']);
const CLOSE = new Set([')', ']', '}']);

/** Splits at `sep` where bracket depth is 0 (\{ \} count as brackets; \left/\right already gone). */
export function splitTopLevel(s: string, sep: string | RegExp): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\') {
      if (s[i + 1] === '{' || s[i + 1] === '}') {
        depth += s[i + 1] === '{' ? 1 : -1;
        i++;
        continue;
      }
      if (depth === 0 && typeof sep !== 'string') {
        const m = sep.exec(s.slice(i));
        if (m && m.index === 0) {
          parts.push(s.slice(start, i));
          start = i + m[0].length;
          i = start - 1;
        }
      }
      continue;
    }
    if (OPEN.has(c)) depth++;
    else if (CLOSE.has(c)) depth--;
    else if (depth === 0 && typeof sep === 'string' && s.startsWith(sep, i)) {
      parts.push(s.slice(start, i));
      start = i + sep.length;
      i = start - 1;
    }
  }
  parts.push(s.slice(start));
  return parts.map((p) => p.trim());
}

/** Index of the bracket closing the one at 0 (any bracket type closes any: intervals mix them). */
function closingIndex(s: string): number {
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\') {
      if (s[i + 1] === '{' || s[i + 1] === '}') {
        depth += s[i + 1] === '{' ? 1 : -1;
        if (depth === 0) return i + 1;
        i++;
      }
      continue;
    }
    if (OPEN.has(c)) depth++;
    else if (CLOSE.has(c)) {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

function seq(kind: SeqKind, parts: string[], open: string, close: string, loose = false): Node {
  if (parts.length > MAX_ITEMS) return { k: 'opaque', why: 'limit' };
  let items = parts.map((p) => parseStructure(p));
  // {1 \pm \sqrt5, -2} is the set {1+\sqrt5, 1-\sqrt5, -2}
  if (kind === 'set' || kind === 'bare') items = items.flatMap((n) => (n.k === 'seq' && n.kind === 'pm' ? n.items : [n]));
  return { k: 'seq', kind, items, open, close, loose };
}

// "x = 1 or x = 2", "19, 46, and 82", "2 \text{ and } 3": the words join a list of solutions
const LIST_WORD = /^\s*,?\s*(?:\\text\{\s*,?\s*(?:or|and)\s*\}|(?:or|and)(?![a-zA-Z]))\s*/;
// a labelled answer: (p, q) = (3, 2), D = (0, 1), S = \{1, 2\}
const LABELS = /^\(?\s*\\?[a-zA-Z](?:_\{?\w+\}?)?(?:\s*,\s*\\?[a-zA-Z](?:_\{?\w+\}?)?)*\s*\)?$/;

/** The shape of a cleaned answer. */
export function parseStructure(s: string, depth = 0): Node {
  const t = s.trim();
  if (depth < 4) {
    const rewritten = sympySetText(t) ?? namedSetText(t) ?? inequalityText(t);
    if (rewritten !== null && rewritten !== t) return parseStructure(rewritten, depth + 1);
    const eq = splitTopLevel(t, '=');
    if (eq.length === 2 && LABELS.test(eq[0]) && /^[([]|^\\\{|^\\begin|,/.test(eq[1]) && !/=/.test(eq[1])) {
      return parseStructure(eq[1], depth + 1);
    }
    const words = splitTopLevelRe(t, LIST_WORD).filter((p) => p !== '');
    if (words.length >= 2 && words.every((p) => /[\d=\\]/.test(p) && !/^[A-Za-z]{2,}/.test(p))) {
      // solutions joined by "or"/"and" are a set: their order carries no meaning
      return seq('set', splitTopLevel(words.join(', '), ','), '{', '}');
    }
  }
  const mat = /^\\begin\{([pbBvV]?matrix|array)\}(?:\{[^}]*\})?([\s\S]*)\\end\{\1\}$/.exec(t);
  if (mat) {
    const rows = mat[2].split(/\\\\/).map((r) => r.trim()).filter((r) => r.length > 0);
    const cells = rows.map((r) => r.split('&').map((c) => c.trim()));
    if (cells.every((r) => r.length === 1)) return seq('matrix', cells.map((r) => r[0]), '(', ')', true);
    if (cells.length > MAX_ITEMS) return { k: 'opaque', why: 'limit' };
    return {
      k: 'seq', kind: 'matrix', open: '(', close: ')', loose: true,
      items: cells.map((r) => seq('matrix', r, '(', ')', true)),
    };
  }
  const union = splitTopLevel(t, /^\\cup(?![a-zA-Z])/);
  if (union.length > 1) return seq('union', union, '', '', false);
  if (t.startsWith('\\{') && t.endsWith('\\}') && closingIndex(t) === t.length - 1) {
    const inner = t.slice(2, -2).trim();
    return seq('set', inner === '' ? [] : splitTopLevel(inner, ','), '{', '}');
  }
  // Python's str of a set: {1, 2}
  if (t[0] === '{' && t.endsWith('}') && closingIndex(t) === t.length - 1) {
    const parts = splitTopLevel(t.slice(1, -1), ',');
    if (parts.length >= 2) return seq('set', parts, '{', '}');
  }
  if ((t[0] === '(' || t[0] === '[') && (t.endsWith(')') || t.endsWith(']')) && closingIndex(t) === t.length - 1) {
    const parts = splitTopLevel(t.slice(1, -1), ',');
    if (parts.length >= 2) {
      const open = t[0];
      const close = t[t.length - 1];
      const kind: SeqKind = (open === '(') !== (close === ')') ? 'interval' : open === '(' ? 'tuple' : 'list';
      return seq(kind, parts, open, close);
    }
    if (t[0] === '[' && parts.length === 1 && parts[0] !== '') return seq('list', parts, '[', ']');
  }
  if (!isThousands(t)) {
    const parts = splitTopLevel(t, ',');
    const named = parts.map((x) => /^\\?([a-zA-Z]+(?:_\{?\w+\}?)?)\s*=(?!=)/.exec(x));
    if (parts.length >= 2 && named.every((m) => m !== null) && new Set(named.map((m) => m![1])).size === 1) {
      // "x = 1, x = 2": one unknown, several solutions (a set)
      return seq('set', parts, '{', '}');
    }
    if (parts.length >= 2 && named.every((m) => m !== null)) {
      // "x=3, y=2" is the ordered tuple (x, y), whatever order it was written in
      const order = parts.map((x, i) => ({ x, name: named[i]![1] })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      return seq('tuple', order.map((o) => o.x), '(', ')', true);
    }
    if (parts.length >= 2) return seq('bare', parts, '', '');
  }
  const pm = splitTopLevel(t, /^\\(?:pm|mp)(?![a-zA-Z])/);
  if (pm.length === 2) {
    const [a, b] = pm;
    const pre = a === '' ? '' : a;
    return seq('pm', [`${pre}+(${b})`, `${pre}-(${b})`], '', '');
  }
  // one \pm inside a larger expression: \frac{-3 \pm \sqrt{17}}{2} is two values
  if ((t.match(/\\pm(?![a-zA-Z])/g) ?? []).length === 1 && !t.includes('\\mp')) {
    return seq('pm', [t.replace(/\\pm(?![a-zA-Z])/, '+'), t.replace(/\\pm(?![a-zA-Z])/, '-')], '', '');
  }
  return { k: 'scalar', s: t };
}
