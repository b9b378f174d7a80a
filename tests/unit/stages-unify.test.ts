import { test } from 'node:test';
import assert from 'node:assert/strict';
import { unifyShard } from '../../lib/stages/unify.ts';
import { parseSeed, seedIdFor, type Seed } from '../../lib/stages/seeds.ts';
import { H_PROBLEM, H_SOLUTION, promptKindOf } from '../../lib/stages/prompts.ts';
import { ScriptedLlm, conserved, outage, userText, type Script } from '../fixtures/stages/scripted-llm.ts';

const GOOD = `Sure! Here is the program:

\`\`\`python
input = {"april": 48}

def solve(input):
    # Step 1: May is half of April
    may = input["april"] // 2
    # Step 2: add both months
    return input["april"] + may

output = solve(input)
print(output)
\`\`\`

The program prints 72.`;

function seed(q: string): Seed {
  const p = parseSeed({ question: q, answer: `work\n#### 72` });
  assert.ok(p.ok);
  return p.seed;
}

// One seed per outcome; the script answers by the seed question inside the unify prompt.
const REPLIES: Record<string, ReturnType<Script>> = {
  'Q good': GOOD,
  'Q empty': '   \n',
  'Q truncated': { content: '```python\ninput = {"a": 1}\ndef solve(input):\n    # Step 1', finishReason: 'length' },
  'Q refusal': "I'm sorry, but I can't help with converting this problem.",
  'Q filtered': { content: 'x', finishReason: 'content_filter' },
  'Q noblock': 'The answer is 72 because 48 + 24 = 72.',
  'Q syntax': '```python\ninput = {"a": 1\n\ndef solve(input):\n    return input["a"]\n\noutput = solve(input)\nprint(output)\n```',
  'Q apology-with-code': "I'm sorry for the confusion earlier. " + GOOD,
  'Q outage': outage('breaker open after 6 retries'),
};

function questionOf(text: string): string {
  return text.slice(text.indexOf(H_PROBLEM) + H_PROBLEM.length, text.indexOf(H_SOLUTION)).trim();
}

test('unify: each bad reply is a rejection with its reason, an outage is a failure, and nothing is lost', async () => {
  const llm = new ScriptedLlm((role, req) => {
    assert.equal(role, 'unify');
    assert.equal(promptKindOf(req.messages), 'unify');
    return REPLIES[questionOf(userText(req))];
  });
  const seeds = Object.keys(REPLIES).map(seed);
  const out = await unifyShard(seeds, { runId: 'r1', shard: '00000', llm, concurrency: 3 });
  assert.ok(conserved(out));
  const reasons = Object.fromEntries([...out.rejected, ...out.failed].map((r) => [seeds.find((s) => s.id === r.id)!.question, r.reason]));
  assert.deepEqual(reasons, {
    'Q empty': 'llm_empty',
    'Q truncated': 'llm_truncated',
    'Q refusal': 'llm_refusal',
    'Q filtered': 'llm_refusal',
    'Q noblock': 'no_code_block',
    'Q syntax': 'code_syntax',
    'Q outage': 'llm_unavailable',
  });
  assert.equal(out.failed.length, 1);
  assert.deepEqual(out.kept.map((r) => r.question).sort(), ['Q apology-with-code', 'Q good']);
  const kept = out.kept.find((r) => r.question === 'Q good')!;
  assert.equal(kept.id, seedIdFor('Q good'));
  assert.equal(kept.gold, '72');
  assert.match(kept.code, /^input = \{"april": 48\}\n[\s\S]*print\(output\)\n$/);
  assert.deepEqual(kept.provenance, { source: 'seed', seedId: kept.id, model: 'test-unify-model' });
  assert.equal(llm.requests.length, seeds.length);
});

test('unify: the prompt carries the question and the worked solution, and is the same on a re-run', async () => {
  const s = seed('Natalia sold clips to 48 of her friends in April.');
  const runs: string[] = [];
  for (let i = 0; i < 2; i++) {
    const llm = new ScriptedLlm(() => GOOD);
    await unifyShard([s], { runId: `run-${i}`, shard: '00001', llm });
    runs.push(JSON.stringify(llm.requests));
  }
  assert.equal(runs[0], runs[1]);
  assert.match(runs[0], /Natalia sold clips/);
  assert.match(runs[0], /#### 72/);
});

test('seeds: gold from GSM8K and MATH solutions or an explicit gold, stable ids, clear errors', () => {
  const g = parseSeed({ question: ' How many? ', answer: 'a\n#### 1,234' });
  assert.ok(g.ok && g.seed.gold === '1234' && g.seed.id === seedIdFor('How many?') && g.seed.question === 'How many?');
  const m = parseSeed({ id: 7, question: 'Find x.', solution: 'So $x = \\boxed{\\frac{1}{2}}$.' });
  assert.ok(m.ok && m.seed.gold === '\\frac{1}{2}' && m.seed.id === '7');
  const e = parseSeed({ question: 'Q', gold: 5 });
  assert.ok(e.ok && e.seed.gold === '5' && e.seed.solution === '');
  const none = parseSeed({ question: 'Q', answer: 'no final answer here' });
  assert.ok(!none.ok && none.reason === 'no_gold');
  const bad = parseSeed({ question: '', answer: '#### 3' });
  assert.ok(!bad.ok && bad.reason === 'invalid_seed' && /question/.test(bad.detail));
  const missing = parseSeed({ question: 'Q' });
  assert.ok(!missing.ok && missing.reason === 'invalid_seed');
  assert.notEqual(seedIdFor('a'), seedIdFor('b'));
});
