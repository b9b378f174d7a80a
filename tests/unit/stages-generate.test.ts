import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateShard, pickExamples, sampleId } from '../../lib/stages/generate.ts';
import { promptKindOf } from '../../lib/stages/prompts.ts';
import { syntaxProblem } from '../../lib/stages/code-syntax.ts';
import type { CodeCotRecord } from '../../lib/schema.ts';
import { ScriptedLlm, conserved, outage, userText } from '../fixtures/stages/scripted-llm.ts';

const prog = (name: string, n: number) =>
  `input = {"${name}": ${n}}\n\ndef solve(input):\n    # Step 1: double it\n    return input["${name}"] * 2\n\noutput = solve(input)\nprint(output)\n`;
const POOL: CodeCotRecord[] = Array.from({ length: 10 }, (_, i) => ({ id: `seed-${String(i).padStart(2, '0')}`, code: prog(`q${i}`, i) }));

const fenced = (code: string) => `Here is a new problem, about apples this time.\n\n\`\`\`python\n${code}\`\`\`\n\nIt prints the total.`;

test('generate fewshot: example choice is a pure function of (seed, shard, sample), so requests repeat byte for byte', async () => {
  const runOnce = async (runId: string, pool: CodeCotRecord[]) => {
    const llm = new ScriptedLlm(() => fenced(prog('apples', 3)));
    const out = await generateShard({ start: 20, count: 6 }, { runId, shard: '00002', llm, mode: 'fewshot', seed: 42, k: 3, pool, concurrency: 4 });
    return { out, wire: JSON.stringify(llm.requests) };
  };
  const a = await runOnce('run-a', POOL);
  const b = await runOnce('run-b', [...POOL].reverse()); // another run id, pool in another order
  assert.equal(a.wire, b.wire);
  assert.deepEqual(a.out, b.out);
  assert.ok(conserved(a.out));
  assert.deepEqual(a.out.kept.map((r) => r.id), [20, 21, 22, 23, 24, 25].map((i) => sampleId('00002', i)));
  assert.deepEqual(a.out.kept[0].provenance, { source: 'generated', model: 'test-generate-model', sample: 20 });
  // each prompt shows 3 distinct pool programs, and the samples do not all get the same three
  const shown = a.out.kept.map((r) => r.examples!);
  for (const ex of shown) assert.equal(new Set(ex).size, 3);
  assert.ok(new Set(shown.map((e) => e.join())).size > 1);
  // a different config seed picks differently
  const same = pickExamples(POOL, 3, 42, '00002', 20).map((r) => r.id);
  assert.deepEqual(same, shown[0]);
  const others = Array.from({ length: 5 }, (_, i) => pickExamples(POOL, 3, 43 + i, '00002', 20).map((r) => r.id).join());
  assert.ok(others.some((x) => x !== same.join()));
});

test('generate fewshot: the prompt shows the examples and asks for a new one; every bad reply is rejected with a reason', async () => {
  const replies = [
    fenced(prog('pears', 5)), // 0 kept
    '', // 1 llm_empty
    { content: '```python\ninput = {"a": 1}\n', finishReason: 'length' }, // 2 llm_truncated
    'I cannot help with that request.', // 3 llm_refusal
    'Let me think about a new problem first. We could count sheep.', // 4 no_code_block
    fenced('input = {"a": 1}\ndef solve(input):\nreturn 1\n'), // 5 code_syntax
    outage(), // 6 failed
  ];
  const llm = new ScriptedLlm((role, req) => {
    assert.equal(role, 'generate');
    assert.equal(promptKindOf(req.messages), 'generate');
    assert.match(userText(req), /Example 1:\n```python\ninput = /);
    assert.match(userText(req), /NEW math problem/);
    return replies[req.sampleIndex!];
  });
  const out = await generateShard({ start: 0, count: replies.length }, { runId: 'r', shard: 's', llm, mode: 'fewshot', seed: 1, pool: POOL.slice(0, 2), k: 3 });
  assert.ok(conserved(out));
  assert.deepEqual(out.kept.map((r) => r.id), ['gen-s-0']);
  assert.equal(out.kept[0].examples!.length, 2); // k capped by the pool size
  assert.deepEqual(out.rejected.map((r) => [r.id, r.reason]), [
    ['gen-s-1', 'llm_empty'],
    ['gen-s-2', 'llm_truncated'],
    ['gen-s-3', 'llm_refusal'],
    ['gen-s-4', 'no_code_block'],
    ['gen-s-5', 'code_syntax'],
  ]);
  assert.deepEqual(out.failed.map((r) => [r.id, r.reason]), [['gen-s-6', 'llm_unavailable']]);
});

test('generate fewshot with an empty pool rejects every sample without calling the LLM', async () => {
  const llm = new ScriptedLlm(() => assert.fail('no call expected'));
  const out = await generateShard({ start: 0, count: 3 }, { runId: 'r', shard: 's', llm, mode: 'fewshot', seed: 1, pool: [] });
  assert.ok(conserved(out));
  assert.deepEqual(out.rejected.map((r) => r.reason), ['no_fewshot_examples', 'no_fewshot_examples', 'no_fewshot_examples']);
  assert.equal(llm.requests.length, 0);
});

test('generate unconditional: empty completions prompt, one request per sample index, bare code accepted', async () => {
  const llm = new ScriptedLlm((_role, req) => (req.sampleIndex === 1 ? 'def broken(:\n' : prog('x', req.sampleIndex!)));
  const out = await generateShard({ start: 0, count: 3 }, { runId: 'r', shard: '00007', llm, mode: 'unconditional', seed: 1 });
  assert.ok(conserved(out));
  assert.deepEqual(llm.requests.map((r) => [r.req.prompt, r.req.messages, r.req.sampleIndex]), [['', undefined, 0], ['', undefined, 1], ['', undefined, 2]]);
  assert.deepEqual(out.kept.map((r) => r.id), ['gen-00007-0', 'gen-00007-2']);
  assert.equal(out.kept[1].code, prog('x', 2));
  assert.equal(out.rejected[0].reason, 'code_syntax');
});

test('syntax check: catches unclosed brackets, bad indentation, missing bodies, bad tokens; passes Caco programs', () => {
  assert.equal(syntaxProblem(prog('a', 1)), null);
  assert.equal(syntaxProblem('if x: y = 1\nz = {k: v for k, v in d.items()}[1:2]\n'), null);
  assert.match(syntaxProblem('x = (1 + 2\nprint(x)\n')!, /never closed/);
  assert.match(syntaxProblem('x = [1, 2)\n')!, /unmatched/);
  assert.match(syntaxProblem('x = 1\n    y = 2\n')!, /unexpected indent/);
  assert.match(syntaxProblem('def f():\nx = 1\n')!, /indented block/);
  assert.match(syntaxProblem('def f():\n')!, /indented block/);
  assert.match(syntaxProblem('x = "abc\n')!, /invalid syntax/);
});
