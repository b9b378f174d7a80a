// Random answer-shaped text (balanced and unbalanced) must never throw and must always return a
// verdict with a reason. The engine's LaTeX parser once took 19 s on such input; see cas.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { answersEqual } from '../../lib/answer/equal.ts';
import { extractFinalAnswer } from '../../lib/answer/final.ts';

let seed = 12345;
const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
const pick = <T,>(a: T[]): T => a[Math.floor(rnd() * a.length)];
const TOKS = ['1', '2', '0', 'x', 'y', '\\frac', '{', '}', '(', ')', '[', ']', '\\{', '\\}', ',', '+', '-', '^', '\\sqrt',
  '\\pi', 'i', 'e', '!', '\\%', '.', '=', '\\text{cm}', ' ', '\\pm', '\\cup', '\\infty', '\\boxed{', '\\left(', '\\right)',
  '/', '**', 'sqrt(', 'Fraction(', '\\\\', '&', '\\begin{pmatrix}', '\\end{pmatrix}', '10^{', '99999', '\\times', '^\\circ', '$', '\\binom'];
const ATOMS = ['1', '2', 'x', 'ab', 'i', 'e', '\\pi', '99999', '3.5', '\\infty', 'n'];
function balanced(d: number): string {
  if (d <= 0 || rnd() < 0.3) return pick(ATOMS);
  const r = rnd();
  if (r < 0.2) return `\\frac{${balanced(d - 1)}}{${balanced(d - 1)}}`;
  if (r < 0.3) return `\\sqrt{${balanced(d - 1)}}`;
  if (r < 0.45) return `(${balanced(d - 1)})`;
  if (r < 0.5) return `\\{${balanced(d - 1)}, ${balanced(d - 1)}\\}`;
  if (r < 0.55) return `${pick(ATOMS)}^{${balanced(d - 1)}}`;
  if (r < 0.6) return `\\binom{${balanced(d - 1)}}{${balanced(d - 1)}}`;
  return balanced(d - 1) + pick(['+', '-', '', '/', ',', '=', '\\cdot', '!', '\\pm']) + balanced(d - 1);
}

const KNOWN = new Set(['exact_string', 'numeric', 'percent', 'symbolic', 'equation', 'bool', 'text', 'tuple_ordered',
  'set_unordered', 'interval', 'shape', 'length', 'type_mismatch', 'unparseable', 'unsupported', 'limit', 'too_long',
  'timeout', 'empty', 'choice', 'decimal_comma']);
const RULES = new Set(['boxed', 'gsm8k', 'answer_is', 'last_math', 'whole_text', 'last_number', 'ambiguous', 'none']);

test('random answer text never throws and always gives a verdict', () => {
  for (let i = 0; i < 400; i++) {
    const a = i % 2 ? balanced(5) : Array.from({ length: 1 + Math.floor(rnd() * 20) }, () => pick(TOKS)).join('');
    const b = rnd() < 0.3 ? a : i % 2 ? balanced(5) : Array.from({ length: 1 + Math.floor(rnd() * 20) }, () => pick(TOKS)).join('');
    const r = answersEqual(a, b);
    assert.equal(typeof r.equal, 'boolean', `${a} vs ${b}`);
    assert.ok(KNOWN.has(r.reason), `unknown reason ${r.reason} for ${a} vs ${b}`);
    assert.equal(answersEqual(b, a).equal, r.equal, `text-vs-text equality is symmetric: ${a} vs ${b}`);
    const x = extractFinalAnswer(a);
    assert.ok(RULES.has(x.rule), `unknown rule ${x.rule}`);
    assert.ok((x.answer === null) === (x.rule === 'none' || x.rule === 'ambiguous'), `${a}: an answer exactly when a rule found one`);
  }
});
