// filter (the rules) and dedup (over a real SQLite dedup index) as the pipeline runs them, one
// after the other: rules, exact and near duplicates across shards, conservation, order, counters,
// and a retried shard getting the same answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutedRecord, PyValue } from '../../lib/schema.ts';
import { FilterConfigSchema } from '../../lib/codecot/filter-config.ts';
import { filterShard } from '../../lib/stages/filter.ts';
import { dedupShard } from '../../lib/stages/dedup.ts';
import { SqliteDedupIndex } from '../../lib/store/sqlite-dedup-index.ts';

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

/** filter then dedup, as the pipeline chains them; in = kept + rejected + failed over both. */
async function filterThenDedup(records: ExecutedRecord[], cfg: ReturnType<typeof FilterConfigSchema.parse>, runId: string, index: SqliteDedupIndex) {
  const f = filterShard(records, cfg);
  const d = await dedupShard(f.kept, cfg.dedup, { runId, index });
  assert.equal(f.kept.length + f.rejected.length + f.failed.length, records.length);
  assert.equal(d.kept.length + d.rejected.length + d.failed.length, f.kept.length);
  return { kept: d.kept, rejected: [...f.rejected, ...d.rejected], failed: [...f.failed, ...d.failed], counters: { ...f.counters, ...d.counters } };
}

test('filter then dedup: rules, exact and near duplicates across shards, in input order, conserving every record', async () => {
  const index = new SqliteDedupIndex(join(mkdtempSync(join(tmpdir(), 'filter-')), 'dedup.sqlite'));
  const cfg = FilterConfigSchema.parse({});

  const shard1 = [
    rec('s1-0', program('price', 'count')),
    rec('s1-1', program('p', 'n').replace('# price of the items', '# renamed copy')), // exact duplicate of s1-0
    rec('s1-2', 'x = 1\n', { status: 'error', output: null, error: { type: 'NameError', message: 'boom' } }),
    rec('s1-3', DIFFERENT),
  ];
  const out1 = await filterThenDedup(shard1, cfg, 'run-1', index);
  assert.deepEqual(out1.kept.map((r) => r.id), ['s1-0', 's1-3']);
  assert.deepEqual(
    out1.rejected.map((r) => [r.id, r.stage, r.reason, r.detail?.startsWith('NameError') ? 'NameError' : r.detail]),
    [['s1-2', 'filter', 'exec_error', 'NameError'], ['s1-1', 'dedup', 'duplicate', 's1-0']],
  );
  assert.equal(out1.counters['rule.exec_ok.rejected'], 1);
  assert.equal(out1.counters['dedup.duplicate'], 1);
  assert.equal(out1.counters['dedup.confirm.exact'], 3);
  assert.equal(out1.counters['rule.min_lines.checked'], 3);

  // A later shard: one line changed (near duplicate of s1-0), a reworded copy of DIFFERENT (exact), and a new one.
  const near = program('price', 'count', ' + 0');
  const shard2 = [
    rec('s2-0', near),
    rec('s2-1', DIFFERENT.replace(/squares/g, 'sq').replace('# Pythagoras', '')),
    rec('s2-2', program('price', 'count').replace('tax = subtotal * 0.08', 'tax = subtotal * 0.2\n    fee = tax / 4').replace('shipping\n', 'shipping + fee\n').replace('total = subtotal + tax + shipping', 'total = subtotal * 3 - tax + fee')),
  ];
  const out2 = await filterThenDedup(shard2, cfg, 'run-1', index);
  const byId = Object.fromEntries(out2.rejected.map((r) => [r.id, [r.reason, r.detail]]));
  assert.deepEqual(byId['s2-0'], ['near_duplicate', 's1-0']);
  assert.deepEqual(byId['s2-1'], ['duplicate', 's1-3']);
  assert.deepEqual(out2.kept.map((r) => r.id), ['s2-2']);

  // The retried shard gets the same decisions.
  const again = await filterThenDedup(shard2, cfg, 'run-1', index);
  assert.deepEqual(again.kept.map((r) => r.id), out2.kept.map((r) => r.id));
  assert.deepEqual(again.rejected.map((r) => [r.id, r.reason, r.detail]), out2.rejected.map((r) => [r.id, r.reason, r.detail]));

  // Confirmed by the MinHash estimate instead, the same decisions here.
  const estimate = await filterThenDedup([...shard1, ...shard2], FilterConfigSchema.parse({ dedup: { confirm: 'estimate' } }), 'run-4', index);
  assert.deepEqual(estimate.kept.map((r) => r.id), ['s1-0', 's1-3', 's2-2']);
  assert.equal(estimate.counters['dedup.confirm.estimate'], 6);

  // With near off only exact copies are caught; with both off every rule-passing record is kept.
  const noNear = await filterThenDedup([...shard1, ...shard2], FilterConfigSchema.parse({ dedup: { near: false } }), 'run-2', index);
  assert.deepEqual(noNear.kept.map((r) => r.id), ['s1-0', 's1-3', 's2-0', 's2-2']);
  const noDedup = await filterThenDedup([...shard1, ...shard2], FilterConfigSchema.parse({ dedup: { near: false, exact: false } }), 'run-3', index);
  assert.equal(noDedup.kept.length, 6);
  index.close();
});

test('filterShard: a rule that throws on a record fails that record only', () => {
  const broken = rec('bad', program('a', 'b'));
  // A malformed PyValue that slipped past the schema (repr missing) makes answer_type throw.
  (broken.exec.output as unknown as Record<string, unknown>).repr = undefined;
  const out = filterShard([broken, rec('good', DIFFERENT)], FilterConfigSchema.parse({}));
  assert.deepEqual(out.failed.map((f) => [f.id, f.reason]), [['bad', 'filter_error']]);
  assert.deepEqual(out.kept.map((r) => r.id), ['good']);
});
