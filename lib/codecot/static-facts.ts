// Static facts about a Code CoT, read from its tokens: what the filter rules need.
import { tokenize, fieldTokens, stringBody, PY_KEYWORDS, type Token } from './tokenize.ts';

export interface StaticFacts {
  /** Physical lines left after dropping blank, comment-only and import lines (the paper's count). */
  meaningfulLines: number;
  /** Every identifier used in the code (keywords excluded), including inside f-string fields. */
  names: Set<string>;
  /** Identifiers and string-literal contents found outside the module-level `input = {...}` literal. */
  usesOutsideInputLiteral: Set<string>;
  /** Decimal digits of the longest integer literal in the code (0 when there is none). */
  longestIntDigits: number;
  /** Characters that did not tokenize (unterminated strings, stray symbols). */
  errorTokens: number;
}

export function staticFacts(code: string): StaticFacts {
  return factsFromTokens(tokenize(code));
}

export function factsFromTokens(tokens: Token[]): StaticFacts {
  const names = new Set<string>();
  const outside = new Set<string>();
  const literal = inputLiteralSpan(tokens);
  let longestIntDigits = 0;
  let errorTokens = 0;
  tokens.forEach((t, k) => {
    const inLiteral = literal !== null && k >= literal[0] && k <= literal[1];
    if (t.type === 'name' && !PY_KEYWORDS.has(t.value)) {
      names.add(t.value);
      if (!inLiteral) outside.add(t.value);
    } else if (t.type === 'string') {
      for (const f of fieldTokens(t)) {
        if (f.type === 'name' && !PY_KEYWORDS.has(f.value)) {
          names.add(f.value);
          if (!inLiteral) outside.add(f.value);
        }
      }
      // `input["a"]` and `params.get("a")` use the key too.
      if (!inLiteral) outside.add(stringBody(t));
    } else if (t.type === 'number') {
      longestIntDigits = Math.max(longestIntDigits, intLiteralDigits(t.value));
    } else if (t.type === 'error') {
      errorTokens++;
    }
  });
  return { meaningfulLines: meaningfulLines(tokens), names, usesOutsideInputLiteral: outside, longestIntDigits, errorTokens };
}

/** Decimal digits of an integer literal (hex/octal/binary converted by length); 0 for floats. */
export function intLiteralDigits(lit: string): number {
  const s = lit.replace(/_/g, '');
  const base = /^0[xX]/.test(s) ? 16 : /^0[oO]/.test(s) ? 8 : /^0[bB]/.test(s) ? 2 : 10;
  if (base !== 10) return Math.ceil((s.length - 2) * Math.log10(base));
  if (!/^\d+$/.test(s)) return 0;
  return s.replace(/^0+(?=\d)/, '').length;
}

/**
 * The paper's line count: a physical line counts when it holds code that is not an import.
 * Lines of a multi-line string count when they are not blank, as a plain line filter would count them.
 */
function meaningfulLines(tokens: Token[]): number {
  const lines = new Set<number>();
  let stmt: Token[] = [];
  const flush = () => {
    const first = stmt[0];
    const isImport = first !== undefined && first.type === 'name' && (first.value === 'import' || first.value === 'from');
    if (!isImport) {
      for (const t of stmt) {
        if (t.type === 'string' && t.endLine > t.line) {
          t.value.split(/\r\n|\r|\n/).forEach((l, k) => {
            if (l.trim() !== '') lines.add(t.line + k);
          });
        } else {
          for (let l = t.line; l <= t.endLine; l++) lines.add(l);
        }
      }
    }
    stmt = [];
  };
  for (const t of tokens) {
    if (t.type === 'newline') flush();
    else if (t.type === 'name' || t.type === 'number' || t.type === 'string' || t.type === 'op' || t.type === 'error') {
      // `;` separates statements: `import x; y = 1` still has code on its line.
      if (t.type === 'op' && t.value === ';') flush();
      else stmt.push(t);
    }
  }
  flush();
  return lines.size;
}

/**
 * Token index span [start, end] of the dict literal in the first module-level `input = {...}`
 * (or `input: dict = {...}`) assignment, or null when there is none.
 */
export function inputLiteralSpan(tokens: Token[]): [number, number] | null {
  let depth = 0;
  let lineStart = true;
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k];
    if (t.type === 'indent') depth++;
    else if (t.type === 'dedent') depth--;
    if (t.type === 'newline') {
      lineStart = true;
      continue;
    }
    if (t.type === 'indent' || t.type === 'dedent' || t.type === 'nl' || t.type === 'comment') continue;
    const atStart = lineStart;
    lineStart = false;
    if (!(atStart && depth === 0 && t.type === 'name' && t.value === 'input')) continue;
    let j = k + 1;
    if (tokens[j]?.value === ':') {
      // Skip an annotation up to `=`.
      while (j < tokens.length && tokens[j].value !== '=' && tokens[j].type !== 'newline') j++;
    }
    if (tokens[j]?.value !== '=' || tokens[j + 1]?.value !== '{') continue;
    let b = 0;
    for (let e = j + 1; e < tokens.length; e++) {
      if (tokens[e].type !== 'op') continue;
      if (tokens[e].value === '{' || tokens[e].value === '(' || tokens[e].value === '[') b++;
      else if (tokens[e].value === '}' || tokens[e].value === ')' || tokens[e].value === ']') {
        b--;
        if (b === 0) return [j + 1, e];
      }
    }
    return null;
  }
  return null;
}
