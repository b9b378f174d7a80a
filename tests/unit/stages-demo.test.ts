// The authored demo content driven through the real stage functions with the demo responder as
// the model: every unify/generate/back-translate outcome the content claims (its `expect` fields)
// is what the stages decide. Execution is not run here (the sandbox's own tests and the demo e2e
// do that); back-translation gets each program's authored output value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseSeed, type Seed } from '../../lib/stages/seeds.ts';
import { unifyShard } from '../../lib/stages/unify.ts';
import { generateShard } from '../../lib/stages/generate.ts';
import { backtranslateShard } from '../../lib/stages/backtranslate.ts';
import { judgePrompt, reversePrompt, solvePrompt } from '../../lib/stages/prompts.ts';
import type { LlmPort, LlmReply, LlmRequest, LlmRole } from '../../lib/stages/llm-port.ts';
import type { ExecutedRecord, PyValue } from '../../lib/schema.ts';
import { extractCodeBlock } from '../../lib/codecot/extract.ts';
import { DemoResponderMiss, demoRespond, demoRule } from '../../examples/demo/responder.ts';
import { GENERATED, UNIFY } from '../../examples/demo/responses.ts';
import { conserved } from '../fixtures/stages/scripted-llm.ts';

class DemoLlm implements LlmPort {
  calls = 0;
  async call(_role: LlmRole, req: LlmRequest): Promise<LlmReply> {
    this.calls++;
    const r = demoRespond({ messages: req.messages, prompt: req.prompt, sampleIndex: req.sampleIndex });
    return { content: r.content, finishReason: r.finishReason, cached: false };
  }
  model(role: LlmRole): string {
    return `demo-${role}`;
  }
}

const seeds: Seed[] = readFileSync(new URL('../../examples/seeds/gsm8k-demo.jsonl', import.meta.url), 'utf8')
  .trim()
  .split('\n')
  .map((l) => {
    const p = parseSeed(JSON.parse(l));
    assert.ok(p.ok);
    return p.seed;
  });

function pyValue(o: { str: string; type: string }): PyValue {
  const frac = o.str.match(/^(-?\d+)\/(\d+)$/);
  const json = o.type === 'Fraction' ? { $fraction: frac ? [frac[1], frac[2]] : [o.str, '1'] } : Number(o.str);
  return { json, repr: o.type === 'Fraction' ? `Fraction(${frac ? `${frac[1]}, ${frac[2]}` : o.str}, 1)` : o.str, str: o.str, type: o.type };
}

test('demo content: one authored unify reply per demo seed, in seed order', () => {
  assert.equal(seeds.length, 40);
  assert.deepEqual(UNIFY.map((u) => u.seedId), seeds.map((s) => s.id));
  for (const [i, u] of UNIFY.entries()) assert.ok(seeds[i].question.startsWith(u.q), u.seedId);
});

test('demo unify: the refusal and the truncated reply are rejected, every other seed becomes a Code CoT', async () => {
  const llm = new DemoLlm();
  const out = await unifyShard(seeds, { runId: 'demo', shard: 'u00000', llm, concurrency: 4 });
  assert.ok(conserved(out));
  const expected = UNIFY.filter((u) => u.expect.startsWith('unify:')).map((u) => [u.seedId, u.expect.slice('unify:'.length)]);
  assert.deepEqual(out.rejected.map((r) => [r.id, r.reason]), expected);
  assert.equal(out.kept.length, 38);
  assert.equal(out.failed.length, 0);
});

test('demo generate: 40 few-shot samples map to the authored programs by sample index', async () => {
  const pool = (await unifyShard(seeds, { runId: 'demo', shard: 'u00000', llm: new DemoLlm() })).kept;
  const out = await generateShard({ start: 0, count: GENERATED.length }, { runId: 'demo', shard: 'g00000', llm: new DemoLlm(), mode: 'fewshot', seed: 0, k: 3, pool });
  assert.ok(conserved(out));
  assert.equal(out.kept.length, GENERATED.length);
  for (const [i, rec] of out.kept.entries()) assert.equal(rec.code.trim(), extractCodeBlock(GENERATED[i].reply.content)!.trim());
});

test('demo backtranslate: kept samples verify, and the mismatch, missing \\boxed and GSM8K-test rewording are rejected', async () => {
  const reaching = GENERATED.filter((g) => g.output);
  const executed: ExecutedRecord[] = reaching.map((g) => {
    const id = `gen-g00000-${g.sample}`;
    const value = pyValue(g.output!);
    const inputMatch = extractCodeBlock(g.reply.content)!;
    return {
      id,
      code: inputMatch,
      provenance: { source: 'generated', model: 'demo-generate', sample: g.sample },
      exec: { id, status: 'ok', input: { json: {}, repr: '{...}', str: '{...}', type: 'dict' }, output: value, outputSource: 'global', stdout: `${g.output!.str}\n`, stderr: '', truncated: false, error: null, durationMs: 1 },
    };
  });
  const out = await backtranslateShard(executed, { runId: 'demo', shard: 'g00000', llm: new DemoLlm(), judge: true, concurrency: 4 });
  assert.ok(conserved(out));
  const outcome = (g: (typeof GENERATED)[number]) => {
    const id = `gen-g00000-${g.sample}`;
    return out.kept.some((k) => k.id === id) ? 'kept' : `backtranslate:${[...out.rejected, ...out.failed].find((r) => r.id === id)?.reason}`;
  };
  assert.deepEqual(reaching.map((g) => [g.sample, outcome(g)]), reaching.map((g) => [g.sample, g.expect]));
  assert.equal(out.kept.length, 31);
});

test('demo responder: unconditional CodeGen gets bare code; seed minus base picks the sample; unknown requests are named', () => {
  const bare = demoRespond({ prompt: '', seed: 105 }, { seedBase: 100 });
  assert.equal(bare.content, extractCodeBlock(GENERATED[5].reply.content));
  assert.doesNotMatch(bare.content, /```/);
  assert.throws(() => demoRespond({ messages: reversePrompt('print(1)', '{}', '1') }), DemoResponderMiss);
  assert.throws(() => demoRespond({ messages: solvePrompt('What is 1 + 1?') }), /no solve reply/);
  assert.throws(() => demoRespond({ messages: [{ role: 'user', content: 'hi' }] }), /unknown prompt/);
  assert.match(demoRespond({ messages: judgePrompt('p', 's', 'c') }).content, /Verdict: CONSISTENT$/);
});

test('demo responder: the near-duplicate (sample 27) can be back-translated too, whichever copy dedup keeps', async () => {
  const g = GENERATED[27];
  const code = extractCodeBlock(g.reply.content)!;
  const problem = demoRespond({ messages: reversePrompt(code, '{}', '72.9') }).content;
  assert.match(problem, /\$90/);
  const id = 'gen-g00001-27';
  const rec: ExecutedRecord = {
    id,
    code,
    exec: { id, status: 'ok', input: null, output: pyValue({ str: '72.9', type: 'float' }), outputSource: 'global', stdout: '', stderr: '', truncated: false, error: null, durationMs: 1 },
  };
  const out = await backtranslateShard([rec], { runId: 'demo', shard: 'g00001', llm: new DemoLlm(), findContamination: null });
  assert.deepEqual(out.kept.map((k) => k.answer), ['72.90']);
});

test('demo responder over real HTTP: the fake server serves it as a rule to the real client (unify, generate by seed, unconditional)', async () => {
  const { startFakeServer } = await import('../helpers/fake-openai-server.ts');
  const { LlmClient } = await import('../../lib/llm/client.ts');
  const { unifyPrompt, generateFewshotPrompt } = await import('../../lib/stages/prompts.ts');
  const server = await startFakeServer({ respond: demoRule({ seedBase: 1000 }) });
  try {
    const base = { baseURL: server.baseURL, apiKeyEnv: 'CACO_DEMO_TEST_KEY', maxRetries: 0 };
    process.env.CACO_DEMO_TEST_KEY ??= 'demo';
    const unify = new LlmClient('unify', { ...base, model: 'demo-unify' });
    const gen = new LlmClient('generate', { ...base, model: 'demo-gen', seed: 1000 });
    const codegen = new LlmClient('generate', { ...base, model: 'demo-codegen', api: 'completions', seed: 1000 });
    const u = await unify.complete({ messages: unifyPrompt(seeds[15].question, seeds[15].solution) });
    assert.equal(u.finishReason, 'length'); // the authored truncated reply for seed 16
    const g = await gen.complete({ messages: generateFewshotPrompt(['x = 1']), sample: 12 });
    assert.equal(g.content, GENERATED[12].reply.content);
    const c = await codegen.complete({ prompt: '', sample: 3 });
    assert.equal(c.content, extractCodeBlock(GENERATED[3].reply.content));
  } finally {
    await server.close();
  }
});
