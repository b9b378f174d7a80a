// Pull the Python program out of an LLM's reply: a ```python fence, a plain ``` fence, or a reply
// that is bare code. Returns null when the text holds no program.
import { tokenize, PY_KEYWORDS } from './tokenize.ts';

interface Fence {
  lang: string;
  body: string;
}

// A fence opens at the start of a line with ``` or ~~~ (optionally indented) and an info string.
const FENCE_RE = /^[ \t]{0,3}(`{3,}|~{3,})[ \t]*([^\n`]*)\n([\s\S]*?)(?:^[ \t]{0,3}\1[ \t]*$|(?![\s\S]))/gm;

function fences(text: string): Fence[] {
  const out: Fence[] = [];
  for (const m of text.replace(/\r\n?/g, '\n').matchAll(FENCE_RE)) {
    out.push({ lang: m[2].trim().split(/\s+/)[0]?.toLowerCase() ?? '', body: m[3].replace(/\n$/, '') });
  }
  return out;
}

const PY_LANGS = new Set(['python', 'py', 'python3', 'py3']);
const ASSIGNS_OUTPUT = /^output\s*(?::[^=\n]*)?=(?!=)/m;

/**
 * The program in `text`. Among python-labelled fences (else unlabelled ones) the first that
 * assigns `output` wins, else the first. A fence left open (a reply cut at max tokens) runs to the
 * end of the text. Without fences, the whole text is taken when it reads as Python.
 */
export function extractCodeBlock(text: string): string | null {
  const all = fences(text);
  const py = all.filter((f) => PY_LANGS.has(f.lang));
  const plain = all.filter((f) => f.lang === '');
  const candidates = (py.length ? py : plain).filter((f) => f.body.trim() !== '');
  if (candidates.length) {
    const pick = candidates.find((f) => ASSIGNS_OUTPUT.test(f.body)) ?? candidates[0];
    return pick.body;
  }
  if (all.length) return null; // fenced, but in some other language
  const bare = text.replace(/\r\n?/g, '\n').trim();
  return looksLikePython(bare) ? bare + '\n' : null;
}

/**
 * True when unfenced text reads as Python: it tokenizes cleanly, it never puts two plain words or
 * a number and a word side by side (prose does, Python cannot), and it has a statement.
 */
export function looksLikePython(text: string): boolean {
  if (text === '') return false;
  const toks = tokenize(text).filter((t) => t.type !== 'comment' && t.type !== 'nl');
  if (toks.some((t) => t.type === 'error')) return false;
  const soft = new Set(['match', 'case', 'type', '_']);
  let statements = false;
  for (let k = 0; k < toks.length; k++) {
    const a = toks[k];
    const b = toks[k + 1];
    if (a.type === 'op' && (a.value === '=' || a.value === '(')) statements = true;
    if (a.type === 'name' && (a.value === 'def' || a.value === 'import' || a.value === 'class')) statements = true;
    if (!b) continue;
    const plainA = (a.type === 'name' && !PY_KEYWORDS.has(a.value) && !soft.has(a.value)) || a.type === 'number';
    const plainB = b.type === 'name' && !PY_KEYWORDS.has(b.value);
    if (plainA && plainB) return false;
  }
  return statements;
}
