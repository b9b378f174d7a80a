// The run report's builder: record groups are contiguous and complete, chunks hold exactly their
// group's records, facet lists point at the right records, the page's numbers are stats.json's,
// and the same run gives the same bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildReport, type ReportSink } from '../../lib/report/build.ts';
import { decodeDeltas, encodeDeltas, files, LOAD_FN, seedBucketOf } from '../../lib/report/facets.ts';
import { fromRejection, fromSample, type ReportRecord } from '../../lib/report/record.ts';
import { answerShape } from '../../lib/report/shape.ts';
import type { ReportData } from '../../lib/report/summary.ts';
import { execMsCounter } from '../../lib/stages/execute.ts';
import { syntheticRun } from '../fixtures/report/synthetic-run.ts';

const ASSETS = { js: '/* page */', css: '/* style */' };

function memorySink(): ReportSink & { files: Map<string, string> } {
  const m = new Map<string, string>();
  return { files: m, put: async (rel, body) => void m.set(rel, body) };
}

/** The payload of a data file (`__caco_load(name, payload);`). */
function payload<T>(body: string, name: string): T {
  const prefix = `${LOAD_FN}(${JSON.stringify(name)},`;
  assert.ok(body.startsWith(prefix), `${name} starts with its loader call`);
  return JSON.parse(body.slice(prefix.length, body.lastIndexOf(');'))) as T;
}

function pageData(html: string): ReportData {
  const m = /<script id="caco-data" type="application\/json">(.*?)<\/script>/s.exec(html);
  assert.ok(m, 'index.html inlines its data');
  return JSON.parse(m[1]!) as ReportData;
}

test('answer shapes are read from Python str() text', () => {
  const cases: [string | undefined, string][] = [
    ['42', 'integer'], ['-7', 'integer'], ['3.75', 'decimal'], ['1e-05', 'decimal'], ['5/12', 'fraction'], ['sqrt(2)/2', 'symbolic'],
    ['3*pi', 'symbolic'], ['x**2 + 1', 'symbolic'], ['(3, 4)', 'tuple'], ['[1, 2]', 'list'], ['{1, 2}', 'set'], ['True', 'bool'],
    ['None', 'none'], ['the answer is blue and green', 'text'], [undefined, 'no output'], ['', 'no output'],
  ];
  for (const [s, shape] of cases) assert.equal(answerShape(s), shape, String(s));
});

test('facet lists round-trip and seed buckets are stable', () => {
  const list = [0, 1, 2, 5, 36, 37, 1_000_000];
  assert.deepEqual([...decodeDeltas(encodeDeltas(list))], list);
  assert.deepEqual([...decodeDeltas('')], []);
  assert.equal(seedBucketOf('gsm8k-train-0007', 7), seedBucketOf('gsm8k-train-0007', 7));
  assert.equal(execMsCounter(0.4), 'exec_ms_le_1');
  assert.equal(execMsCounter(10), 'exec_ms_le_10');
  assert.equal(execMsCounter(10.1), 'exec_ms_le_30');
  assert.equal(execMsCounter(60_000), 'exec_ms_over_10000');
});

test('records of every stage keep their problem, code, output, solution and verdict', () => {
  const exec = { status: 'ok', output: { json: 60, repr: '60', str: '60', type: 'int' }, stdout: '60\n', error: null, durationMs: 1.234 };
  const program = { id: 'gen-1', code: 'input = {}\noutput = 60', examples: ['s1', 's2'], exec };
  const bt = fromRejection({ id: 'gen-1', reason: 'answer_mismatch', detail: 'nl=61 code=60', record: { variant: 0, program, problem: 'P?', solveReply: 'so \\boxed{61}', answer: '61' } }, 'rejected', 'backtranslate');
  assert.deepEqual(
    { ...bt },
    { id: 'gen-1', stage: 'backtranslate', verdict: 'rejected', reason: 'answer_mismatch', detail: 'nl=61 code=60', seeds: ['s1', 's2'], shape: 'integer', problem: 'P?', code: program.code, output: '60', status: 'ok', ms: 1.2, solution: 'so \\boxed{61}', answer: '61' },
  );
  const filt = fromRejection({ id: 'gen-2', reason: 'exec_error', record: { ...program, id: 'gen-2', exec: { ...exec, status: 'error', output: null, stdout: '', error: { type: 'ZeroDivisionError', message: 'division by zero' } } } }, 'rejected', 'filter');
  assert.equal(filt.error, 'ZeroDivisionError: division by zero');
  assert.equal(filt.shape, 'no output');
  const unify = fromRejection({ id: 's9', reason: 'llm_refusal', record: { seed: { id: 's9', question: 'Q?', solution: 'S #### 3' }, reply: 'I cannot' } }, 'rejected', 'unify');
  assert.deepEqual([unify.problem, unify.solution, unify.reply, unify.seeds], ['Q?', 'S #### 3', 'I cannot', ['s9']]);
  const ingest = fromRejection({ id: 'line-3', reason: 'contaminated:gsm8k', record: { id: 'g3', question: 'Q3', answer: 'A #### 1' } }, 'rejected', 'ingest');
  assert.deepEqual([ingest.problem, ingest.seeds], ['Q3', ['g3']]);
  const kept = fromSample({ id: 'gen-3', instruction: 'I', output: 'O \\boxed{5/12}', answer: '\\frac{5}{12}', code: 'c', code_output: '5/12', provenance: { examples: ['s1'] } });
  assert.deepEqual([kept.verdict, kept.stage, kept.shape, kept.seeds, kept.solution], ['kept', 'dataset', 'fraction', ['s1'], 'O \\boxed{5/12}']);
});

test('the report groups every record once, in chunks, with facet lists that point at the right records', async () => {
  const run = syntheticRun(3000, 7);
  const sink = memorySink();
  const res = await buildReport(run.input, sink, { assets: ASSETS, chunkSize: 64 });
  assert.equal(res.records, 3000);
  const data = pageData(sink.files.get('index.html')!);
  assert.equal(data.total, 3000);

  // Groups: contiguous, complete, in display order (kept first, then stages in stats order,
  // rejections before failures, largest first).
  let at = 0;
  const seen = new Map<string, number>();
  for (const g of data.groups) {
    assert.equal(g.start, at, 'groups are contiguous');
    at += g.count;
    seen.set(`${g.stage}|${g.verdict}|${g.reason}`, g.count);
  }
  assert.deepEqual(new Map([...seen].sort()), new Map([...run.expected].sort()));
  assert.deepEqual(data.groups.slice(0, 2).map((g) => g.stage), ['dataset', 'codegen']);
  const filter = data.groups.filter((g) => g.stage === 'filter').map((g) => g.count);
  assert.deepEqual(filter, [...filter].sort((a, b) => b - a), 'largest reason first');

  // Every chunk holds its group's records, chunkSize at a time.
  const byIndex: ReportRecord[] = [];
  for (const g of data.groups) {
    assert.equal(g.chunks, Math.ceil(g.count / 64));
    for (let k = 0; k < g.chunks; k++) {
      const recs = payload<ReportRecord[]>(sink.files.get(files.chunk(g.file, k))!, files.chunk(g.file, k));
      assert.equal(recs.length, k < g.chunks - 1 ? 64 : g.count - 64 * (g.chunks - 1));
      for (const r of recs) assert.deepEqual([r.stage, r.verdict, r.reason], [g.stage, g.verdict, g.reason]);
      byIndex.push(...recs);
    }
  }
  assert.equal(byIndex.length, 3000);

  // Shape lists: exactly the records of that shape.
  for (const s of data.shapes) {
    const list = decodeDeltas(payload<string>(sink.files.get(files.shape(s.index))!, files.shape(s.index)));
    const want = byIndex.flatMap((r, i) => (r.shape === s.shape ? [i] : []));
    assert.deepEqual([...list], want, s.shape);
    assert.equal(s.all, want.length);
    assert.equal(s.kept, want.filter((i) => byIndex[i]!.verdict === 'kept').length);
  }
  // Seed lists: every record derived from the seed.
  const someSeeds = [...new Set(byIndex.flatMap((r) => r.seeds ?? []))].slice(0, 25);
  assert.ok(someSeeds.length > 10);
  for (const seed of someSeeds) {
    const name = files.seeds(seedBucketOf(seed, data.seedBuckets));
    const bucket = payload<Record<string, string>>(sink.files.get(name)!, name);
    assert.deepEqual([...decodeDeltas(bucket[seed]!)], byIndex.flatMap((r, i) => (r.seeds?.includes(seed) ? [i] : [])), seed);
  }

  // Duplicate groups from the dedup detail (the survivor's id).
  const dedup = byIndex.filter((r) => r.stage === 'dedup' && r.reason === 'near_duplicate');
  assert.equal(data.clusters.near.reduce((a, c) => a + c.clusters * (c.size - 1), 0), dedup.length);

  // The static page shows stats.json's numbers.
  const html = sink.files.get('index.html')!;
  for (const [st, s] of Object.entries(run.input.stats.stages)) {
    const row = new RegExp(`<tr data-stage="${st}">.*?<td data-col="in">${s.in.toLocaleString('en-US')}</td><td data-col="kept">${s.kept.toLocaleString('en-US')}</td>`);
    assert.match(html, row, st);
  }
  assert.match(html, /<td data-llm-total>\$0\.0100<\/td>/);
});

test('the same run gives the same bytes; text that could close a script is escaped', async () => {
  const a = memorySink();
  const b = memorySink();
  await buildReport(syntheticRun(500, 3).input, a, { assets: ASSETS, chunkSize: 50 });
  await buildReport(syntheticRun(500, 3).input, b, { assets: ASSETS, chunkSize: 50 });
  assert.deepEqual([...a.files.keys()].sort(), [...b.files.keys()].sort());
  for (const [k, v] of a.files) assert.equal(b.files.get(k), v, k);

  const run = syntheticRun(20, 1);
  run.input.stats.input = '</script><script>alert(1)</script>';
  const c = memorySink();
  await buildReport(run.input, c, { assets: ASSETS });
  const html = c.files.get('index.html')!;
  assert.ok(!html.includes('<script>alert(1)'), 'input path is escaped');
  assert.equal(pageData(html).groups.length > 0, true);
});

test('a failed write fails the build, and index.html is written only after every data file', async () => {
  const order: string[] = [];
  const sink: ReportSink = {
    put: async (rel) => {
      await new Promise((r) => setTimeout(r, rel.includes('g1-') ? 5 : 0));
      order.push(rel);
    },
  };
  await buildReport(syntheticRun(300, 5).input, sink, { assets: ASSETS, chunkSize: 20 });
  assert.equal(order.at(-1), 'index.html');
  const failing: ReportSink = { put: async (rel) => { if (rel.includes('shape-')) throw new Error('disk full'); } };
  await assert.rejects(buildReport(syntheticRun(300, 5).input, failing, { assets: ASSETS }), /disk full/);
});
