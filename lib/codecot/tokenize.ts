// A small Python tokenizer: enough for static facts (names, literals, line structure) and for the
// normalization behind deduplication. It never throws: text Python would refuse becomes an
// `error` token and tokenizing goes on, because generated code is hostile and often malformed.
//
// Differences from CPython's tokenize that do not matter here: no ENCODING/ENDMARKER tokens,
// f-string replacement fields are reported on the string token (`fields`) instead of as
// FSTRING_MIDDLE tokens, and tabs count as 8 columns for indentation.

export type TokenType = 'name' | 'number' | 'string' | 'op' | 'comment' | 'newline' | 'nl' | 'indent' | 'dedent' | 'error';

export interface Token {
  type: TokenType;
  value: string;
  /** 1-based line of the first character; `endLine` of the last (strings may span lines). */
  line: number;
  endLine: number;
  /** For strings: the lowercased prefix (`f`, `rb`, ...), and for f/t-strings the source of each replacement field. */
  prefix?: string;
  fields?: string[];
}

export const PY_KEYWORDS: ReadonlySet<string> = new Set([
  'False', 'None', 'True', 'and', 'as', 'assert', 'async', 'await', 'break', 'class', 'continue',
  'def', 'del', 'elif', 'else', 'except', 'finally', 'for', 'from', 'global', 'if', 'import', 'in',
  'is', 'lambda', 'nonlocal', 'not', 'or', 'pass', 'raise', 'return', 'try', 'while', 'with', 'yield',
]);

// Longest first, so that a greedy scan picks `**=` before `**` before `*`.
const OPERATORS = [
  '**=', '//=', '>>=', '<<=', '...', '->', ':=', '**', '//', '==', '!=', '<=', '>=', '<<', '>>',
  '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=', '@=', '<>',
  '+', '-', '*', '/', '%', '@', '&', '|', '^', '~', '<', '>', '(', ')', '[', ']', '{', '}', ',',
  ':', '.', ';', '=', '!',
];
const OPEN = new Set(['(', '[', '{']);
const CLOSE = new Set([')', ']', '}']);

const NAME_RE = /[\p{L}\p{Nl}_][\p{L}\p{Nl}\p{Mn}\p{Mc}\p{Nd}\p{Pc}]*/uy;
const NUMBER_RE =
  /(?:0[xX](?:_?[0-9a-fA-F])+|0[oO](?:_?[0-7])+|0[bB](?:_?[01])+|(?:(?:\d(?:_?\d)*)?\.\d(?:_?\d)*|\d(?:_?\d)*\.?)(?:[eE][+-]?\d(?:_?\d)*)?[jJ]?)/y;
const STRING_PREFIX_RE = /(?:[rR][bBfFtT]?|[bBfFtT][rR]?|[uU])?(?:'''|"""|'|")/y;

export function tokenize(src: string): Token[] {
  const out: Token[] = [];
  const indents: number[] = [0];
  let depth = 0; // bracket nesting: newlines inside brackets are not logical line ends
  let i = 0;
  let line = 1;
  let atLineStart = true;
  let lineHasCode = false; // the current logical line produced a non-comment token
  const n = src.length;

  const push = (type: TokenType, value: string, startLine: number, extra?: Partial<Token>) => {
    out.push({ type, value, line: startLine, endLine: line, ...extra });
    if (type !== 'comment' && type !== 'nl') lineHasCode = true;
  };

  while (i < n) {
    // Indentation at the start of a physical line outside brackets.
    if (atLineStart && depth === 0) {
      let col = 0;
      let j = i;
      while (j < n && (src[j] === ' ' || src[j] === '\t' || src[j] === '\f')) {
        col = src[j] === '\t' ? (Math.floor(col / 8) + 1) * 8 : src[j] === '\f' ? 0 : col + 1;
        j++;
      }
      atLineStart = false;
      const c = src[j];
      const blank = j >= n || c === '\n' || c === '\r' || c === '#' || (c === '\\' && (src[j + 1] === '\n' || src[j + 1] === '\r'));
      if (!blank && !lineHasCode) {
        if (col > indents[indents.length - 1]) {
          indents.push(col);
          out.push({ type: 'indent', value: '', line, endLine: line });
        } else {
          while (col < indents[indents.length - 1]) {
            indents.pop();
            out.push({ type: 'dedent', value: '', line, endLine: line });
          }
          if (col !== indents[indents.length - 1]) out.push({ type: 'error', value: 'inconsistent dedent', line, endLine: line });
        }
      }
      i = j;
      continue;
    }
    const c = src[i];
    if (c === ' ' || c === '\t' || c === '\f') {
      i++;
      continue;
    }
    if (c === '\r' || c === '\n') {
      const len = c === '\r' && src[i + 1] === '\n' ? 2 : 1;
      if (depth === 0 && lineHasCode) {
        out.push({ type: 'newline', value: '\n', line, endLine: line });
        lineHasCode = false;
      } else {
        out.push({ type: 'nl', value: '\n', line, endLine: line });
      }
      i += len;
      line++;
      atLineStart = true;
      continue;
    }
    if (c === '\\' && (src[i + 1] === '\n' || src[i + 1] === '\r')) {
      // Explicit line joining: the logical line continues.
      i += src[i + 1] === '\r' && src[i + 2] === '\n' ? 3 : 2;
      line++;
      continue;
    }
    if (c === '#') {
      let j = i;
      while (j < n && src[j] !== '\n' && src[j] !== '\r') j++;
      out.push({ type: 'comment', value: src.slice(i, j), line, endLine: line });
      i = j;
      continue;
    }
    STRING_PREFIX_RE.lastIndex = i;
    const sp = STRING_PREFIX_RE.exec(src);
    if (sp) {
      const startLine = line;
      const r = scanString(src, i, sp[0]);
      for (let k = i; k < r.end; k++) if (src[k] === '\n' || (src[k] === '\r' && src[k + 1] !== '\n')) line++;
      const value = src.slice(i, r.end);
      i = r.end;
      if (r.error) push('error', value, startLine);
      else push('string', value, startLine, { prefix: r.prefix, ...(r.fields ? { fields: r.fields } : {}) });
      continue;
    }
    NUMBER_RE.lastIndex = i;
    const nm = /[0-9.]/.test(c) ? NUMBER_RE.exec(src) : null;
    if (nm && nm[0] !== '.' && nm[0].length > 0) {
      push('number', nm[0], line);
      i += nm[0].length;
      continue;
    }
    NAME_RE.lastIndex = i;
    const name = NAME_RE.exec(src);
    if (name) {
      push('name', name[0], line);
      i += name[0].length;
      continue;
    }
    const op = OPERATORS.find((o) => src.startsWith(o, i));
    if (op) {
      if (OPEN.has(op)) depth++;
      else if (CLOSE.has(op)) depth = Math.max(0, depth - 1);
      push('op', op, line);
      i += op.length;
      continue;
    }
    push('error', c, line);
    i++;
  }
  if (lineHasCode) out.push({ type: 'newline', value: '', line, endLine: line });
  while (indents.length > 1) {
    indents.pop();
    out.push({ type: 'dedent', value: '', line, endLine: line });
  }
  return out;
}

interface ScannedString {
  end: number;
  prefix: string;
  error: boolean;
  fields?: string[];
}

function scanString(src: string, start: number, opening: string): ScannedString {
  const quoteLen = opening.endsWith('"""') || opening.endsWith("'''") ? 3 : 1;
  const quote = opening.slice(opening.length - quoteLen);
  const prefix = opening.slice(0, opening.length - quoteLen).toLowerCase();
  const raw = prefix.includes('r');
  const formatted = prefix.includes('f') || prefix.includes('t');
  const fields: string[] = [];
  let i = start + opening.length;
  const n = src.length;
  while (i < n) {
    const c = src[i];
    if (c === '\\') {
      // In raw strings a backslash still keeps the next quote from closing the string.
      i += 2;
      continue;
    }
    if (quoteLen === 1 && (c === '\n' || c === '\r')) return { end: i, prefix, error: true };
    if (src.startsWith(quote, i)) {
      return { end: i + quoteLen, prefix, error: false, ...(formatted ? { fields } : {}) };
    }
    if (formatted && c === '{') {
      if (src[i + 1] === '{') {
        i += 2;
        continue;
      }
      const f = scanField(src, i + 1, quote);
      if (f < 0) return { end: n, prefix, error: true };
      fields.push(stripFieldSuffix(src.slice(i + 1, f)));
      i = f + 1;
      continue;
    }
    void raw;
    i++;
  }
  return { end: n, prefix, error: true };
}

/** Index of the `}` closing a replacement field that starts at `i`, or -1. Nested strings and braces are skipped. */
function scanField(src: string, i: number, quote: string): number {
  let depth = 0;
  while (i < src.length) {
    const c = src[i];
    if (src.startsWith(quote, i) && quote.length === 3) return -1;
    if (c === "'" || c === '"') {
      if (c === quote) return -1; // the outer string ends inside the field (before 3.12 style nesting)
      const close = src.indexOf(c, i + 1);
      if (close < 0) return -1;
      i = close + 1;
      continue;
    }
    if (c === '{' || c === '[' || c === '(') depth++;
    else if (c === ']' || c === ')') depth--;
    else if (c === '}') {
      if (depth === 0) return i;
      depth--;
    }
    i++;
  }
  return -1;
}

/** Drops `!r`, `:fmt` and a trailing `=` from an f-string field, leaving the expression. */
export function stripFieldSuffix(field: string): string {
  let depth = 0;
  for (let k = 0; k < field.length; k++) {
    const c = field[k];
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') depth--;
    else if (depth === 0 && (c === '!' || c === ':') && field[k + 1] !== '=') {
      if (c === '!' && field[k + 1] === '=') continue;
      return field.slice(0, k).replace(/=\s*$/, '');
    }
  }
  return field.replace(/=\s*$/, '');
}

/** Tokens of a string literal's f-string fields, tokenized as expressions. */
export function fieldTokens(tok: Token): Token[] {
  if (!tok.fields) return [];
  return tok.fields.flatMap((f) => tokenize(f).filter((t) => t.type !== 'newline' && t.type !== 'nl' && t.type !== 'indent' && t.type !== 'dedent'));
}

/** The text of a string literal without prefix and quotes (escapes are left as written). */
export function stringBody(tok: Token): string {
  const v = tok.value.slice((tok.prefix ?? '').length);
  const q = v.startsWith('"""') || v.startsWith("'''") ? 3 : 1;
  return v.slice(q, v.length - q);
}
