// `caco estimate` (issue 14, part 4) against what the demo actually used: the demo's cassette
// holds every reply the demo run buys, with its token usage, so the estimate's calls and tokens
// per role are compared with the real ones (computed here from the cassette, not written down).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseRunConfig } from '../../lib/config.ts';
import { estimateRun } from '../../lib/local/estimate.ts';
import { formatEstimate } from '../../lib/cli/estimate.ts';
import { REPO_ROOT, runCli } from '../helpers/run-cli.ts';
import type { CacheEntry } from '../../lib/llm/request.ts';

const INPUT = join(REPO_ROOT, 'examples/seeds/gsm8k-demo.jsonl');
const CONFIG = join(REPO_ROOT, 'examples/demo/run.json');
const demoCfg = JSON.parse(readFileSync(CONFIG, 'utf8'));

function actual() {
  const rows = readFileSync(join(REPO_ROOT, 'examples/demo/cassette.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as CacheEntry);
  const by: Record<string, { calls: number; tokens: number; usd: number }> = {};
  for (const e of rows) {
    const role = e.stage;
    const price = { ...demoCfg.llm.default.price, ...(demoCfg.llm[role]?.price ?? {}) };
    const b = (by[role] ??= { calls: 0, tokens: 0, usd: 0 });
    b.calls++;
    b.tokens += e.response.usage.promptTokens + e.response.usage.completionTokens;
    b.usd += (e.response.usage.promptTokens * price.inputPerMTok + e.response.usage.completionTokens * price.outputPerMTok) / 1e6;
  }
  return by;
}

test("the demo's estimate is within 25% of the demo's actual tokens and dollars; calls per role match", async (t) => {
  const e = await estimateRun(INPUT, parseRunConfig(demoCfg));
  const real = actual();
  const total = (f: (r: { calls: number; tokens: number; usd: number }) => number) => Object.values(real).reduce((a, r) => a + f(r), 0);
  const estTokens = e.roles.reduce((a, r) => a + r.promptTokens + r.completionTokens, 0);
  t.diagnostic(formatEstimate(e));
  t.diagnostic(`actual: ${total((r) => r.tokens)} tokens, $${total((r) => r.usd).toFixed(4)}; per role ${JSON.stringify(real)}`);
  assert.equal(e.roles.find((r) => r.role === 'unify')!.calls, real.unify!.calls, 'one unify call per valid seed');
  assert.equal(e.roles.find((r) => r.role === 'generate')!.calls, real.generate!.calls, 'one generate call per sample');
  for (const role of ['reverse', 'solve']) {
    const est = e.roles.find((r) => r.role === role)!.calls;
    assert.ok(Math.abs(est - real[role]!.calls) <= 0.15 * real[role]!.calls, `${role}: ${est} calls estimated, ${real[role]!.calls} made`);
  }
  const ratio = estTokens / total((r) => r.tokens);
  assert.ok(ratio > 0.75 && ratio < 1.25, `tokens: estimate/actual = ${ratio.toFixed(2)}`);
  const usdRatio = e.llmUSD / total((r) => r.usd);
  assert.ok(usdRatio > 0.75 && usdRatio < 1.25, `dollars: estimate/actual = ${usdRatio.toFixed(2)}`);
  assert.deepEqual(e.unpriced, []);
  assert.ok(e.awsUSD > 0 && e.wallS > 0);
  assert.ok(e.assumptions.length >= 6);
});

test('a missing price is reported as missing, not as $0', async () => {
  const cfg = parseRunConfig({ ...demoCfg, llm: { ...demoCfg.llm, default: { ...demoCfg.llm.default, price: undefined }, reverse: { model: 'Qwen/Qwen3-8B' }, solve: { model: 'Qwen/Qwen3-8B', price: { inputPerMTok: 0.05, outputPerMTok: 0.25 } } } });
  const e = await estimateRun(INPUT, cfg);
  assert.deepEqual(e.unpriced.sort(), ['Qwen/Qwen2.5-72B-Instruct (generate)', 'Qwen/Qwen2.5-72B-Instruct (unify)', 'Qwen/Qwen3-8B (reverse)']);
  assert.equal(e.roles.find((r) => r.role === 'unify')!.usd, null);
  assert.ok(e.roles.find((r) => r.role === 'solve')!.usd! > 0);
  const text = formatEstimate(e);
  assert.match(text, /unify .* price unknown/);
  assert.match(text, /LLM: [\d,]+ tokens, \$0\.\d{4} \+ unknown \(no price set for /);
});

test('caco estimate prints the estimate and its assumptions', async () => {
  const r = await runCli(['estimate', INPUT, '--config', CONFIG]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Estimate for 39 input records -> ~40 candidate programs/);
  assert.match(r.stdout, /Assumptions:\n  - input: 40 lines/);
});

test('the estimate prices the same tokens interactively and through the Batch API, and marks the roles the config sends in batch', async () => {
  const e = await estimateRun(INPUT, parseRunConfig(demoCfg));
  for (const r of e.roles) assert.ok(r.usd! > 0 && Math.abs(r.batchUsd! - r.usd! * 0.5) < 1e-12, `${r.role}: ${r.usd} vs ${r.batchUsd}`);
  assert.ok(e.roles.every((r) => !r.batch));
  const batchCfg = parseRunConfig({ ...demoCfg, llm: { ...demoCfg.llm, solve: { ...demoCfg.llm.solve, batch: true, price: { inputPerMTok: 0.05, outputPerMTok: 0.25, batchFactor: 0.4 } } } });
  const b = await estimateRun(INPUT, batchCfg);
  const solve = b.roles.find((r) => r.role === 'solve')!;
  assert.ok(solve.batch && Math.abs(solve.batchUsd! - solve.usd! * 0.4) < 1e-12);
  const text = formatEstimate(b);
  assert.match(text, /solve .*\*  ~<= 24 h \(batch\)/);
  const interactive = b.roles.reduce((a, r) => a + r.usd!, 0);
  const thisRun = interactive - solve.usd! + solve.batchUsd!;
  assert.match(text, new RegExp(`interactive, \\$[\\d.]+ through the Batch API; this config: \\$${thisRun.toFixed(4).replace('.', '\\.')}`));
});
