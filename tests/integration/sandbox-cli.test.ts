// `caco execute` end to end through the real CLI: one result per line in input order, malformed
// lines become error results with their line number and never stop the run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ExecutionResultSchema } from '../../lib/schema.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

test('caco execute writes one result per line, in order, with malformed lines reported', () => {
  const dir = mkdtempSync(join(tmpdir(), 'caco-exec-'));
  try {
    const input = join(dir, 'in.jsonl');
    const output = join(dir, 'out.jsonl');
    const lines = [
      JSON.stringify({ id: 'slow', code: 'import time\ntime.sleep(0.3)\noutput = 1' }),
      '{not json',
      JSON.stringify({ id: 'nocode' }),
      '',
      JSON.stringify({ id: 'np', code: 'import numpy' }),
      JSON.stringify({ id: 'fast', code: 'output = 2', provenance: { source: 'generated' } }),
      JSON.stringify({ id: 'loop', code: 'while True: pass' }),
      JSON.stringify({ id: 'last', code: 'print(3)' }),
    ];
    writeFileSync(input, lines.join('\n') + '\n');
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'bin/caco.ts', 'execute', input, '-o', output, '--timeout', '1000', '--workers', '2'], {
      cwd: root,
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    const results = readFileSync(output, 'utf8').trim().split('\n').map((l) => ExecutionResultSchema.parse(JSON.parse(l)));
    assert.deepEqual(results.map((x) => x.id), ['slow', 'line-2', 'nocode', 'np', 'fast', 'loop', 'last']);
    assert.deepEqual(results.map((x) => x.status), ['ok', 'error', 'error', 'missing_module', 'ok', 'timeout', 'ok']);
    assert.equal(results[1]!.error?.line, 2);
    assert.equal(results[1]!.error?.type, 'MalformedInput');
    assert.equal(results[2]!.error?.line, 3);
    assert.match(results[2]!.error!.message, /code/);
    assert.equal(results[6]!.output?.json, '3');
    assert.match(r.stderr, /7 lines \(2 malformed\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('caco execute starts its sandbox before the CLI has loaded, and --timings prints the phases', () => {
  const dir = mkdtempSync(join(tmpdir(), 'caco-exec-'));
  try {
    const input = join(dir, 'in.jsonl');
    writeFileSync(input, JSON.stringify({ id: 'one', code: 'print(6 * 7)' }) + '\n');
    const r = spawnSync(process.execPath, ['bin/caco.js', 'execute', input, '--timings', '--workers', '1'], { cwd: root, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(ExecutionResultSchema.parse(JSON.parse(r.stdout)).stdout, '42\n');
    const line = /execute timings \(ms since process start\): (.*)/.exec(r.stderr)?.[1];
    assert.ok(line, r.stderr);
    const at = Object.fromEntries([...line.matchAll(/(?:^|, )(.+?) (-?\d+)(?=, |$)/g)].map((m) => [m[1], Number(m[2])]));
    for (const phase of ['cli loaded', 'child: child process started', 'child: wasm compiled', 'child: heap read into memory', 'child: guard baseline taken', 'first interpreter ready', 'first result']) {
      assert.ok(phase in at, `${phase} in ${line}`);
    }
    // The child was spawned before the command's modules loaded (bin/caco.ts prestarts it), and
    // its phases come in boot order.
    assert.ok(at['child: child process started']! < at['cli loaded']!, line);
    assert.ok(at['child: heap read into memory']! < at['child: guard baseline taken']! && at['child: guard baseline taken']! <= at['first interpreter ready']! + 1, line);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
