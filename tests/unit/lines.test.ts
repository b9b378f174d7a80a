import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readJsonLines, type LineResult } from '../../lib/pipeline/lines.ts';

async function collect(chunks: (string | Uint8Array)[], max?: number): Promise<LineResult[]> {
  async function* src() {
    for (const c of chunks) yield typeof c === 'string' ? Buffer.from(c) : c;
  }
  const out: LineResult[] = [];
  for await (const r of readJsonLines(src(), max)) out.push(r);
  return out;
}

test('values split across chunks, blank lines skipped, line numbers kept', async () => {
  const r = await collect(['{"a":', '1}\n\n{"b":2}\r\n', '{"c":3}']);
  assert.deepEqual(r.map((x) => (x.kind === 'value' ? [x.line, x.value] : null)), [[1, { a: 1 }], [3, { b: 2 }], [4, { c: 3 }]]);
});

test('bad JSON, invalid UTF-8 and over-long lines are quarantined with their line number', async () => {
  const big = 'x'.repeat(5000);
  const r = await collect(['{"ok":1}\n', 'not json\n', Buffer.from([0x7b, 0xff, 0xfe, 0x7d, 0x0a]), `"${big}`, `${big}"\n{"ok":2}\n`], 4096);
  assert.deepEqual(
    r.map((x) => [x.line, x.kind === 'value' ? 'value' : x.reason]),
    [[1, 'value'], [2, 'bad_json'], [3, 'invalid_utf8'], [4, 'line_too_long'], [5, 'value']],
  );
});

test('a 50 MB line is quarantined without buffering it', async () => {
  const chunk = Buffer.alloc(1024 * 1024, 0x61);
  const chunks: Uint8Array[] = [Buffer.from('{"first":true}\n"')];
  for (let i = 0; i < 50; i++) chunks.push(chunk);
  chunks.push(Buffer.from('"\n{"last":true}\n'));
  const before = process.memoryUsage().rss;
  const r = await collect(chunks, 1024 * 1024);
  assert.deepEqual(r.map((x) => (x.kind === 'value' ? x.value : x.reason)), [{ first: true }, 'line_too_long', { last: true }]);
  assert.ok(process.memoryUsage().rss - before < 200 * 1024 * 1024);
});
