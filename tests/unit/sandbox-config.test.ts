// Sandbox settings that depend on the machine: resolved where the programs run, not where the
// config was parsed; and the child scripts are never another version's copy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseRunConfig } from '../../lib/config.ts';
import { sandboxWorkers } from '../../lib/sandbox/config.ts';
import { CHILD_FILES, childScriptsDir } from '../../lib/sandbox/layer.ts';

test('a parsed run config carries no worker count unless the user set one', () => {
  const cfg = parseRunConfig({ mode: 'unify', llm: { default: { baseURL: 'http://127.0.0.1:9/v1', model: 'm' } } }, 'test');
  assert.equal(cfg.sandbox.workers, undefined);
  assert.equal('workers' in JSON.parse(JSON.stringify(cfg)).sandbox, false, 'the stored config does not fix it');
  assert.equal(sandboxWorkers(cfg.sandbox), availableParallelism(), 'the running machine decides');
  assert.equal(sandboxWorkers({ workers: 3 }), 3);
});

test("the child scripts run from the layer only when it holds this code's copy", () => {
  const own = new URL('../../lib/sandbox/child/', import.meta.url).pathname.replace(/\/$/, '');
  // A writable layer gets this code's copy and is used.
  const writable = mkdtempSync(join(tmpdir(), 'layer-'));
  assert.equal(childScriptsDir(writable), join(writable, 'child'));
  for (const f of CHILD_FILES) assert.equal(readFileSync(join(writable, 'child', f), 'utf8'), readFileSync(join(own, f), 'utf8'));
  // A layer that cannot take the copy (read-only on Lambda; here child/ is a file): this code's own folder.
  const stale = mkdtempSync(join(tmpdir(), 'layer-'));
  writeFileSync(join(stale, 'child'), 'not a folder');
  assert.equal(childScriptsDir(stale), own);
});
