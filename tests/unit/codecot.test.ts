import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tokenize } from '../../lib/codecot/tokenize.ts';
import { extractCodeBlock, looksLikePython } from '../../lib/codecot/extract.ts';
import { staticFacts, intLiteralDigits } from '../../lib/codecot/static-facts.ts';

const kinds = (src: string) => tokenize(src).map((t) => `${t.type}:${t.value}`);

test('tokenizer: strings with prefixes, triple quotes, escapes and f-string fields', () => {
  const toks = tokenize(`a = rb'x\\'y' + """multi\nline "quoted" """ + f"{b!r:>{w}} {{lit}} {c=}"\n`);
  const strs = toks.filter((t) => t.type === 'string');
  assert.deepEqual(strs.map((t) => t.prefix), ['rb', '', 'f']);
  assert.equal(strs[1].line, 1);
  assert.equal(strs[1].endLine, 2);
  assert.deepEqual(strs[2].fields, ['b', 'c']);
  assert.equal(toks.filter((t) => t.type === 'error').length, 0);
});

test('tokenizer: numbers, operators, comments, and logical lines inside brackets', () => {
  assert.deepEqual(kinds('x **= 1_000.5e-3j  # note\n'), ['name:x', 'op:**=', 'number:1_000.5e-3j', 'comment:# note', 'newline:\n']);
  assert.deepEqual(kinds('0xFF .5 1. 7'), ['number:0xFF', 'number:.5', 'number:1.', 'number:7', 'newline:']);
  // A newline inside brackets is not the end of the logical line; a backslash joins lines.
  const t = kinds('f(1,\n  2)\ny = 1 + \\\n 2\n');
  assert.deepEqual(t.filter((k) => k.startsWith('newline')).length, 2);
  assert.ok(t.includes('nl:\n'));
});

test('tokenizer: indentation produces indent/dedent, and bad input becomes error tokens, never an exception', () => {
  const t = tokenize('def f():\n    if x:\n        y\n    z\nw\n').map((x) => x.type);
  assert.equal(t.filter((x) => x === 'indent').length, 2);
  assert.equal(t.filter((x) => x === 'dedent').length, 2);
  const bad = tokenize('x = "unterminated\ny = $ ? 1\n');
  assert.ok(bad.filter((x) => x.type === 'error').length >= 2);
  assert.ok(bad.some((x) => x.type === 'name' && x.value === 'y'), 'tokenizing goes on after an error');
});

test('extractCodeBlock: python fence, plain fence, bare code, and none', () => {
  const reply = 'Here is the program:\n\n```python\nx = 1\noutput = x + 1\nprint(output)\n```\n\nIt prints 2.';
  assert.equal(extractCodeBlock(reply), 'x = 1\noutput = x + 1\nprint(output)');
  assert.equal(extractCodeBlock('Sure.\n```\ndef f():\n    return 1\n```'), 'def f():\n    return 1');
  // Several python blocks: the one that assigns output wins over a usage example.
  const two = '```python\nprint(solve(3))\n```\nand\n```py\ndef solve(n):\n    return n\noutput = solve(3)\n```';
  assert.match(extractCodeBlock(two)!, /^def solve/);
  // A reply cut off at max tokens: the open fence runs to the end.
  assert.equal(extractCodeBlock('```python\nx = 1\ny = 2'), 'x = 1\ny = 2');
  assert.equal(extractCodeBlock('x = 3\noutput = x * 2\nprint(output)'), 'x = 3\noutput = x * 2\nprint(output)\n');
  assert.equal(extractCodeBlock('The answer is 42 because we add two numbers.'), null);
  assert.equal(extractCodeBlock("I can't write that program."), null);
  assert.equal(extractCodeBlock('```json\n{"a": 1}\n```'), null);
  assert.equal(extractCodeBlock(''), null);
  assert.equal(looksLikePython('total = 5 apples'), false);
});

test('static facts: meaningful lines, names, input-literal uses and the longest integer', () => {
  const code = `import math
from fractions import Fraction  # comment

def solve(a, b):
    """Add two numbers.

    Returns their sum."""
    # step
    s = a + 123456789
    return f"{s + b}"

input = {"a": 1, "b": 2, "c": 3}
output = solve(**input)
print(output)
`;
  const f = staticFacts(code);
  // def, 2 non-blank docstring lines, s =, return, input, output, print
  assert.equal(f.meaningfulLines, 8);
  assert.ok(f.names.has('b') && f.names.has('s') && f.names.has('math'));
  assert.ok(!f.names.has('def'), 'keywords are not names');
  assert.ok(f.usesOutsideInputLiteral.has('b'), 'b is used inside an f-string field');
  assert.ok(!f.usesOutsideInputLiteral.has('c'), 'c appears only inside the input literal');
  assert.equal(f.longestIntDigits, 9);
  assert.equal(intLiteralDigits('1_000'), 4);
  assert.equal(intLiteralDigits('1.5e10'), 0);
  assert.equal(intLiteralDigits('0x' + 'f'.repeat(10)), 13);
});

test('tokenizer and normalizer survive random Python-ish garbage', async () => {
  const { normalizeTokens } = await import('../../lib/dedup/normalize.ts');
  const alphabet = ['a', 'b1', ' ', '    ', '\n', '\t', '"', "'", '"""', 'f"', '{', '}', '(', ')', '[', ']', '#', '\\', '0x', '1.5e', '=', ':', 'def ', 'import ', '.', ',', 'é', '\r\n'];
  let s = 12345;
  const rand = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
  for (let k = 0; k < 1500; k++) {
    const src = Array.from({ length: 1 + Math.floor(rand() * 60) }, () => alphabet[Math.floor(rand() * alphabet.length)]).join('');
    const toks = tokenize(src);
    // Every non-whitespace character ends up in some token: nothing is silently dropped.
    const covered = toks.map((t) => t.value).join('');
    for (const ch of src.replace(/[\s\\]/g, '')) assert.ok(covered.includes(ch), `lost ${JSON.stringify(ch)} of ${JSON.stringify(src)}`);
    normalizeTokens(src);
  }
});
