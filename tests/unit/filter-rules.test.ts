// Each filter rule with a record that passes it and one that fails it, built as ExecutedRecords
// the way the sandbox reports them (PyValue JSON encoding, see `_enc` in lib/sandbox/child/runner.py).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ExecutedRecord, ExecutionResult, PyValue } from '../../lib/schema.ts';
import { ExecutedRecordSchema } from '../../lib/schema.ts';
import { FilterConfigSchema, type FilterConfigInput } from '../../lib/codecot/filter-config.ts';
import { ALL_RULES, firstFailure, ruleContext, type FilterRule } from '../../lib/codecot/rules.ts';

const BASE_CODE = `import math

def solve(price, count):
    # cost of all items
    subtotal = price * count
    discount = subtotal * 0.1
    total = subtotal - discount
    return round(total, 2)

input = {"price": 12.5, "count": 4}
output = solve(**input)
print(output)
`;

function pyv(json: unknown, repr = JSON.stringify(json), type: string = typeof json): PyValue {
  return { json, repr, str: repr, type };
}
const INPUT = pyv({ price: 12.5, count: 4 }, "{'price': 12.5, 'count': 4}", 'dict');

function result(over: Partial<ExecutionResult> = {}): ExecutionResult {
  return {
    id: 'r1',
    status: 'ok',
    input: INPUT,
    output: pyv(45, '45.0', 'float'),
    outputSource: 'global',
    stdout: '45.0\n',
    stderr: '',
    truncated: false,
    error: null,
    durationMs: 3,
    ...over,
  };
}

function record(over: { code?: string; exec?: Partial<ExecutionResult>; rerun?: Partial<ExecutionResult> | null } = {}): ExecutedRecord {
  const exec = result(over.exec);
  const r = {
    id: 'r1',
    code: over.code ?? BASE_CODE,
    exec,
    ...(over.rerun === null ? {} : { rerun: { ...exec, ...over.rerun } }),
  };
  return ExecutedRecordSchema.parse(r); // the fixtures obey the shared schema
}

const cfg = (c: FilterConfigInput = {}) => FilterConfigSchema.parse(c);
const rule = (name: string): FilterRule => ALL_RULES.find((r) => r.name === name)!;
function check(name: string, rec: ExecutedRecord, c: FilterConfigInput = {}) {
  const conf = cfg(c);
  return rule(name).check(rec, ruleContext(rec, conf));
}

test('the base program passes every rule', () => {
  assert.equal(firstFailure(record(), cfg()), null);
});

test('code_length: code over maxCodeChars is code_too_long', () => {
  assert.equal(check('code_length', record()), null);
  const long = BASE_CODE + '# padding\n'.repeat(700);
  assert.equal(check('code_length', record({ code: long }))?.reason, 'code_too_long');
  assert.equal(check('code_length', record(), { maxCodeChars: 50 })?.reason, 'code_too_long');
});

test('exec_ok: every non-ok status has its own reason', () => {
  assert.equal(check('exec_ok', record()), null);
  const cases: [ExecutionResult['status'], string][] = [
    ['error', 'exec_error'],
    ['timeout', 'timeout'],
    ['memory', 'memory'],
    ['output_limit', 'output_limit'],
    ['missing_module', 'missing_module'],
  ];
  for (const [status, reason] of cases) {
    const v = check('exec_ok', record({ exec: { status, output: null, error: { type: 'E', message: 'boom', module: status === 'missing_module' ? 'numpy' : undefined } } }));
    assert.equal(v?.reason, reason, status);
  }
  const v = check('exec_ok', record({ exec: { status: 'missing_module', error: { type: 'ModuleNotFoundError', message: "No module named 'numpy'", module: 'numpy' } } }));
  assert.match(v!.detail!, /numpy/);
});

test('has_input: a missing, empty or non-dict input is no_input', () => {
  assert.equal(check('has_input', record()), null);
  assert.equal(check('has_input', record({ exec: { input: pyv({ $dict: [[1, 2]] }, '{1: 2}', 'dict') } })), null);
  assert.equal(check('has_input', record({ exec: { input: null } }))?.reason, 'no_input');
  assert.equal(check('has_input', record({ exec: { input: pyv({}, '{}', 'dict') } }))?.reason, 'no_input');
  assert.match(check('has_input', record({ exec: { input: pyv([1, 2], '[1, 2]', 'list') } }))!.detail!, /list/);
});

test('has_output: a missing or blank output is no_output; stdout counts unless disallowed', () => {
  assert.equal(check('has_output', record()), null);
  assert.equal(check('has_output', record({ exec: { output: null } }))?.reason, 'no_output');
  assert.equal(check('has_output', record({ exec: { output: pyv('  ', "'  '", 'str') } }))?.reason, 'no_output');
  const viaStdout = record({ exec: { output: pyv('45.0', "'45.0'", 'str'), outputSource: 'stdout' } });
  assert.equal(check('has_output', viaStdout), null);
  assert.equal(check('has_output', viaStdout, { allowStdoutOutput: false })?.reason, 'no_output');
});

test('huge_int: an integer over maxIntDigits in output, input or code is huge_int', () => {
  const big = '9'.repeat(600);
  assert.equal(check('huge_int', record({ exec: { output: pyv({ $int: big }, big, 'int') } })), null);
  assert.equal(check('huge_int', record({ exec: { output: pyv({ $int_digits: 12_000 }, '<int>', 'int') } }))?.reason, 'huge_int');
  assert.equal(check('huge_int', record({ exec: { output: pyv({ $int: big }, big, 'int') } }), { maxIntDigits: 500 })?.reason, 'huge_int');
  const nested = pyv({ $tuple: [1, { $fraction: ['1', '7'.repeat(501)] }] }, '(..)', 'tuple');
  assert.equal(check('huge_int', record({ exec: { output: nested } }), { maxIntDigits: 500 })?.reason, 'huge_int');
  const input = pyv({ n: { $int_digits: 20_000 } }, '{...}', 'dict');
  assert.match(check('huge_int', record({ exec: { input } }))!.detail!, /input/);
  const codeLit = BASE_CODE + `x = ${'1'.repeat(10_001)}\n`;
  assert.match(check('huge_int', record({ code: codeLit }))!.detail!, /code has an integer literal of 10001 digits/);
  assert.equal(check('huge_int', record({ code: BASE_CODE + `x = ${'1'.repeat(10_000)}\n` })), null);
});

test('answer_type: numbers, fractions, expressions, tuples and short strings pass; None, objects, huge or empty containers fail', () => {
  const ok: PyValue[] = [
    pyv(42, '42', 'int'),
    pyv(2.5, '2.5', 'float'),
    pyv({ $int: '123456789012345678901' }, '123456789012345678901', 'int'),
    pyv({ $fraction: ['3', '4'] }, 'Fraction(3, 4)', 'Fraction'),
    pyv({ $sympy: 'sqrt(2)/2' }, 'sqrt(2)/2', 'Mul'),
    pyv({ $tuple: [1, 2] }, '(1, 2)', 'tuple'),
    pyv('x = 3', "'x = 3'", 'str'),
    pyv(true, 'True', 'bool'),
    pyv({ $complex: [1, 2] }, '(1+2j)', 'complex'),
  ];
  for (const v of ok) assert.equal(check('answer_type', record({ exec: { output: v } })), null, v.repr);
  const bad: [PyValue, RegExp][] = [
    [pyv(null, 'None', 'NoneType'), /None/],
    [pyv({ $object: '<function f at 0x1>' }, '<function f at 0x1>', 'function'), /object/],
    [pyv(Array.from({ length: 1000 }, (_, i) => i), '[' + '0, '.repeat(1000) + ']', 'list'), /repr has/],
    [pyv([], '[]', 'list'), /empty list/],
    [pyv({ $set: [] }, 'set()', 'set'), /empty set/],
    [pyv({ $float: 'nan' }, 'nan', 'float'), /float nan/],
    [pyv('a'.repeat(150), `'${'a'.repeat(150)}'`, 'str'), /string of 150/],
    [pyv({ a: 1 }, "{'a': 1}", 'dict'), /dict/],
    [pyv({ $truncated: true }, '[...]', 'list'), /too large/],
    [pyv(Array.from({ length: 25 }, () => 1), '[' + '1, '.repeat(25) + ']', 'list'), /more than 20 elements/],
  ];
  for (const [v, why] of bad) {
    const verdict = check('answer_type', record({ exec: { output: v } }));
    assert.equal(verdict?.reason, 'bad_answer_type', v.repr.slice(0, 30));
    assert.match(verdict!.detail!, why);
  }
  assert.equal(check('answer_type', record({ exec: { output: pyv({ a: 1 }, "{'a': 1}", 'dict') } }), { allowDict: true }), null);
  assert.equal(check('answer_type', record({ exec: { output: pyv(true, 'True', 'bool') } }), { allowBool: false })?.reason, 'bad_answer_type');
});

test('deterministic: a re-run with a different output or status is nondeterministic', () => {
  assert.equal(check('deterministic', record()), null);
  assert.equal(check('deterministic', record({ rerun: { output: pyv(46, '46.0', 'float') } }))?.reason, 'nondeterministic');
  assert.equal(check('deterministic', record({ rerun: { status: 'timeout', output: null } }))?.reason, 'nondeterministic');
  assert.equal(check('deterministic', record({ rerun: { input: pyv({ price: 1, count: 4 }, "{'price': 1, 'count': 4}", 'dict') } }))?.reason, 'nondeterministic');
  // Without a re-run the rule cannot judge: it passes unless a re-run is required.
  assert.equal(check('deterministic', record({ rerun: null })), null);
  assert.equal(check('deterministic', record({ rerun: null }), { requireRerun: true })?.reason, 'nondeterministic');
});

test('min_lines: blank, comment and import lines do not count', () => {
  assert.equal(check('min_lines', record()), null);
  const short = `import math
from fractions import Fraction
# a comment

def f(a):
    # another comment
    return a * 2

input = {"a": 3}
output = f(**input)
print(output)
`;
  const v = check('min_lines', record({ code: short }));
  assert.equal(v?.reason, 'too_short');
  assert.match(v!.detail!, /^5 meaningful lines/);
  assert.equal(check('min_lines', record({ code: short }), { minLines: 5 }), null);
});

test('input_keys_used: every key of input must be a name (or a subscript string) outside the literal', () => {
  assert.equal(check('input_keys_used', record()), null);
  const unused = BASE_CODE.replace('input = {"price": 12.5, "count": 4}', 'input = {"price": 12.5, "count": 4, "tax": 0.2}');
  const input = pyv({ price: 12.5, count: 4, tax: 0.2 }, '...', 'dict');
  const v = check('input_keys_used', record({ code: unused, exec: { input } }));
  assert.equal(v?.reason, 'unused_input_key');
  assert.equal(v?.detail, 'unused: tax');
  const bySubscript = unused.replace('output = solve(**input)', 'output = solve(input["price"], input["count"]) * (1 + input["tax"])');
  assert.equal(check('input_keys_used', record({ code: bySubscript, exec: { input } })), null);
});

test('rules run in a fixed order and can be switched off one by one', () => {
  const rec = record({ code: 'x = 1\n', exec: { status: 'error', output: null, input: null } });
  assert.equal(firstFailure(rec, cfg())?.reason, 'exec_error');
  assert.equal(firstFailure(rec, cfg({ rules: { exec_ok: false } }))?.reason, 'no_input');
  assert.equal(firstFailure(rec, cfg({ rules: { exec_ok: false, has_input: false, has_output: false, min_lines: false } })), null);
  assert.throws(() => FilterConfigSchema.parse({ rules: { no_such_rule: true } }), /no_such_rule|Unrecognized/);
  assert.throws(() => FilterConfigSchema.parse({ dedup: { numPerm: 100, bands: 16 } }), /multiple of bands/);
});
