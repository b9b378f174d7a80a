// filter (the rules) and dedup (its barrier over a real file blob store) as the pipeline runs
// them, one after the other: rules, exact and near duplicates across shards, conservation, order,
// counters, and a retried shard getting the same answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutedRecord, PyValue } from '../../lib/schema.ts';
import { FilterConfigSchema } from '../../lib/codecot/filter-config.ts';
import { filterShard } from '../../lib/stages/filter.ts';
import { dedupShard } from '../../lib/stages/dedup.ts';
import { FileBlobStore } from '../../lib/store/file-blob-store.ts';
import { dedupBranch } from '../helpers/dedup-run.ts';

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

type Cfg = ReturnType<typeof FilterConfigSchema.parse>;

/** filter then dedup over shards, as the pipeline chains them; in = kept + rejected + failed over both, per shard. */
async function filterThenDedup(shards: ExecutedRecord[][], cfg: Cfg, runId: string, blobs: FileBlobStore) {
  const filtered = shards.map((s) => filterShard(s, cfg));
  const deduped = await dedupBranch(filtered.map((f) => f.kept), cfg.dedup, blobs, runId);
  return shards.map((records, i) => {
    const f = filtered[i]!;
    const d = deduped[i]!;
    assert.equal(f.kept.length + f.rejected.length + f.failed.length, records.length);
    assert.equal(d.kept.length + d.rejected.length + d.failed.length, f.kept.length);
    return { kept: d.kept, rejected: [...f.rejected, ...d.rejected], failed: [...f.failed, ...d.failed], counters: { ...f.counters, ...d.counters } };
  });
}

/** All shards' outputs as one. */
function joined(outs: Awaited<ReturnType<typeof filterThenDedup>>) {
  const counters: Record<string, number> = {};
  for (const o of outs) for (const [k, v] of Object.entries(o.counters)) counters[k] = (counters[k] ?? 0) + v;
  return { kept: outs.flatMap((o) => o.kept), rejected: outs.flatMap((o) => o.rejected), counters };
}

test('filter then dedup: rules, exact and near duplicates across shards, in input order, conserving every record', async () => {
  const blobs = new FileBlobStore(mkdtempSync(join(tmpdir(), 'filter-')));
  const cfg = FilterConfigSchema.parse({});

  const shard1 = [
    rec('s1-0', program('price', 'count')),
    rec('s1-1', program('p', 'n').replace('# price of the items', '# renamed copy')), // exact duplicate of s1-0
    rec('s1-2', 'x = 1\n', { status: 'error', output: null, error: { type: 'NameError', message: 'boom' } }),
    rec('s1-3', DIFFERENT),
  ];
  // A later shard: one line changed (near duplicate of s1-0), a reworded copy of DIFFERENT (exact), and a new one.
  const near = program('price', 'count', ' + 0');
  const shard2 = [
    rec('s2-0', near),
    rec('s2-1', DIFFERENT.replace(/squares/g, 'sq').replace('# Pythagoras', '')),
    rec('s2-2', program('price', 'count').replace('tax = subtotal * 0.08', 'tax = subtotal * 0.2\n    fee = tax / 4').replace('shipping\n', 'shipping + fee\n').replace('total = subtotal + tax + shipping', 'total = subtotal * 3 - tax + fee')),
  ];
  const [out1, out2] = await filterThenDedup([shard1, shard2], cfg, 'run-1', blobs);
  assert.deepEqual(out1!.kept.map((r) => r.id), ['s1-0', 's1-3']);
  assert.deepEqual(
    out1!.rejected.map((r) => [r.id, r.stage, r.reason, r.detail?.startsWith('NameError') ? 'NameError' : r.detail]),
    [['s1-2', 'filter', 'exec_error', 'NameError'], ['s1-1', 'dedup', 'duplicate', 's1-0']],
  );
  assert.equal(out1!.counters['rule.exec_ok.rejected'], 1);
  assert.equal(out1!.counters['dedup.duplicate'], 1);
  assert.equal(out1!.counters['dedup.confirm.exact'], 3);
  assert.equal(out1!.counters['rule.min_lines.checked'], 3);

  const byId = Object.fromEntries(out2!.rejected.map((r) => [r.id, [r.reason, r.detail]]));
  assert.deepEqual(byId['s2-0'], ['near_duplicate', 's1-0']);
  assert.deepEqual(byId['s2-1'], ['duplicate', 's1-3']);
  assert.deepEqual(out2!.kept.map((r) => r.id), ['s2-2']);

  // A retried shard (its decisions already written) gets the same answers.
  const again = await dedupShard(filterShard(shard2, cfg).kept, cfg.dedup, { runId: 'run-1', shard: 'g00001', blobs });
  assert.deepEqual(again.kept.map((r) => r.id), out2!.kept.map((r) => r.id));
  assert.deepEqual(again.rejected.map((r) => [r.id, r.reason, r.detail]), out2!.rejected.filter((r) => r.stage === 'dedup').map((r) => [r.id, r.reason, r.detail]));

  // Confirmed by the MinHash estimate instead, the same decisions here.
  const estimate = joined(await filterThenDedup([shard1, shard2], FilterConfigSchema.parse({ dedup: { confirm: 'estimate' } }), 'run-4', blobs));
  assert.deepEqual(estimate.kept.map((r) => r.id), ['s1-0', 's1-3', 's2-2']);
  assert.equal(estimate.counters['dedup.confirm.estimate'], 6);

  // With near off only exact copies are caught; with both off every rule-passing record is kept.
  const noNear = joined(await filterThenDedup([shard1, shard2], FilterConfigSchema.parse({ dedup: { near: false } }), 'run-2', blobs));
  assert.deepEqual(noNear.kept.map((r) => r.id), ['s1-0', 's1-3', 's2-0', 's2-2']);
  const noDedup = joined(await filterThenDedup([shard1, shard2], FilterConfigSchema.parse({ dedup: { near: false, exact: false } }), 'run-3', blobs));
  assert.equal(noDedup.kept.length, 6);
  // Two partitions instead of one: the same answers.
  const two = joined(await filterThenDedup([shard1, shard2], FilterConfigSchema.parse({ dedup: { partitions: 2 } }), 'run-5', blobs));
  assert.deepEqual(two.kept.map((r) => r.id), ['s1-0', 's1-3', 's2-2']);
  assert.deepEqual(two.rejected.map((r) => [r.id, r.reason, r.detail]).filter((r) => r[1] !== 'exec_error'), [['s1-1', 'duplicate', 's1-0'], ['s2-0', 'near_duplicate', 's1-0'], ['s2-1', 'duplicate', 's1-3']]);
});

test('filterShard: a rule that throws on a record fails that record only', () => {
  const broken = rec('bad', program('a', 'b'));
  // A malformed PyValue that slipped past the schema (repr missing) makes answer_type throw.
  (broken.exec.output as unknown as Record<string, unknown>).repr = undefined;
  const out = filterShard([broken, rec('good', DIFFERENT)], FilterConfigSchema.parse({}));
  assert.deepEqual(out.failed.map((f) => [f.id, f.reason]), [['bad', 'filter_error']]);
  assert.deepEqual(out.kept.map((r) => r.id), ['good']);
});
