import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CodeCotRecordSchema, parseRecord, RecordError } from '../../lib/schema.ts';

test('a valid Code CoT record parses', () => {
  const r = parseRecord(CodeCotRecordSchema, { id: 'a', code: 'output = 1', extra: 3 });
  assert.equal(r.id, 'a');
  assert.equal((r as Record<string, unknown>).extra, 3, 'unknown fields are kept');
});

test('a bad record names every bad field', () => {
  assert.throws(
    () => parseRecord(CodeCotRecordSchema, { id: '', code: 5 }, 'Code CoT'),
    (e: unknown) => e instanceof RecordError && /invalid Code CoT: id: .*; code: /.test(e.message),
  );
});
