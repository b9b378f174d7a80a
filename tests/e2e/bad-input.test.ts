// Bad input never stops a run: malformed lines are quarantined with their line number and reason
// and counted; an empty file is a run with no samples; a missing input or a bad config is one
// clear error before any work.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadConfigFile, runLocal } from '../../lib/local/run-local.ts';
import { DEMO_CONFIG, DEMO_INPUT } from '../../lib/cli/demo.ts';
import { ConfigError } from '../../lib/config.ts';
import { partsOf, readConfig } from '../helpers/dataset.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'caco-bad-'));
const demoSeeds = readFileSync(DEMO_INPUT, 'utf8').split('\n').filter(Boolean);

function unifyRun(input: string, out: string) {
  // unify mode asks only the unify role, whose replies the demo cassette holds for these seeds.
  return runLocal({ input, config: loadConfigFile(DEMO_CONFIG), configDir: dirname(DEMO_CONFIG), out, mode: 'unify', progress: 'quiet' });
}

test('malformed, mistyped, non-UTF-8 and 50 MB lines are quarantined; the good seeds go through', { timeout: 120_000 }, async () => {
  const dir = tmp();
  const input = join(dir, 'seeds.jsonl');
  const huge = Buffer.alloc(50 * 1024 * 1024, 0x61);
  writeFileSync(
    input,
    Buffer.concat([
      Buffer.from(`${demoSeeds[0]}\n{"question": "no closing brace"\n{"answer": "#### 3"}\n{"question": 5, "answer": "#### 3"}\n`),
      Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d, 0x0a]),
      Buffer.from('{"question": "'),
      huge,
      Buffer.from(`"}\n\n${demoSeeds[1]}\n`),
    ]),
  );
  const r = await unifyRun(input, join(dir, 'out'));
  assert.equal(r.status, 'done', JSON.stringify(r.deadLetters));
  const ingest = r.stats!.stages.ingest!;
  assert.equal(ingest.kept, 2);
  assert.deepEqual(ingest.rejected, { bad_json: 1, invalid_seed: 2, invalid_utf8: 1, line_too_long: 1 });
  const quarantined = (await readConfig(r.datasetDir!, 'rejected')).filter((q) => q.stage === 'ingest');
  assert.deepEqual(quarantined.map((q) => q.detail.match(/^line (\d+)/)![1]).sort(), ['2', '3', '4', '5', '6']);
  assert.match(quarantined.find((q) => q.reason === 'invalid_seed' && q.detail.startsWith('line 4'))!.detail, /question/);
  assert.equal(r.stats!.conservation.ok, true);
  assert.equal(r.stats!.stages.unify!.in, 2);
});

test('an empty input file is a finished run with no samples', { timeout: 60_000 }, async () => {
  const dir = tmp();
  writeFileSync(join(dir, 'empty.jsonl'), '');
  const r = await unifyRun(join(dir, 'empty.jsonl'), join(dir, 'out'));
  assert.equal(r.status, 'done');
  assert.equal(r.stats!.samples + r.stats!.codegen, 0);
  // Every config is there, empty, so each still loads (0 rows).
  for (const c of ['default', 'sft', 'rlvr', 'codegen', 'rejected']) {
    assert.equal(partsOf(r.datasetDir!, c).length, 1, c);
    assert.deepEqual(await readConfig(r.datasetDir!, c), [], c);
  }
});

test('a missing input, an unreadable config and a bad config are clear errors', async () => {
  const dir = tmp();
  await assert.rejects(unifyRun(join(dir, 'nope.jsonl'), join(dir, 'out')), (e: Error) => e instanceof ConfigError && /input file not found/.test(e.message));
  assert.throws(() => loadConfigFile(join(dir, 'missing.json')), /cannot read config file .*ENOENT/);
  writeFileSync(join(dir, 'bad.json'), '{ "mode": ');
  assert.throws(() => loadConfigFile(join(dir, 'bad.json')), /not valid JSON/);
  writeFileSync(join(dir, 'in.jsonl'), demoSeeds[0] + '\n');
  await assert.rejects(
    runLocal({ input: join(dir, 'in.jsonl'), config: { mode: 'fast', shardSize: 0, sandbx: {} }, out: join(dir, 'out2'), progress: 'quiet' }),
    (e: Error) =>
      e instanceof ConfigError &&
      /mode: .*"unify".*"synthesize".*"full"/.test(e.message) &&
      /shardSize: /.test(e.message) &&
      /unknown field\(s\) "sandbx"/.test(e.message),
  );
  await assert.rejects(
    runLocal({ input: join(dir, 'in.jsonl'), config: { mode: 'unify' }, out: join(dir, 'out3'), progress: 'quiet' }),
    (e: Error) => e instanceof ConfigError && /llm\.unify\.baseURL/.test(e.message) && /llm\.unify\.model/.test(e.message),
  );
});
