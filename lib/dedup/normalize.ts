// Code normalization for deduplication: two programs that differ only in comments, docstrings,
// blank lines, formatting, quote style or the names of their own variables normalize to the same
// token stream. Identifiers are renamed v0, v1, ... in order of first appearance, except keywords,
// builtins, attributes (`x.append`), and imported modules and names (`math`, `Fraction`).
// String literals equal to a renamed identifier are renamed with it, so `input = {"a": 1}` and
// `def solve(a)` rename together.
import { createHash } from 'node:crypto';
import { tokenize, fieldTokens, stringBody, stripFieldSuffix, PY_KEYWORDS, type Token } from '../codecot/tokenize.ts';

const PY_BUILTINS = new Set(
  (
    'abs aiter all anext any ascii bin bool breakpoint bytearray bytes callable chr classmethod compile complex ' +
    'delattr dict dir divmod enumerate eval exec filter float format frozenset getattr globals hasattr hash help ' +
    'hex id input int isinstance issubclass iter len list locals map max memoryview min next object oct open ord ' +
    'pow print property range repr reversed round set setattr slice sorted staticmethod str sum super tuple type ' +
    'vars zip __import__ __name__ __file__ __doc__ self cls output Exception ValueError TypeError ZeroDivisionError ' +
    'ArithmeticError OverflowError KeyError IndexError StopIteration RecursionError NotImplemented NotImplementedError ' +
    'AssertionError RuntimeError Ellipsis match case'
  ).split(' '),
);

/** The normalized token stream of `code` (structure tokens are `<NL>`, `<IN>`, `<DE>`). */
export function normalizeTokens(code: string): string[] {
  const toks = dropDocstrings(tokenize(code));
  const keep = importedNames(toks);
  const rename = new Map<string, string>();
  const canon = (name: string): string => {
    if (PY_KEYWORDS.has(name) || PY_BUILTINS.has(name) || keep.has(name)) return name;
    let c = rename.get(name);
    if (c === undefined) {
      c = `v${rename.size}`;
      rename.set(name, c);
    }
    return c;
  };
  // First pass: canonical names in order of first appearance (attributes keep their names).
  toks.forEach((t, k) => {
    if (t.type === 'name' && !isAttribute(toks, k)) canon(t.value);
    else if (t.type === 'string') {
      const ft = fieldTokens(t);
      ft.forEach((f, j) => {
        if (f.type === 'name' && !isAttribute(ft, j)) canon(f.value);
      });
    }
  });
  const out: string[] = [];
  toks.forEach((t, k) => {
    switch (t.type) {
      case 'name':
        out.push(isAttribute(toks, k) ? t.value : canon(t.value));
        break;
      case 'number':
        out.push(t.value.replace(/_/g, '').toLowerCase());
        break;
      case 'string':
        out.push(normalizeString(t, rename, canon));
        break;
      case 'op':
        out.push(t.value);
        break;
      case 'newline':
        out.push('<NL>');
        break;
      case 'indent':
        out.push('<IN>');
        break;
      case 'dedent':
        out.push('<DE>');
        break;
      case 'error':
        out.push(t.value);
        break;
      default: // comments and non-logical newlines carry no meaning
        break;
    }
  });
  return out;
}

function normalizeString(t: Token, rename: Map<string, string>, canon: (n: string) => string): string {
  const prefix = (t.prefix ?? '').replace('u', '').split('').sort().join('');
  const body = stringBody(t);
  if (t.fields) {
    // Replacement fields are renamed like code; conversions and format specs (`!r:>10`) stay.
    const skeleton = body.replace(/\{\{|\}\}|\{[^{}]*(?:\{[^{}]*\}[^{}]*)*\}/g, (m) => {
      if (m === '{{' || m === '}}') return m;
      const raw = m.slice(1, -1);
      const expr = stripFieldSuffix(raw);
      const suffix = raw.slice(raw.indexOf(expr) + expr.length).trim();
      const ft = tokenize(expr).filter((x) => x.type === 'name' || x.type === 'number' || x.type === 'string' || x.type === 'op');
      const renamed = ft.map((x, k) => (x.type === 'name' && !isAttribute(ft, k) ? canon(x.value) : x.value)).join(' ');
      return `{${renamed}${suffix}}`;
    });
    return `${prefix}"${skeleton}"`;
  }
  const renamed = rename.get(body);
  return `${prefix}"${renamed ?? body}"`;
}

function isAttribute(toks: Token[], k: number): boolean {
  const prev = toks[k - 1];
  return prev !== undefined && prev.type === 'op' && prev.value === '.';
}

/** Module and name tokens of import statements (`import a.b as c` keeps a and b; the alias c is renamed). */
function importedNames(toks: Token[]): Set<string> {
  const keep = new Set<string>();
  for (let k = 0; k < toks.length; k++) {
    const t = toks[k];
    if (t.type !== 'name' || (t.value !== 'import' && t.value !== 'from')) continue;
    for (let j = k + 1; j < toks.length && toks[j].type !== 'newline'; j++) {
      const x = toks[j];
      if (x.type === 'name' && x.value !== 'import' && x.value !== 'as' && toks[j - 1]?.value !== 'as') keep.add(x.value);
    }
  }
  return keep;
}

/**
 * Drops docstrings: a logical line that is nothing but string literals, directly after the start
 * of the module or an indented block.
 */
function dropDocstrings(toks: Token[]): Token[] {
  const out: Token[] = [];
  let lastSignificant: Token | undefined; // last kept token that is not a comment or NL
  let k = 0;
  while (k < toks.length) {
    const atBlockStart = lastSignificant === undefined || lastSignificant.type === 'indent';
    if (atBlockStart && toks[k].type === 'string') {
      let j = k;
      while (j < toks.length && (toks[j].type === 'string' || toks[j].type === 'comment' || toks[j].type === 'nl')) j++;
      if (j >= toks.length || toks[j].type === 'newline') {
        k = j + 1;
        continue;
      }
    }
    const t = toks[k];
    out.push(t);
    if (t.type !== 'comment' && t.type !== 'nl') lastSignificant = t;
    k++;
  }
  return out;
}

/** sha256 (hex) of the normalized token stream: equal for renamed, reformatted and recommented copies. */
export function exactHash(code: string): string {
  return hashTokens(normalizeTokens(code));
}

export function hashTokens(tokens: string[]): string {
  return createHash('sha256').update(tokens.join('\u0001')).digest('hex');
}
