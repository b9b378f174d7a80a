// A warm Lambda serves many runs with one sandbox pool cache: limits per run, no cached failure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { onePoolPerLimits } from '../../lib/sandbox/pool-cache.ts';

type Cfg = { sandbox: { timeoutMs: number } };
function fakes(failFirst = false) {
  const made: Array<{ limits: Cfg['sandbox']; closed: boolean }> = [];
  const create = async (cfg: Cfg) => {
    if (failFirst && made.length === 0) {
      made.push({ limits: cfg.sandbox, closed: false });
      throw new Error('child failed to start');
    }
    const p = { limits: cfg.sandbox, closed: false, close: async () => void (p.closed = true) };
    made.push(p);
    return p;
  };
  return { made, get: onePoolPerLimits(create, (c: Cfg) => c.sandbox) };
}

test('the same limits share one pool; other limits get a new pool and the old one is closed', async () => {
  const { made, get } = fakes();
  const a = await get({ sandbox: { timeoutMs: 1000 } });
  assert.equal(await get({ sandbox: { timeoutMs: 1000 } }), a);
  const b = await get({ sandbox: { timeoutMs: 50 } });
  assert.notEqual(b, a);
  assert.equal(b.limits.timeoutMs, 50);
  await new Promise((r) => setImmediate(r));
  assert.equal(made[0]!.closed, true);
  assert.equal(made.length, 2);
});

test('a pool that failed to start is not kept: the next call starts a new one', async () => {
  const { made, get } = fakes(true);
  await assert.rejects(get({ sandbox: { timeoutMs: 1000 } }), /failed to start/);
  await new Promise((r) => setImmediate(r));
  const p = await get({ sandbox: { timeoutMs: 1000 } });
  assert.equal(p.limits.timeoutMs, 1000);
  assert.equal(made.length, 2);
});
