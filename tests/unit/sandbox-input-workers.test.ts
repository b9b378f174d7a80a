// `caco execute` without --workers: one sandbox process per core, but no more than the input has
// programs when it is small enough to count.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { workersForInput } from '../../lib/sandbox/input-workers.ts';

test('workers: at most one per non-empty input line, at most the cores, cores when unknown', () => {
  const dir = mkdtempSync(join(tmpdir(), 'caco-iw-'));
  try {
    const file = (name: string, text: string) => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    };
    assert.equal(workersForInput(file('one.jsonl', '{"id":"a","code":"1"}\n\n'), 8), 1);
    assert.equal(workersForInput(file('three.jsonl', 'a\nb\n  \nc'), 8), 3);
    assert.equal(workersForInput(file('many.jsonl', 'x\n'.repeat(50)), 4), 4);
    assert.equal(workersForInput(file('empty.jsonl', ''), 4), 1);
    assert.equal(workersForInput(file('big.jsonl', 'x'.repeat(2 << 20)), 6), 6); // not counted
    assert.equal(workersForInput(join(dir, 'missing.jsonl'), 4), 4);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
