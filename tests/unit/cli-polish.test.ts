// CLI polish (issue 14, part 6): --version, "did you mean" for commands, options and config
// fields, and costs of unpriced models printed as unknown, never as $0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, parseRunConfig, RunConfigSchema } from '../../lib/config.ts';
import { formatUSD } from '../../lib/util/money.ts';
import { endpointLines, summarize } from '../../lib/local/progress.ts';
import { formatSummary } from '../../lib/local/summary.ts';
import { REPO_ROOT, runCli } from '../helpers/run-cli.ts';
import type { ShardState } from '../../lib/store/ports.ts';

test('caco --version prints the package version', async () => {
  const { version } = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8'));
  const r = await runCli(['--version']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, new RegExp(`^caco ${version.replace(/\./g, '\\.')} `));
});

test('a mistyped command or option gets a suggestion and exit code 1', async () => {
  const cmd = await runCli(['stauts', 'run-x']);
  assert.equal(cmd.code, 1);
  assert.match(cmd.stderr, /unknown command 'stauts'\n\(Did you mean status\?\)/);
  const opt = await runCli(['run', 'x.jsonl', '--retry-faild']);
  assert.equal(opt.code, 1);
  assert.match(opt.stderr, /Did you mean --retry-failed\?/);
});

test('a mistyped config field names the field it was probably meant to be, at any depth', () => {
  const bad = { shardsize: 10, generate: { sample: 5 }, llm: { default: { modle: 'x', baseUrl: 'http://a/v1' } }, filter: { zzzzzzzzz: 1 } };
  let message = '';
  try {
    parseRunConfig(bad);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    message = err.message;
  }
  assert.match(message, /\(config\): unknown field\(s\) "shardsize" \(did you mean "shardSize"\?\)/);
  assert.match(message, /generate: unknown field\(s\) "sample" \(did you mean "samples"\?\)/);
  assert.match(message, /llm\.default: unknown field\(s\) "modle" \(did you mean "model"\?\), "baseUrl" \(did you mean "baseURL"\?\)/);
  // Nothing close: no guess, but the known fields are listed.
  assert.match(message, /filter: unknown field\(s\) "zzzzzzzzz"; known fields: /);
});

test('a mistyped sandbox limit is an error with a suggestion, not a silent default', () => {
  let message = '';
  try {
    parseRunConfig({ sandbox: { timeoutMS: 5000, memoryMb: 256 } });
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    message = err.message;
  }
  assert.match(message, /sandbox: unknown field\(s\) "timeoutMS" \(did you mean "timeoutMs"\?\); known fields: workers, timeoutMs/);
  // The correct spelling parses and keeps its value.
  assert.equal(RunConfigSchema.parse({ sandbox: { timeoutMs: 5000 } }).sandbox.timeoutMs, 5000);
});

test('an unset price is unknown everywhere cost is printed; an explicit 0 is free', () => {
  assert.equal(formatUSD(0.5), '$0.5000');
  assert.equal(formatUSD(0, ['m']), 'unknown (no price set for m)');
  assert.equal(formatUSD(0.25, ['m', 'm']), '$0.2500 + unknown (no price set for m)');
  const cfg = parseRunConfig({ llm: { default: { baseURL: 'http://127.0.0.1:1/v1', model: 'm' }, solve: { price: { inputPerMTok: 0, outputPerMTok: 0 } } } });
  assert.equal(cfg.llm.default.price, undefined);

  const counters = { 'llm|unify|m|requests': 3, 'llm|unify|m|prompt_tokens': 300, 'llm|unify|m|completion_tokens': 30, 'llm|unify|m|unpriced': 3 };
  const shard: ShardState = { runId: 'r', stage: 'unify', shard: 'u00000', counts: { in: 3, kept: 3, rejected: {}, failed: {}, counters }, next: [] } as ShardState;
  const s = summarize([shard], { seeds: 3, samples: 0, mode: 'unify' });
  assert.deepEqual(s.unpriced, ['m']);
  const text = formatSummary({ stages: { unify: { in: 3, kept: 3, rejected: {}, failed: {}, counters } }, conservation: { ok: true, problems: [] } } as never, 1000);
  assert.match(text, /unknown \(no price\)/);
  assert.match(text, /LLM cost: unknown \(no price set for m\)/);
  assert.doesNotMatch(text, /LLM cost: \$0\.0000/);
});

test('the endpoint line says breaker state, failing time, last error and next try', () => {
  const now = 100_000;
  const lines = endpointLines(
    [
      { roles: ['unify'], baseURL: 'http://h/v1', state: 'open', lastError: '500 boom\nstack', failingSince: now - 12_000, nextTryAt: now + 4_200, failuresSinceSuccess: 7, lastSuccessAt: null, lastFailureAt: now - 1000 },
      { roles: ['solve'], baseURL: 'http://ok/v1', state: 'closed', lastError: null, failingSince: null, nextTryAt: null, failuresSinceSuccess: 0, lastSuccessAt: now, lastFailureAt: null },
    ],
    now,
  );
  assert.deepEqual(lines, ['LLM unify http://h/v1: breaker OPEN, failing for 12 s (7 failed attempts), last error: 500 boom, next try in 5 s']);
});
