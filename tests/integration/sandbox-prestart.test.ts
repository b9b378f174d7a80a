// Children started before their pool exists (launch.ts prestartSandbox: `caco execute` and the
// execute Lambda do it first thing) are adopted by the pool, get its limits by IPC, and the ones
// beyond its worker count are stopped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSandboxPool } from '../../lib/sandbox/pool.ts';
import { prestartSandbox, takePrestartedSandbox } from '../../lib/sandbox/launch.ts';
import { ensureLayer } from '../../lib/sandbox/layer.ts';

test('a pool adopts prestarted children, which run under the limits it sends them', { timeout: 600_000 }, async () => {
  await ensureLayer(); // a fresh clone builds the layer first; prestart only uses a ready one
  prestartSandbox(2);
  const early = takePrestartedSandbox();
  assert.ok(early, 'children were prestarted');
  assert.equal(takePrestartedSandbox(), null, 'taken once');
  const [kept, extra] = early.procs;
  const extraExit = new Promise((resolve) => extra!.once('exit', resolve));
  const pool = await createSandboxPool({ workers: 1, timeoutMs: 1500, outputCapBytes: 2048, recursionLimit: 200 }, { prestarted: early });
  try {
    assert.deepEqual(pool.stats().pids, [kept!.pid], 'the first prestarted child is the pool\'s only one');
    await extraExit; // the one beyond the worker count is stopped
    const [loop, out, deep, fine] = await pool.runMany([
      { id: 'loop', code: 'while True: pass' },
      { id: 'out', code: 'print("x" * 5000)' },
      { id: 'deep', code: 'def f(n): return f(n + 1)\nf(0)' },
      { id: 'fine', code: 'print(6 * 7)' },
    ]);
    assert.equal(loop!.status, 'timeout', JSON.stringify(loop!.error));
    assert.match(loop!.error!.message, /1500 ms/);
    assert.equal(out!.status, 'output_limit');
    assert.equal(deep!.error?.type, 'RecursionError');
    assert.equal(fine!.stdout, '42\n');
    assert.ok(pool.stats().bootMarks.some(([phase]) => phase === 'heap read into memory'), 'boot phases reported');
  } finally {
    await pool.close();
  }
});
