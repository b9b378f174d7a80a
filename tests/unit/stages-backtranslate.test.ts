import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backtranslateShard, cleanProblem, variantId } from '../../lib/stages/backtranslate.ts';
import { verifyGoldShard } from '../../lib/stages/verify-gold.ts';
import { H_CODE, parseJudgeVerdict, promptKindOf } from '../../lib/stages/prompts.ts';
import type { ExecutedRecord, PyValue } from '../../lib/schema.ts';
import type { BacktranslateContext } from '../../lib/stages/types-context.ts';
import { ScriptedLlm, conserved, outage, userText, type Script } from '../fixtures/stages/scripted-llm.ts';
import { readFileSync } from 'node:fs';
import { extractFinalAnswer, STATED_RULES } from '../../lib/answer/final.ts';
import { comparePairLine } from '../../lib/answer/batch.ts';

const pv = (json: unknown, str: string, type: string): PyValue => ({ json, repr: str, str, type });

function executed(id: string, tag: string, out: PyValue | null, extra: Partial<ExecutedRecord> = {}): ExecutedRecord {
  const code = `input = {"${tag}": 3}\n\ndef solve(input):\n    # Step 1: ${tag}\n    return input["${tag}"] * 4\n\noutput = solve(input)\nprint(output)\n`;
  return {
    id,
    code,
    provenance: { source: 'generated', model: 'gen-model', sample: 1 },
    exec: { id, status: 'ok', input: pv({ [tag]: 3 }, `{'${tag}': 3}`, 'dict'), output: out, outputSource: 'global', stdout: '', stderr: '', truncated: false, error: null, durationMs: 1 },
    ...extra,
  };
}

const solution = (ans: string) => `We multiply 3 by 4.\n\n3 × 4 = 12.\n\nThe answer is $\\boxed{${ans}}$.`;
const problemFor = (tag: string) => `A baker packs ${tag} boxes: each of the 3 trays holds 4 rolls. How many rolls are there in total?`;
const TWELVE = pv(12, '12', 'int');

/** reverse answers by the tag found in the program; solve and judge by the tag in the problem. */
function scriptFor(plan: Record<string, { reverse?: ReturnType<Script>; solve?: ReturnType<Script>; judge?: ReturnType<Script> }>): Script {
  return (role, req) => {
    assert.equal(promptKindOf(req.messages), role);
    const text = userText(req);
    const tag = Object.keys(plan).find((t) => text.includes(`"${t}"`) || text.includes(`${t} boxes`));
    assert.ok(tag, `no plan for request: ${text.slice(0, 200)}`);
    const p = plan[tag];
    if (role === 'reverse') return p.reverse ?? problemFor(tag);
    if (role === 'solve') {
      assert.doesNotMatch(text, /```|def |input\[/, 'solve must see the problem only');
      return p.solve ?? solution('12');
    }
    if (role === 'judge') return p.judge ?? 'The solution multiplies the same quantities as the program.\nVerdict: CONSISTENT';
    throw new Error(`unexpected role ${role}`);
  };
}

const noDecontam = { findContamination: null };

test('backtranslate: every outcome of reverse, decontamination, solve, verify and judge, with conservation', async () => {
  const plan = {
    good: {},
    labelled: { reverse: `**Problem:** ${problemFor('labelled')}` },
    revempty: { reverse: '' },
    revtrunc: { reverse: { content: 'A baker packs revtrunc boxes: each of the', finishReason: 'length' } },
    revrefuse: { reverse: "I'm sorry, but I can't help with that." },
    leak: { reverse: `Given input["leak"] = 3 in the Python code, what is printed? leak boxes` },
    contam: { reverse: `CONTAMINATED contam boxes` },
    nobox: { solve: 'We multiply 3 by 4 to get 12 rolls. contam' },
    wrong: { solve: solution('7') },
    soltrunc: { solve: { content: 'We multiply 3 by', finishReason: 'length' } },
    solempty: { solve: '  ' },
    down: { solve: outage('solve endpoint down') },
    judged: { judge: 'The solution adds instead of multiplying.\nVerdict: INCONSISTENT' },
    vague: { judge: 'Looks fine to me.' },
  } satisfies Parameters<typeof scriptFor>[0];
  const records = Object.keys(plan).map((t, i) => executed(`p${i}-${t}`, t, TWELVE));
  records.push(executed('p-nooutput', 'nooutput', null));
  const llm = new ScriptedLlm(scriptFor(plan), { reverse: 'rev-model', solve: 'solve-model', judge: 'judge-model' });
  const ctx: BacktranslateContext = {
    runId: 'r',
    shard: 'g00001',
    llm,
    judge: true,
    concurrency: 4,
    findContamination: (t) => (t.includes('CONTAMINATED') ? { benchmark: 'gsm8k', id: 'test-17', ngram: 'contaminated contam boxes' } : null),
  };
  const out = await backtranslateShard(records, ctx);
  assert.ok(conserved(out));
  const reasonOf = (id: string) => [...out.rejected, ...out.failed].find((r) => r.id === id)?.reason;
  const byTag = Object.fromEntries(records.map((r) => [r.id.split('-').slice(1).join('-'), reasonOf(r.id) ?? 'kept']));
  assert.deepEqual(byTag, {
    good: 'kept',
    labelled: 'kept',
    revempty: 'llm_empty',
    revtrunc: 'llm_truncated',
    revrefuse: 'llm_refusal',
    leak: 'problem_mentions_code',
    contam: 'contaminated:gsm8k',
    nobox: 'no_boxed_answer',
    wrong: 'answer_mismatch',
    soltrunc: 'llm_truncated',
    solempty: 'llm_empty',
    down: 'llm_unavailable',
    judged: 'judge_inconsistent',
    vague: 'judge_no_verdict',
    nooutput: 'no_output',
  });
  assert.deepEqual(out.failed.map((f) => f.reason), ['llm_unavailable']);
  assert.match(out.rejected.find((r) => r.reason === 'answer_mismatch')!.detail!, /nl=7 code=12/);
  assert.match(out.rejected.find((r) => r.reason === 'contaminated:gsm8k')!.detail!, /test-17/);
  const good = out.kept.find((r) => r.id === 'p0-good')!;
  assert.deepEqual(good, {
    id: 'p0-good',
    instruction: problemFor('good'),
    output: solution('12'),
    answer: '12',
    code: records[0].code,
    code_output: '12',
    provenance: { source: 'generated', model: 'gen-model', sample: 1, variant: 0, models: { reverse: 'rev-model', solve: 'solve-model', judge: 'judge-model' } },
  });
  assert.equal(out.kept.find((r) => r.id === 'p1-labelled')!.instruction, problemFor('labelled'));
  // solve saw only the problem; reverse saw the program and its input/output
  const rev = llm.requests.find((r) => r.role === 'reverse')!;
  assert.match(userText(rev.req), new RegExp(`${H_CODE}\\n\`\`\`python\\ninput = `));
  assert.match(userText(rev.req), /Input: \{'\w+': 3\}\nOutput: 12/);
  // no judge call for a record that already failed verification
  assert.equal(llm.requests.filter((r) => r.role === 'judge').length, 4);
});

test('backtranslate: several problem variants per program, each its own record; no judge when off', async () => {
  const llm = new ScriptedLlm((role, req) => {
    if (role === 'reverse') return req.sampleIndex === 1 ? 'I cannot help with that request.' : problemFor(`v${req.sampleIndex}`);
    return solution('12');
  });
  const out = await backtranslateShard([executed('prog', 'x', TWELVE)], { runId: 'r', shard: 'g1', llm, variants: 3, ...noDecontam });
  assert.ok(conserved(out));
  assert.equal(out.counters.in, 3);
  assert.deepEqual(out.kept.map((r) => [r.id, r.provenance.variant]), [['prog', 0], ['prog-v2', 2]]);
  assert.deepEqual(out.rejected.map((r) => [r.id, r.reason]), [[variantId('prog', 1), 'llm_refusal']]);
  assert.deepEqual(llm.requests.map((r) => r.role).sort(), ['reverse', 'reverse', 'reverse', 'solve', 'solve']);
});

test('backtranslate: an answer equal in value but written differently verifies (fraction vs decimal)', async () => {
  const llm = new ScriptedLlm((role) => (role === 'reverse' ? problemFor('f') : solution('\\frac{3}{8}')));
  const out = await backtranslateShard([executed('frac', 'f', pv(0.375, '0.375', 'float'))], { runId: 'r', shard: 'g1', llm, ...noDecontam });
  assert.deepEqual(out.kept.map((r) => [r.answer, r.code_output]), [['\\frac{3}{8}', '0.375']]);
});

test('backtranslate: solve uses the same extraction and equivalence as `caco answers` (whole solutions of the labelled suite)', async () => {
  // every solution style of the suite whose gold is a program output, as the solve reply to a program with that output
  type Row = { id: string; style: string; pred: string; gold: unknown; equal: boolean };
  const rows: Row[] = readFileSync(new URL('../fixtures/answer-suite/suite.jsonl', import.meta.url), 'utf8')
    .split('\n').filter(Boolean).map((l) => JSON.parse(l))
    .filter((r: Row) => typeof r.gold === 'object');
  const styles = [...new Set(rows.map((r) => r.style))];
  const picked = styles.flatMap((st) => rows.filter((r) => r.style === st).slice(0, 4));
  assert.ok(picked.length >= 40 && styles.includes('two_different_boxes') && styles.includes('last_display') && styles.includes('gsm8k_hashes'));
  const byTag = new Map(picked.map((r) => [`t${r.id}`, r]));
  const llm = new ScriptedLlm((role, req) => {
    const tag = [...byTag.keys()].find((t) => userText(req).includes(`"${t}"`) || userText(req).includes(`${t} boxes`))!;
    return role === 'reverse' ? problemFor(tag) : byTag.get(tag)!.pred;
  });
  const recs = [...byTag.entries()].map(([tag, r]) => executed(tag, tag, r.gold as PyValue));
  const out = await backtranslateShard(recs, { runId: 'r', shard: 'g1', llm, concurrency: 4, ...noDecontam });
  assert.ok(conserved(out));
  const seen = new Set<string>();
  for (const [tag, r] of byTag) {
    const ex = extractFinalAnswer(r.pred.trim());
    const graded = comparePairLine(JSON.stringify({ pred: r.pred, gold: r.gold }), 1);
    const kept = out.kept.find((k) => k.id === tag);
    const reason = out.rejected.find((k) => k.id === tag)?.reason;
    if (ex.rule === 'ambiguous') assert.equal(reason, 'ambiguous_answer', tag);
    else if (!STATED_RULES.has(ex.rule)) assert.equal(reason, 'no_boxed_answer', `${tag}: ${ex.rule} is not a stated answer`);
    else if (graded.equal) assert.equal(kept?.answer, ex.answer, `${tag}: kept with the extracted answer`);
    else assert.equal(reason, 'answer_mismatch', tag);
    seen.add(kept ? 'kept' : reason!);
  }
  assert.deepEqual([...seen].sort(), ['ambiguous_answer', 'answer_mismatch', 'kept', 'no_boxed_answer']);
});

test('backtranslate: the default decontamination is lib/decontam (a GSM8K test problem is caught)', async () => {
  const gsm8kTest =
    "Janet’s ducks lay 16 eggs per day. She eats three for breakfast every morning and bakes muffins for her friends every day with four. She sells the remainder at the farmers' market daily for $2 per fresh duck egg. How much in dollars does she make every day at the farmers' market?";
  const llm = new ScriptedLlm((role) => (role === 'reverse' ? gsm8kTest : solution('18')));
  const out = await backtranslateShard([executed('dup', 'd', pv(18, '18', 'int'))], { runId: 'r', shard: 'g1', llm });
  assert.deepEqual(out.rejected.map((r) => r.reason), ['contaminated:gsm8k']);
  assert.equal(llm.requests.filter((r) => r.role === 'solve').length, 0, 'no solve call is paid for a contaminated problem');
});

test('helpers: problem cleaning and judge verdicts', () => {
  assert.equal(cleanProblem('Problem: How many?'), 'How many?');
  assert.equal(cleanProblem('**Problem:**\n"How many apples?"'), 'How many apples?');
  assert.equal(cleanProblem('**Problem**: How many?'), 'How many?');
  assert.equal(cleanProblem('## Word Problem\n\nHow many?'), 'How many?');
  assert.equal(cleanProblem('Problems arise when 3 trains meet. How many?'), 'Problems arise when 3 trains meet. How many?');
  assert.equal(parseJudgeVerdict('It is not INCONSISTENT... Verdict: CONSISTENT'), 'CONSISTENT');
  assert.equal(parseJudgeVerdict('Verdict: INCONSISTENT'), 'INCONSISTENT');
  assert.equal(parseJudgeVerdict('consistently fine'), null);
});

test('verify-gold: keeps a program whose output equals the gold answer, rejects the rest with both values', () => {
  const recs = [
    executed('s1', 'a', pv(72, '72', 'int'), { gold: '72' }),
    executed('s2', 'b', pv(10.0, '10.0', 'float'), { gold: '10' }),
    executed('s3', 'c', pv({ $fraction: ['5', '1'] }, '5', 'Fraction'), { gold: '5' }),
    executed('s4', 'd', pv(8, '8', 'int'), { gold: '16' }),
    executed('s5', 'e', null, { gold: '3' }),
    executed('s6', 'f', pv(1, '1', 'int')),
  ];
  const out = verifyGoldShard(recs);
  assert.ok(conserved(out));
  assert.deepEqual(out.kept.map((r) => r.id), ['s1', 's2', 's3']);
  assert.deepEqual(out.rejected.map((r) => [r.id, r.reason]), [['s4', 'gold_mismatch'], ['s5', 'gold_mismatch'], ['s6', 'no_gold']]);
  assert.match(out.rejected[0].detail!, /output=8 gold=16/);
  assert.equal(out.kept[0], recs[0], 'kept records pass through unchanged');
});
