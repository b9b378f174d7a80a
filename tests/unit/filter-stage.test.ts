// filterShard end to end over a real SQLite dedup index: rules, exact and near duplicates across
// shards, conservation, order, counters, and a retried shard getting the same answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutedRecord, PyValue } from '../../lib/schema.ts';
import { FilterConfigSchema } from '../../lib/codecot/filter-config.ts';
import { filterShard } from '../../lib/stages/filter.ts';
import { SqliteDedupIndex } from '../../lib/store/sqlite-dedup-index.ts';
import type { DedupIndex } from '../../lib/store/ports.ts';

const pyv = (json: unknown, repr: string, type: string): PyValue => ({ json, repr, str: repr, type });

function program(a: string, b: string, extra = ''): string {
  return `def solve(${a}, ${b}):
    # price of the items
    subtotal = ${a} * ${b}
    tax = subtotal * 0.08
    shipping = 5 if subtotal < 50 else 0
    total = subtotal + tax + shipping${extra}
    return round(total, 2)

input = {"${a}": 12, "${b}": 3}
output = solve(**input)
print(output)
`;
}

function rec(id: string, code: string, over: Partial<ExecutedRecord['exec']> = {}): ExecutedRecord {
  const exec = {
    id,
    status: 'ok' as const,
    input: pyv(Object.fromEntries([...code.matchAll(/"(\w+)": \d+/g)].map((m) => [m[1], 1])), '{...}', 'dict'),
    output: pyv(43.88, '43.88', 'float'),
    outputSource: 'global' as const,
    stdout: '43.88\n',
    stderr: '',
    truncated: false,
    error: null,
    durationMs: 2,
    ...over,
  };
  return { id, code, exec, rerun: exec };
}

const DIFFERENT = `import math

def hypotenuse(x, y):
    # Pythagoras
    squares = x ** 2 + y ** 2
    root = math.sqrt(squares)
    rounded = round(root, 3)
    return rounded

input = {"x": 6, "y": 8}
output = hypotenuse(**input)
print(output)
`;

for (const mode of ['batch', 'port'] as const) test(`filterShard (${mode} path): rules, exact and near duplicates across shards, in input order, conserving every record`, async () => {
  const sqlite = new SqliteDedupIndex(join(mkdtempSync(join(tmpdir(), 'filter-')), 'dedup.sqlite'));
  // The port-only path: what an index without claimMany (DynamoDB) gets.
  const dedup: DedupIndex = mode === 'batch' ? sqlite : { claimExact: (...a) => sqlite.claimExact(...a), claimNear: (...a) => sqlite.claimNear(...a) };
  const cfg = FilterConfigSchema.parse({});
  const deps = { runId: 'run-1', dedup };

  const shard1 = [
    rec('s1-0', program('price', 'count')),
    rec('s1-1', program('p', 'n').replace('# price of the items', '# renamed copy')), // exact duplicate of s1-0
    rec('s1-2', 'x = 1\n', { status: 'error', output: null, error: { type: 'NameError', message: 'boom' } }),
    rec('s1-3', DIFFERENT),
  ];
  const out1 = await filterShard(shard1, cfg, deps);
  assert.deepEqual(out1.kept.map((r) => r.id), ['s1-0', 's1-3']);
  assert.deepEqual(
    out1.rejected.map((r) => [r.id, r.reason, r.detail?.startsWith('NameError') ? 'NameError' : r.detail]),
    [['s1-1', 'duplicate', 's1-0'], ['s1-2', 'exec_error', 'NameError']],
  );
  assert.equal(out1.kept.length + out1.rejected.length + out1.failed.length, shard1.length);
  assert.equal(out1.counters['rule.exec_ok.rejected'], 1);
  assert.equal(out1.counters['dedup.duplicate'], 1);
  assert.equal(out1.counters[`dedup.confirm.${mode === 'batch' ? 'exact' : 'estimate'}`], 3);
  assert.equal(out1.counters['rule.min_lines.checked'], 3);

  // A later shard: one line changed (near duplicate of s1-0), a reworded copy of DIFFERENT (exact), and a new one.
  const near = program('price', 'count', ' + 0');
  const shard2 = [
    rec('s2-0', near),
    rec('s2-1', DIFFERENT.replace(/squares/g, 'sq').replace('# Pythagoras', '')),
    rec('s2-2', program('price', 'count').replace('tax = subtotal * 0.08', 'tax = subtotal * 0.2\n    fee = tax / 4').replace('shipping\n', 'shipping + fee\n').replace('total = subtotal + tax + shipping', 'total = subtotal * 3 - tax + fee')),
  ];
  const out2 = await filterShard(shard2, cfg, deps);
  const byId = Object.fromEntries(out2.rejected.map((r) => [r.id, [r.reason, r.detail]]));
  assert.deepEqual(byId['s2-0'], ['near_duplicate', 's1-0']);
  assert.deepEqual(byId['s2-1'], ['duplicate', 's1-3']);
  assert.deepEqual(out2.kept.map((r) => r.id), ['s2-2']);

  // The retried shard gets the same decisions.
  const again = await filterShard(shard2, cfg, deps);
  assert.deepEqual(again.kept.map((r) => r.id), out2.kept.map((r) => r.id));
  assert.deepEqual(again.rejected.map((r) => [r.id, r.reason, r.detail]), out2.rejected.map((r) => [r.id, r.reason, r.detail]));

  // With near off only exact copies are caught; with both off every rule-passing record is kept.
  const noNear = await filterShard([...shard1, ...shard2], FilterConfigSchema.parse({ dedup: { near: false } }), { runId: 'run-2', dedup });
  assert.deepEqual(noNear.kept.map((r) => r.id), ['s1-0', 's1-3', 's2-0', 's2-2']);
  const noDedup = await filterShard([...shard1, ...shard2], FilterConfigSchema.parse({ dedup: { near: false, exact: false } }), { runId: 'run-3', dedup });
  assert.equal(noDedup.kept.length, 6);
  sqlite.close();
});

test('filterShard: a rule that throws on a record fails that record only', async () => {
  const dedup = new SqliteDedupIndex(join(mkdtempSync(join(tmpdir(), 'filter-')), 'dedup.sqlite'));
  const broken = rec('bad', program('a', 'b'));
  // A malformed PyValue that slipped past the schema (repr missing) makes answer_type throw.
  (broken.exec.output as unknown as Record<string, unknown>).repr = undefined;
  const out = await filterShard([broken, rec('good', DIFFERENT)], FilterConfigSchema.parse({}), { runId: 'r', dedup });
  assert.deepEqual(out.failed.map((f) => [f.id, f.reason]), [['bad', 'filter_error']]);
  assert.deepEqual(out.kept.map((r) => r.id), ['good']);
  dedup.close();
});
