// A cheap syntax check of a Code CoT before it costs a sandbox run: bad tokens (unterminated
// strings, stray characters, inconsistent dedents), unbalanced brackets, a block opener without an
// indented body, an indent nobody opened. The sandbox's real parser catches the rest.
import { tokenize } from '../codecot/tokenize.ts';

const PAIRS: Record<string, string> = { ')': '(', ']': '[', '}': '{' };

/** A short description of the first syntax problem found, or null when the code looks parseable. */
export function syntaxProblem(code: string): string | null {
  const toks = tokenize(code).filter((t) => t.type !== 'comment' && t.type !== 'nl');
  const stack: { value: string; line: number }[] = [];
  let prev: (typeof toks)[number] | undefined;
  let lastOfLogicalLine: (typeof toks)[number] | undefined;
  for (const t of toks) {
    if (t.type === 'error') return `line ${t.line}: invalid syntax near ${JSON.stringify(t.value.slice(0, 20))}`;
    if (t.type === 'op') {
      if (t.value === '(' || t.value === '[' || t.value === '{') stack.push({ value: t.value, line: t.line });
      else if (PAIRS[t.value]) {
        const open = stack.pop();
        if (!open || open.value !== PAIRS[t.value]) return `line ${t.line}: unmatched '${t.value}'`;
      }
    }
    if (t.type === 'indent' && !(lastOfLogicalLine?.type === 'op' && lastOfLogicalLine.value === ':')) {
      return `line ${t.line}: unexpected indent`;
    }
    if (t.type === 'newline') lastOfLogicalLine = prev;
    else if (prev?.type === 'newline' && t.type !== 'indent' && lastOfLogicalLine?.type === 'op' && lastOfLogicalLine.value === ':') {
      return `line ${t.line}: expected an indented block after line ${lastOfLogicalLine.line}`;
    }
    if (t.type !== 'newline' && t.type !== 'indent' && t.type !== 'dedent') lastOfLogicalLine = undefined;
    prev = t;
  }
  if (stack.length) return `line ${stack[stack.length - 1].line}: '${stack[stack.length - 1].value}' was never closed`;
  if (prev && lastOfLogicalLine?.type === 'op' && lastOfLogicalLine.value === ':') return 'expected an indented block at the end of the code';
  if (prev?.type === 'op' && prev.value === ':') return 'expected an indented block at the end of the code';
  return null;
}
