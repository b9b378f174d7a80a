// The final answer of a WHOLE solution, and the rule that found it. Order of preference (the first
// rule that finds something decides):
//   1. boxed        the last \boxed{...} / \fbox{...} (nested braces; `\boxed 5` too). Two boxes
//                   whose answers differ make the solution `ambiguous` (no answer), unless the
//                   caller asks for the last one;
//   2. gsm8k        the last `#### N`;
//   3. answer_is    the last "the (final) answer is ..." / "Answer: ..." statement;
//   4. last_math    the last display or inline math (\[ \], $$ $$, \( \), $ $) in the prose; of an
//                   equation chain `3 \times 4 = 12` its last side;
//   5. whole_text   a text that is itself a bare answer (one short line, not a sentence: `(1, 2)`,
//                   `\frac{3}{4}`), so an already-extracted answer is not cut to its last number;
//   6. last_number  the last number in the prose (also when it comes after the last math: a
//                   number stated after the last formula is the later statement).
// Rules 4-6 skip fenced code blocks. Text after the last `</think>` is used when there is any.
import { answersEqual } from './equal.ts';
import { readBraceGroup } from './extract.ts';
import { canonicalText, cleanAnswer } from './normalize.ts';

export type ExtractRule = 'boxed' | 'gsm8k' | 'answer_is' | 'last_math' | 'whole_text' | 'last_number' | 'ambiguous' | 'none';

export type Extraction = {
  /** The answer text, or null (no answer found, or two different boxed answers). */
  answer: string | null;
  /** The rule that decided: which one found the answer, `ambiguous`, or `none`. */
  rule: ExtractRule;
  /** For `ambiguous`: the boxed answers that differ from the last one (up to 10), then the last. */
  candidates?: string[];
};

export type ExtractOptions = {
  /** Two different boxed answers: `reject` (default) gives rule `ambiguous`; `last` takes the last. */
  ambiguous?: 'reject' | 'last';
};

/** Rules that mean the solution STATES its answer (the pipeline keeps only those; see DESIGN.md). */
export const STATED_RULES: ReadonlySet<ExtractRule> = new Set(['boxed', 'gsm8k', 'answer_is']);

const MAX_SCAN = 200_000; // only the tail of longer texts is read

/**
 * For each `{` its matching `}` (or -1), in one pass: a backslash escapes the next character, as
 * in readBraceGroup. Reading boxes through this table keeps a text full of unclosed `\boxed{`
 * linear (reading each group from its start took 23 s on 200 KB of them).
 */
function braceMatches(s: string): Map<number, number> {
  const match = new Map<number, number>();
  const stack: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\') i++;
    else if (c === '{') stack.push(i);
    else if (c === '}' && stack.length > 0) match.set(stack.pop()!, i);
  }
  return match;
}

/** Every top-level \boxed{} / \fbox{} content in order (a box inside a box is part of the outer one). */
export function allBoxed(s: string): string[] {
  const out: string[] = [];
  const re = /\\(?:boxed|fbox)(?![a-zA-Z])/g;
  let coveredTo = -1;
  let match: Map<number, number> | null = null;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    if (m.index < coveredTo) continue;
    let i = m.index + m[0].length;
    while (s[i] === ' ' && s[i + 1] === ' ') i++;
    if (s[i] === '{') {
      match ??= braceMatches(s);
      const close = match.get(i);
      if (close === undefined) continue;
      coveredTo = close + 1;
      const inner = unwrapBoxes(s.slice(i + 1, close).trim());
      if (inner !== '') out.push(inner);
    } else if (s[i] === ' ') {
      const rest = s.slice(i + 1).match(/^[^$\n]*/)![0].trim().replace(/[.。]\s*$/, '');
      if (rest) out.push(rest);
    }
  }
  return out;
}

/** \boxed{\boxed{5}} -> 5 */
function unwrapBoxes(t: string): string {
  let s = t;
  for (let guard = 0; guard < 5; guard++) {
    const m = /^\\(?:boxed|fbox)\s*\{/.exec(s);
    if (!m) break;
    const g = readBraceGroup(s, m[0].length - 1);
    if (!g || g.end !== s.length) break;
    s = g.inner.trim();
  }
  return s;
}

const MAX_BOX_COMPARISONS = 8;
const BOX_CHECK_MS = 1000;

/**
 * The boxes whose answer differs from the last one's, followed by the last (empty when all agree).
 * Boxes are grouped by canonical text first; at most MAX_BOX_COMPARISONS groups are compared
 * with the checker (more different texts than that is ambiguous whatever they say).
 */
function differingAnswers(boxes: string[]): string[] {
  const last = boxes[boxes.length - 1];
  const lastKey = canonicalText(cleanAnswer(last));
  const groups = new Map<string, string>();
  for (const b of boxes) {
    if (b === last) continue;
    const k = canonicalText(cleanAnswer(b));
    if (k !== lastKey && !groups.has(k)) groups.set(k, b);
  }
  if (groups.size > MAX_BOX_COMPARISONS) return [...[...groups.values()].slice(0, 10), last];
  // a time budget for the whole check: a box not compared in time counts as different
  const deadline = performance.now() + BOX_CHECK_MS;
  const differ = [...groups.values()].filter((b) => {
    const left = deadline - performance.now();
    return left <= 0 || !answersEqual(b, last, { timeoutMs: Math.min(300, left) }).equal;
  });
  return differ.length === 0 ? [] : [...differ.slice(0, 10), last];
}

/** Text with fenced code blocks removed (numbers in code are not the answer). */
function prose(s: string): string {
  return s.replace(/```[\s\S]*?(?:```|$)/g, '\n');
}

// "The final answer is", "the answer is", "Answer:", "**Final Answer:**" (last one wins)
const ANSWER_IS = /(?:\b(?:the\s+)?(?:final\s+)?answer\b(?:\s+to\s+(?:the|this)\s+(?:question|problem))?\s*(?:\*\*)?\s*(?:is\s*:?|:|=))(?:\s*\*\*)?[ \t]*([^\n]*)/gi;

/** The first math span of a short clause, or the clause cut at its sentence end. */
function answerClause(clause: string): string | null {
  let t = clause.trim().replace(/^\*\*|\*\*$/g, '').trim();
  const spans = mathSpans(t);
  if (spans.length > 0) return lastSideOfChain(spans[0].t);
  t = t.replace(/\s*I hope it is correct\.?\s*$/i, '');
  // cut at a sentence end: ". " followed by a capital or the end (not a decimal point)
  const end = /\.(?:\s+[A-Z]|\s*$)/.exec(t);
  if (end) t = t.slice(0, end.index);
  t = t.replace(/\*\*/g, '').trim().replace(/[.;,]\s*$/, '').trim();
  if (t === '') return null;
  // "that Tom is 24 years old": a worded clause with numbers in it gives its last number
  if (/^[A-Za-z]{2,}\s/.test(t) && /\d/.test(t) && !/^(?:yes|no|true|false)\b/i.test(t)) {
    const n = lastNumberIn(t);
    if (n !== null) return n;
  }
  return t;
}

function lastAnswerIs(s: string): string | null {
  let last: string | null = null;
  ANSWER_IS.lastIndex = 0;
  for (let m = ANSWER_IS.exec(s); m; m = ANSWER_IS.exec(s)) {
    let clause = m[1];
    // "The answer is:\n\n$$ 42 $$": the statement continues on the next non-blank line
    if (clause.trim() === '' || /^\*+$/.test(clause.trim())) {
      const next = /^\s*\n\s*([^\n]+)/.exec(s.slice(m.index + m[0].length));
      if (next) clause = next[1];
      const disp = /^\s*(?:\$\$|\\\[)/.test(clause) ? displayAt(s, m.index + m[0].length) : null;
      if (disp !== null) clause = `$${disp}$`;
    }
    const a = answerClause(clause);
    if (a) last = a;
  }
  return last;
}

/** The first display math ($$..$$ or \[..\]) starting after `from` (multi-line), or null. */
function displayAt(s: string, from: number): string | null {
  // a bounded window and indexOf only: many unclosed "answer is:\n\[" must stay linear
  const w = s.slice(from, from + 4000);
  const d = w.indexOf('$$');
  const b = w.indexOf('\\[');
  const [open, close] = d >= 0 && (b < 0 || d < b) ? [d, '$$'] : b >= 0 ? [b, '\\]'] : [-1, ''];
  if (open < 0) return null;
  const end = w.indexOf(close, open + 2);
  return end < 0 ? null : w.slice(open + 2, end).trim();
}

/**
 * Math spans in order: $$..$$ and \[..\] (multi-line), \(..\) and $..$ (one line). A linear scan:
 * the next closing delimiter of each kind is looked up once and reused, so unclosed openers cost
 * nothing (a lazy regex took 6 s on 150 KB of `\[`).
 */
function mathSpans(s: string): { t: string; end: number }[] {
  const out: { t: string; end: number }[] = [];
  const cache = new Map<string, number>();
  const next = (tok: string, from: number): number => {
    const c = cache.get(tok);
    if (c !== undefined && (c === -1 || c >= from)) return c;
    const j = s.indexOf(tok, from);
    cache.set(tok, j);
    return j;
  };
  const push = (from: number, to: number, end: number) => {
    const t = s.slice(from, to).trim();
    if (t !== '' && looksLikeMath(t)) out.push({ t, end });
  };
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (c === '\\') {
      const d = s[i + 1];
      if (d === '[') {
        const j = next('\\]', i + 2);
        if (j >= 0) {
          push(i + 2, j, j + 2);
          i = j + 2;
          continue;
        }
      } else if (d === '(') {
        const j = next('\\)', i + 2);
        const nl = next('\n', i + 2);
        if (j >= 0 && (nl < 0 || j < nl)) {
          push(i + 2, j, j + 2);
          i = j + 2;
          continue;
        }
      }
      i += 2; // an escaped character, \$ included
      continue;
    }
    if (c === '$' && s[i + 1] === '$') {
      const j = next('$$', i + 2);
      if (j < 0) break; // no closing $$ anywhere after: nothing more to pair
      push(i + 2, j, j + 2);
      i = j + 2;
      continue;
    }
    if (c === '$' && !/\d/.test(s[i - 1] ?? '')) {
      let j = next('$', i + 1);
      while (j >= 0 && s[j - 1] === '\\') j = s.indexOf('$', j + 1);
      const nl = next('\n', i + 1);
      if (j >= 0 && (nl < 0 || j < nl) && s[j + 1] !== '$') {
        push(i + 1, j, j + 1);
        i = j + 1;
        continue;
      }
    }
    i++;
  }
  return out;
}

/** Not prose caught between two currency dollars ("$18 for the shirt and $"). */
function looksLikeMath(t: string): boolean {
  const bare = t.replace(/\\text\{[^{}]*\}/g, ' ').replace(/\\[a-zA-Z]+/g, ' ');
  return !/[A-Za-z]{2,}\s+[A-Za-z]{2,}/.test(bare) && !/\s$/.test(t);
}

/** `3 \times 4 = 12` -> `12`; `a = b = 7` -> `7`; `x = 5` and `y = 2x + 3` stay as they are. */
function lastSideOfChain(t: string): string {
  // a list of solutions or labelled values is not a chain: `x = -2 \text{ or } x = 3`, `p = 3, q = 2`
  if (/\\text|\b(?:or|and)\b|,/.test(t)) return t;
  const parts = splitEquals(t);
  if (parts.length >= 3) return parts[parts.length - 1];
  if (parts.length === 2 && !/[A-Za-z]/.test(parts[0].replace(/\\(?:times|cdot|div|frac|dfrac|sqrt|left|right)/g, ''))) return parts[1];
  return t;
}

/** Splits at `=` outside brackets (not `\leq`, `==`, `\neq`). */
function splitEquals(t: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < t.length; i++) {
    const c = t[i];
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') depth--;
    else if (c === '=' && depth === 0 && t[i + 1] !== '=' && t[i - 1] !== '=' && t[i - 1] !== '<' && t[i - 1] !== '>' && t[i - 1] !== '!') {
      parts.push(t.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(t.slice(start).trim());
  return parts.filter((p) => p !== '').length === parts.length ? parts : [t];
}

// thousands (1,234,567), a decimal comma that cannot be thousands (2,74), decimals, a/b, percent
const NUMBER = /(?<![\w.,])-?(?:\d{1,3}(?:,\d{3})+(?!\d)|\d+,\d{1,2}(?![\d,])|\d+)(?:\.\d+)?(?:\s*\/\s*\d+)?%?|(?<![\w.])-?\.\d+%?/g;

function lastNumberIn(s: string): string | null {
  let last: string | null = null;
  NUMBER.lastIndex = 0;
  for (let m = NUMBER.exec(s); m; m = NUMBER.exec(s)) last = m[0];
  if (last === null) return null;
  return /^-?\d{1,3}(,\d{3})+/.test(last) ? last.replace(/,/g, '') : last.replace(/\s+/g, '');
}

/** The last GSM8K `#### 1,800` (a number after ####; a markdown `#### Step 1` header is not one). */
function lastGsm8k(s: string): string | null {
  let last: string | null = null;
  const re = /^[ \t]*####[ \t]*\\?\$?[ \t]*(-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:\/\d+)?%?|-?\.\d+)(?![\w])[^\n]*$/gm;
  for (let m = re.exec(s); m; m = re.exec(s)) last = m[1].replace(/,/g, '');
  return last;
}

function afterThinking(text: string): string {
  const i = text.lastIndexOf('</think>');
  if (i < 0) return text;
  const tail = text.slice(i + '</think>'.length);
  return tail.trim() === '' ? text : tail;
}

/** The final answer of a whole solution and the rule that found it. Never throws. */
export function extractFinalAnswer(text: unknown, opts: ExtractOptions = {}): Extraction {
  if (typeof text !== 'string' || text.trim() === '') return { answer: null, rule: 'none' };
  let s = afterThinking(text);
  if (s.length > MAX_SCAN) s = s.slice(-MAX_SCAN);

  const boxes = allBoxed(s);
  if (boxes.length > 0) {
    const last = boxes[boxes.length - 1];
    if (boxes.length > 1 && opts.ambiguous !== 'last') {
      const differ = differingAnswers(boxes);
      if (differ.length > 0) return { answer: null, rule: 'ambiguous', candidates: differ };
    }
    return { answer: last, rule: 'boxed' };
  }
  const hashes = lastGsm8k(s);
  if (hashes !== null) return { answer: hashes, rule: 'gsm8k' };
  const stated = lastAnswerIs(s);
  if (stated !== null) return { answer: stated, rule: 'answer_is' };
  const p = prose(s);
  const spans = mathSpans(p);
  if (spans.length > 0) {
    // a number in the prose AFTER the last math is the later statement: "... \(3 \cdot 2 = 6\). She has 14 left."
    const last = spans[spans.length - 1];
    const after = lastNumberIn(p.slice(last.end));
    if (after === null) return { answer: lastSideOfChain(last.t), rule: 'last_math' };
    return { answer: after, rule: 'last_number' };
  }
  const bare = p.trim();
  if (bare.length <= 120 && !bare.includes('\n') && !/[A-Za-z]{2,}[ \t]+[A-Za-z]{2,}/.test(bare.replace(/\\[a-zA-Z]+(\{[^{}]*\})?/g, ' ')) && !/[:;?!]\s|\.\s+\S/.test(bare)) {
    return { answer: bare, rule: 'whole_text' };
  }
  const n = lastNumberIn(p);
  if (n !== null) return { answer: n, rule: 'last_number' };
  return { answer: null, rule: 'none' };
}

/** The answer a solution STATES (boxed, ####, "the answer is"), or null: what the pipeline keeps. */
export function extractAnswer(text: unknown): string | null {
  const e = extractFinalAnswer(text);
  return STATED_RULES.has(e.rule) ? e.answer : null;
}
