// Values cross the sandbox boundary faithfully (the `_enc` encoder in lib/sandbox/child/runner.py): Fractions, huge ints, floats
// (nan/inf), tuples, sets, non-str-keyed dicts, SymPy objects, nesting limits; the Caco globals
// `input`/`output`, and stdout standing in for a missing `output`. Plus the execute stage.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSandboxPool, type SandboxPool } from '../../lib/sandbox/index.ts';
import { ExecutionResultSchema } from '../../lib/schema.ts';
import { executeShard } from '../../lib/stages/execute.ts';

let pool: SandboxPool;
before(async () => {
  pool = await createSandboxPool({ workers: 1, timeoutMs: 5000 });
});
after(async () => {
  await pool?.close();
});

async function value(expr: string, prelude = '') {
  const r = await pool.run({ id: 'v', code: `${prelude}\noutput = ${expr}` });
  assert.equal(r.status, 'ok', JSON.stringify(r.error));
  ExecutionResultSchema.parse(r);
  return r.output!;
}

describe('sandbox value encoding', () => {
  test('scalars: ints (small, beyond 2^53, over 10,000 digits), floats, bool, None, str', async () => {
    assert.deepEqual((await value('2**53')).json, 2 ** 53);
    assert.deepEqual((await value('-(2**64)')).json, { $int: '-18446744073709551616' });
    const huge = await value('10**20000');
    assert.deepEqual(huge.json, { $int_digits: 20001 });
    const mid = await value('7**6000'); // 5,071 digits: beyond str()'s default limit, below ours
    assert.match((mid.json as { $int: string }).$int, /^\d{5071}$/);
    assert.equal(mid.repr.length, 5071);
    assert.deepEqual((await value('[0.1, float("nan"), float("inf"), -float("inf")]')).json, [0.1, { $float: 'nan' }, { $float: 'inf' }, { $float: '-inf' }]);
    const v = await value('(True, None, "héllo")');
    assert.deepEqual(v.json, { $tuple: [true, null, 'héllo'] });
    assert.equal(v.repr, "(True, None, 'héllo')");
    assert.equal(v.type, 'tuple');
  });

  test('Fraction, Decimal, complex, sets and dicts keep their meaning', async () => {
    const f = await value('Fraction(-7, 3)', 'from fractions import Fraction');
    assert.deepEqual(f.json, { $fraction: ['-7', '3'] });
    assert.equal(f.repr, 'Fraction(-7, 3)');
    assert.equal(f.str, '-7/3');
    assert.equal(f.type, 'Fraction');
    assert.deepEqual((await value('Decimal("1.10")', 'from decimal import Decimal')).json, { $decimal: '1.10' });
    assert.deepEqual((await value('complex(1, -2)')).json, { $complex: [1, -2] });
    assert.deepEqual((await value('{3, 1, 2}')).json, { $set: [1, 2, 3] });
    assert.deepEqual((await value('{"a": 1, "b": [2]}')).json, { a: 1, b: [2] });
    assert.deepEqual((await value('{(1, 2): "x"}')).json, { $dict: [[{ $tuple: [1, 2] }, 'x']] });
  });

  test('SymPy objects carry their class name and text', async () => {
    const v = await value('sympy.Rational(2, 6) + sympy.sqrt(2)', 'import sympy');
    assert.deepEqual(v.json, { $sympy: '1/3 + sqrt(2)' }); // what CPython + SymPy print too
    assert.equal(v.type, 'Add');
    const sol = await value('sympy.solve(x**2 - 4, x)', 'import sympy\nx = sympy.Symbol("x")');
    assert.deepEqual(sol.json, [{ $sympy: '-2' }, { $sympy: '2' }]);
  });

  test('other objects, deep nesting and huge containers are bounded', async () => {
    assert.deepEqual((await value('len')).json, { $object: '<built-in function len>' });
    const deep = await value('x', 'x = []\nfor _ in range(50):\n    x = [x]');
    assert.match(JSON.stringify(deep.json), /\$truncated/);
    const big = await value('list(range(20000))');
    assert.equal((big.json as unknown[]).length, 20000);
    assert.deepEqual((big.json as unknown[])[19999], { $truncated: true });
    assert.ok(big.repr.endsWith('...[truncated]'));
  });

  test('Caco format: input and output globals; stdout when output is absent', async () => {
    const code = 'input = {"apples": 12, "eaten": 5}\ndef solve(apples, eaten):\n    # Step 1\n    return apples - eaten\noutput = solve(**input)\nprint(output)';
    const r = await pool.run({ id: 'caco', code });
    assert.deepEqual(r.input?.json, { apples: 12, eaten: 5 });
    assert.equal(r.output?.json, 7);
    assert.equal(r.outputSource, 'global');
    assert.equal(r.stdout, '7\n');
    const s = await pool.run({ id: 'stdout', code: 'print("the answer is", 7)' });
    assert.equal(s.outputSource, 'stdout');
    assert.equal(s.output?.json, 'the answer is 7');
  });
});

describe('execute stage', () => {
  test('keeps every executed record (failures too), reruns when asked, counts by status', async () => {
    const records = [
      { id: 'a', code: 'output = 1 + 1' },
      { id: 'b', code: '1 / 0' },
      { id: 'c', code: 'import random\noutput = random.random()' },
    ];
    const out = await executeShard(records, pool, { rerun: true });
    assert.equal(out.kept.length + out.rejected.length + out.failed.length, records.length);
    assert.deepEqual(out.kept.map((k) => k.id), ['a', 'b', 'c']);
    assert.equal(out.kept[1]!.exec.status, 'error');
    assert.equal(out.kept[0]!.rerun?.output?.json, 2);
    assert.notEqual(out.kept[2]!.exec.output?.repr, out.kept[2]!.rerun?.output?.repr, 'unseeded randomness shows up');
    assert.equal(out.counters.status_ok, 2);
    assert.equal(out.counters.status_error, 1);
    assert.equal(out.counters.rerun_differs, 1);
  });
});
