// One focused test per rule of answersEqual, each with cases that must pass and cases that must fail.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { answersEqual } from '../../lib/answer/equal.ts';
import type { PyValue } from '../../lib/schema.ts';

const py = (json: unknown, str: string, type: string): PyValue => ({ json, repr: str, str, type });
function eq(pred: string, gold: string | PyValue, reason?: string) {
  const r = answersEqual(pred, gold);
  assert.equal(r.equal, true, `${pred} should equal ${typeof gold === 'string' ? gold : gold.repr} (got ${r.reason})`);
  if (reason) assert.equal(r.reason, reason, `${pred} vs ${typeof gold === 'string' ? gold : gold.repr}`);
}
function ne(pred: string, gold: string | PyValue, reason?: string) {
  const r = answersEqual(pred, gold);
  assert.equal(r.equal, false, `${pred} should NOT equal ${typeof gold === 'string' ? gold : gold.repr} (got ${r.reason})`);
  if (reason) assert.equal(r.reason, reason, `${pred} vs ${typeof gold === 'string' ? gold : gold.repr}`);
}

test('integers: separators, signs, exact comparison', () => {
  eq('1,000', '1000', 'numeric');
  eq('1\\,000', py(1000, '1000', 'int'));
  eq('1 000', py(1000, '1000', 'int'));
  eq('10,\\!080', '10080');
  ne('1', '-1', 'numeric');
  ne('1000001', '1000000', 'numeric'); // within 1e-4 relative, but two integers compare exactly
  eq('12345678901234567890123', py({ $int: '12345678901234567890123' }, '12345678901234567890123', 'int'));
  ne('12345678901234567890124', py({ $int: '12345678901234567890123' }, '12345678901234567890123', 'int'));
});

test('decimals and floats: relative tolerance 1e-4', () => {
  eq('3', py(3.0000000001, '3.0000000001', 'float'));
  eq('0.3333', '\\frac{1}{3}');
  ne('0.33', '\\frac{1}{3}');
  eq('72.0', '72');
  eq('0', py(1e-17, '1e-17', 'float'), 'numeric');
  ne('0', py(0.001, '0.001', 'float'));
  eq('\\infty', py({ $float: 'inf' }, 'inf', 'float'));
  ne('-\\infty', py({ $float: 'inf' }, 'inf', 'float'));
  ne('1', py({ $float: 'nan' }, 'nan', 'float'));
});

test('fractions, mixed numbers, Python Fractions', () => {
  const f34 = py({ $fraction: ['3', '4'] }, '3/4', 'Fraction');
  for (const p of ['\\frac{3}{4}', '\\dfrac{3}{4}', '\\tfrac34', '3/4', '0.75', 'Fraction(3, 4)']) eq(p, f34);
  ne('\\frac{4}{3}', f34);
  eq('2\\frac{1}{2}', '2.5');
  eq('\\frac12', '0.5');
  ne('2\\frac{1}{2}', '\\frac{2}{2}');
  eq('3/4', 'Fraction(3, 4)');
});

test('huge and tiny exact values: 1/2004! vs 1/2006!', () => {
  ne('\\frac{1}{2004!}', '\\frac{1}{2006!}', 'numeric');
  eq('\\frac{2005 \\cdot 2006}{2006!}', '\\frac{1}{2004!}', 'numeric');
  eq('2^{100}', py({ $int: '1267650600228229401496703205376' }, '1267650600228229401496703205376', 'int'));
  ne('2^{100}+1', py({ $int: '1267650600228229401496703205376' }, '1267650600228229401496703205376', 'int'));
  ne('1', py({ $int_digits: 12000 }, '', 'int'), 'gold_too_large');
});

test('radicals, pi, e, logs and SymPy outputs', () => {
  eq('\\frac{\\sqrt{2}}{2}', py({ $sympy: 'sqrt(2)/2' }, 'sqrt(2)/2', 'Mul'));
  eq('\\frac{1}{\\sqrt2}', 'sqrt(2)/2');
  ne('\\sqrt{2}', 'sqrt(2)/2');
  eq('\\sqrt{117}', '3\\sqrt{13}');
  eq('3.14159', '\\pi');
  ne('3.14', '\\pi');
  eq('e^2', py({ $sympy: 'exp(2)' }, 'exp(2)', 'exp'));
  eq('\\sqrt[3]{2}', py({ $sympy: '2**(1/3)' }, '2**(1/3)', 'Pow'));
});

test('scientific notation', () => {
  eq('1.25\\times10^{3}', '1250');
  eq('1.25e3', py(1250, '1250', 'int'));
  eq('6.72\\times10^{-5}', '.0000672');
  ne('1.25\\times 10^{4}', '1250');
});

test('percentages are strict: 10% may be 10 or 0.1, a bare 10 is never 0.1', () => {
  eq('10\\%', '10');
  eq('10\\%', '0.1', 'percent');
  eq('0.1', '10\\%', 'percent');
  eq('10\\%', py(0.1, '0.1', 'float'), 'percent');
  ne('10', '0.1', 'numeric');
  ne('10', py(0.1, '0.1', 'float'));
  ne('0.1', '10');
  ne('50\\%', py(0.25, '0.25', 'float'));
});

test('degrees, money, units and \\text are stripped', () => {
  eq('30^\\circ', '30');
  eq('30^{\\circ}', py(30, '30', 'int'));
  eq('30°', '30^\\circ');
  eq('\\$18', '18');
  eq('18 \\text{ dollars}', '18');
  eq('5 cm', '5');
  eq('864 \\mbox{ inches}^2', '864');
  ne('50 cm', '5');
  ne('2', '2x', 'symbolic'); // a variable is not a unit
});

test('complex numbers', () => {
  eq('6-5i', py({ $complex: [6, -5] }, '(6-5j)', 'complex'));
  eq('-5i+6', '6 - 5i');
  eq('(6-5j)', py({ $complex: [6, -5] }, '(6-5j)', 'complex'));
  ne('6+5i', py({ $complex: [6, -5] }, '(6-5j)', 'complex'));
  eq('\\sqrt{-4}', '2i');
});

test('tuples are ordered, sets and bare lists are not', () => {
  ne('(1,2)', '(2,1)', 'tuple_ordered');
  eq('(1,2)', py({ $tuple: [1, 2] }, '(1, 2)', 'tuple'), 'exact_string');
  eq('(1.0, \\frac{4}{2})', py({ $tuple: [1, 2] }, '(1, 2)', 'tuple'), 'tuple_ordered');
  ne('(2,1)', py({ $tuple: [1, 2] }, '(1, 2)', 'tuple'));
  eq('(2,1)', py({ $set: [1, 2] }, '{1, 2}', 'set'), 'set_unordered');
  eq('\\{2,1\\}', '{1, 2}');
  eq('-2, 1', '1,-2', 'set_unordered');
  ne('1, 2', '1,-2');
  ne('(1,2,3)', py({ $tuple: [1, 2] }, '(1, 2)', 'tuple'), 'length');
  eq('\\left( 3, \\frac{\\pi}{2} \\right)', py({ $tuple: [3, 1.5707963267948966] }, '(3, 1.5707963267948966)', 'tuple'));
  eq('1+\\sqrt{19}, 1-\\sqrt{19}', '1 \\pm \\sqrt{19}');
  ne('1+\\sqrt{19}', '1 \\pm \\sqrt{19}');
  eq('\\begin{pmatrix} 1/5 \\\\ -18/5 \\end{pmatrix}', py({ $tuple: [{ $fraction: ['1', '5'] }, { $fraction: ['-18', '5'] }] }, '', 'tuple'));
  eq('72', py([72], '[72]', 'list'), 'numeric'); // a one-element program output
});

test('intervals: brackets matter between written answers', () => {
  eq('(3, 4]', '(3,4]');
  ne('(3,4)', '(3,4]', 'interval');
  ne('[2,\\infty)', '(2,\\infty)');
  eq('x \\in [-2, 7]', '[-2,7]');
  eq('(0, 9)\\cup(9, 36)', '(0,9) \\cup (9,36)');
  ne('(0,36)', '(0,9) \\cup (9,36)');
});

test('symbolic expressions by random-point evaluation', () => {
  eq('x^2+2x+1', '(x+1)^2', 'symbolic');
  ne('x^2+2x+2', '(x+1)^2', 'symbolic');
  eq('ab+2a+5b+10', '(a+5)(b+2)');
  eq('6r^2-4r-24', py({ $sympy: '6*r**2 - 4*r - 24' }, '6*r**2 - 4*r - 24', 'Add'));
  ne('6r^2+4r-24', py({ $sympy: '6*r**2 - 4*r - 24' }, '6*r**2 - 4*r - 24', 'Add'));
  eq('\\frac{\\cos x}{\\sin x}', '\\cot x');
});

test('equations: same line or plane up to a non-zero factor', () => {
  eq('-5x+7y-11z-4=0', '5x - 7y + 11z + 4 = 0', 'equation');
  ne('5x - 7y + 11z - 4 = 0', '5x - 7y + 11z + 4 = 0', 'equation');
  eq('5', 'x=5');
  eq('y=3+2x', 'y = 2x + 3');
});

test('booleans and text answers', () => {
  eq('True', py(true, 'True', 'bool'));
  eq('True', '\\text{true}');
  ne('False', py(true, 'True', 'bool'), 'bool');
  eq('\\text{Evelyn}', 'Evelyn');
  eq('C', '\\text{(C)}');
  ne('(B)', '\\text{(C)}', 'choice');
  eq('52_{8}', '52_8');
  ne('25_8', '52_8');
});

test('bad, empty, oversized and explosive input never throws and stays bounded', () => {
  ne('', '5', 'empty');
  ne('5', { nope: 1 } as unknown as PyValue, 'unparseable');
  ne('1'.repeat(5000), '1', 'too_long');
  ne('10000000!', '1', 'limit');
  ne('2^{2^{100}}', '1', 'limit');
  ne('(2^{20})!', '1', 'limit');
  eq('\\binom{10}{3}', '120', 'numeric'); // (10-3)! is computed, then allowed
  ne('\\sum_{k=1}^{10^{9}} k', '1', 'unsupported');
  ne('\\frac{', '1');
  // unbalanced text made the engine's parser backtrack for 19 s before the balance screen
  ne('\\begin{pmatrix}sqrt(x\\cup\\begin{pmatrix}\\frac]-]Fraction(\\text{cm}/Fraction(yFraction(', '1', 'unparseable');
  ne('Fraction(Fraction(Fraction(', '1', 'unparseable');
  const r = answersEqual('x^2', '(x+1)^2', { timeoutMs: -1 });
  assert.deepEqual(r, { equal: false, reason: 'timeout' }, 'an exhausted budget reports timeout');
});

test('symbols declared by one comparison do not leak into the next', () => {
  eq('(a+5)(b+2)', 'ab+2a+5b+10');
  eq('a_1', 'a_1');
  eq('a', 'a');
});
