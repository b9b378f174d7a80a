// assemble writes the dataset folder once for both transports: every config's parts (JSONL twins
// when the run asks), stats.json with rows per config and every file, a card that names exactly
// those files; a re-assemble removes parts it no longer writes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assembleRun } from '../../lib/pipeline/assemble.ts';
import { keys } from '../../lib/pipeline/keys.ts';
import { HUB_LIMITS } from '../../lib/pipeline/parquet-parts.ts';
import type { BacktranslatedRecord } from '../../lib/stages/backtranslate.ts';
import { localDepsWithoutDedup } from '../helpers/local-deps.ts';

const sample = (id: string): BacktranslatedRecord => ({
  id,
  instruction: `Problem ${id}?`,
  output: `So \\boxed{1}.`,
  answer: '1',
  code: 'input = {}\noutput = 1\nprint(output)',
  code_output: '1',
  provenance: { source: 'generated', variant: 0, models: { reverse: 'r', solve: 's' } },
});
const jsonl = (rows: object[]) => rows.map((r) => JSON.stringify(r) + '\n').join('');
const shard = (stage: string, s: string, n: number, kept: number, rejected: Record<string, number> = {}, failed: Record<string, number> = {}) => ({
  runId: 'r1', stage, shard: s, counts: { in: n, kept, rejected, failed, counters: {} }, next: [],
});

test('assemble writes every config as parts, JSONL beside when asked, and a card naming exactly those files', async () => {
  const { deps, db } = localDepsWithoutDedup('assemble-', 3);
  await deps.state.createRun({ runId: 'r1', createdAt: new Date(0).toISOString(), status: 'running', input: 'in.jsonl', mode: 'synthesize', expected: {} });
  await deps.blobs.put(keys.survivors('r1', 'backtranslate', 'g00000'), jsonl([sample('a'), sample('b'), sample('c')]));
  await deps.blobs.put(keys.survivors('r1', 'backtranslate', 'g00001'), jsonl([sample('d'), sample('e')]));
  await deps.blobs.put(keys.rejected('r1', 'filter', 'g00000'), jsonl([{ id: 'f1', stage: 'filter', reason: 'too_short', record: { code: 'x' } }, { id: 'f2', stage: 'filter', reason: 'too_short' }]));
  await deps.blobs.put(keys.failed('r1', 'backtranslate', 'g00001'), jsonl([{ id: 'b9', stage: 'backtranslate', reason: 'llm_error', detail: '500' }]));
  await deps.state.recordShard(shard('backtranslate', 'g00000', 3, 3));
  await deps.state.recordShard(shard('backtranslate', 'g00001', 3, 2, {}, { llm_error: 1 }));
  await deps.state.recordShard(shard('filter', 'g00000', 2, 0, { too_short: 2 }));

  const info = { mode: 'synthesize', models: { solve: 's' }, jsonl: true, limits: { ...HUB_LIMITS, maxRows: 2 } };
  await assembleRun('r1', info, deps).catch(() => undefined); // this toy run's stages do not chain; the folder is written first
  const files = (await deps.blobs.list(keys.dataset('r1'))).map((k) => k.slice(keys.dataset('r1').length)).filter((f) => !f.startsWith('report/'));
  const parts = (dir: string, n: number) => Array.from({ length: n }, (_, i) => [`${dir}/train-0000${i}.jsonl`, `${dir}/train-0000${i}.parquet`]).flat();
  assert.deepEqual(files.sort(), ['README.md', ...parts('codegen', 1), ...parts('data', 3), ...parts('rejected', 2), ...parts('rlvr', 3), ...parts('sft', 3), 'stats.json'].sort());

  const stats = JSON.parse((await deps.blobs.get(keys.dataset('r1', 'stats.json')))!.toString());
  assert.deepEqual(stats.configs, { default: 5, sft: 5, rlvr: 5, codegen: 0, rejected: 3 });
  assert.deepEqual(stats.files.map((f: { path: string }) => f.path).sort(), files.filter((f) => /\/train-/.test(f)).sort());
  // the rejected config: ingest-first stage order, rejected before failed
  const rejectedJsonl = (await deps.blobs.get(keys.datasetPart('r1', 'rejected', 'train-00000.jsonl')))!.toString().split('\n').filter(Boolean).map((l) => JSON.parse(l));
  assert.deepEqual(rejectedJsonl.map((r) => [r.id, r.outcome, r.record]), [['f1', 'rejected', '{"code":"x"}'], ['f2', 'rejected', null]]);

  const card = (await deps.blobs.get(keys.dataset('r1', 'README.md')))!.toString();
  const front = card.split('\n---\n')[0]!;
  const named = [...front.matchAll(/^ {4}- (\S+)$/gm)].map((m) => m[1]).sort();
  assert.deepEqual(named, stats.files.map((f: { path: string }) => f.path).filter((p: string) => p.endsWith('.parquet')).sort(), 'configs: lists every Parquet part, and only those');
  for (const f of stats.files) assert.ok(card.includes(`| \`${f.path}\` | ${f.rows} |`), f.path);
  assert.match(front, /- config_name: codegen\n {2}data_files:\n {2}- split: train\n {4}path:\n {4}- codegen\/train-00000.parquet/);

  // A retry that fails nothing: the failed record is gone, and so is the part only it filled.
  await deps.blobs.delete(keys.failed('r1', 'backtranslate', 'g00001'));
  await assembleRun('r1', info, deps).catch(() => undefined);
  const after = await deps.blobs.list(keys.datasetPart('r1', 'rejected'));
  assert.deepEqual(after.map((k) => k.slice(k.lastIndexOf('/') + 1)), ['train-00000.jsonl', 'train-00000.parquet']);
  db.close();
});
