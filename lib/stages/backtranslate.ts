// backtranslate: each kept program becomes a verified natural-language sample. reverse (code plus
// its input/output -> a problem; optionally several variants), decontamination of the problem,
// solve (a separate call that sees only the problem), answer extraction, verification against the
// program's output value, and an optional judge of CoT-code consistency.
import type { ExecutedRecord, Provenance } from '../schema.ts';
import { extractFinalAnswer, STATED_RULES } from '../answer/final.ts';
import { answersEqual } from '../answer/equal.ts';
import { contaminationReason, findContamination as defaultFindContamination } from '../decontam/index.ts';
import { callLlm } from './llm-call.ts';
import { mapBounded } from './map-bounded.ts';
import { judgePrompt, parseJudgeVerdict, reversePrompt, solvePrompt } from './prompts.ts';
import { clip, replyProblem } from './reply-checks.ts';
import type { BacktranslateContext } from './types-context.ts';
import { collectOutcomes, emptyOutput, type Outcome as StageOutcome, type StageOutput } from './types.ts';

export const BACKTRANSLATE_STAGE = 'backtranslate';

/** A finished sample of the dataset. */
export interface BacktranslatedRecord {
  id: string;
  /** The natural-language problem (from reverse). */
  instruction: string;
  /** The natural-language chain of thought (from solve). */
  output: string;
  /** The answer extracted from `output`, verified equal to the program's output. */
  answer: string;
  code: string;
  /** Python's str() of the program's output value. */
  code_output: string;
  provenance: Provenance & { variant: number; models: { reverse: string; solve: string; judge?: string } };
}

/** The id of variant v of a program: the program's id for v=0, `<id>-v<v>` after. */
export function variantId(id: string, v: number): string {
  return v === 0 ? id : `${id}-v${v}`;
}

/** The problem text of a reverse reply: drops a "Problem:" label and wrapping quotes. */
export function cleanProblem(text: string): string {
  let t = text.trim();
  // "Problem: ...", "**Problem:** ...", "**Problem**: ...", or a "## Problem" header line
  t = t
    .replace(/^(?:\*\*|#+[ \t]*)?(?:word\s+)?problem(?:\s+statement)?(?:\*\*)?[ \t]*:(?:\*\*)?\s*/i, '')
    .replace(/^(?:\*\*|#+[ \t]*)(?:word\s+)?problem(?:\s+statement)?(?:\*\*)?[ \t]*\n\s*/i, '')
    .trim();
  if (/^".*"$/s.test(t) || /^“.*”$/s.test(t)) t = t.slice(1, -1).trim();
  return t;
}

// A problem that shows code or names the program's variables cannot be solved by a reader.
const LEAKS_CODE_RE = /```|\bdef \w+\(|\binput\[|\binput dict|\bprint\(|\bpython\b/i;

type Outcome = StageOutcome<BacktranslatedRecord>;

const examplesOf = (rec: ExecutedRecord): string[] | undefined => {
  const ex = (rec as { examples?: unknown }).examples;
  return Array.isArray(ex) && ex.length > 0 ? (ex as string[]) : undefined;
};

export async function backtranslateShard(executed: readonly ExecutedRecord[], ctx: BacktranslateContext): Promise<StageOutput<BacktranslatedRecord>> {
  const out = emptyOutput<BacktranslatedRecord>();
  const variants = Math.max(1, ctx.variants ?? 1);
  const units = executed.flatMap((rec) => Array.from({ length: variants }, (_, v) => ({ rec, v })));
  // The unit of conservation is (program, variant): in = programs x variants.
  out.counters.in = units.length;
  const find = ctx.findContamination === undefined ? (t: string) => defaultFindContamination(t) : ctx.findContamination;
  const models = {
    reverse: ctx.llm.model('reverse'),
    solve: ctx.llm.model('solve'),
    ...(ctx.judge ? { judge: ctx.llm.model('judge') } : {}),
  };

  const one = async ({ rec, v }: { rec: ExecutedRecord; v: number }): Promise<Outcome> => {
    const id = variantId(rec.id, v);
    const trail: Record<string, unknown> = { variant: v, program: rec };
    const rejected = (reason: string, detail: string): Outcome => ({ kind: 'rejected', rej: { id, stage: BACKTRANSLATE_STAGE, reason, detail, record: trail } });
    const failed = (reason: string, detail: string): Outcome => ({ kind: 'failed', rej: { id, stage: BACKTRANSLATE_STAGE, reason, detail, record: trail } });
    const value = rec.exec.output;
    if (!value) return rejected('no_output', 'the program has no output value to back-translate');

    // 1. reverse: code + input/output -> problem
    const rev = await callLlm(ctx.llm, 'reverse', { messages: reversePrompt(rec.code, rec.exec.input?.repr ?? 'None', value.str), sampleIndex: v }, out.counters);
    if (!rev.ok) return failed(rev.reason, rev.detail);
    trail.reverseReply = rev.reply.content;
    const revBad = replyProblem(rev.reply);
    if (revBad) return rejected(revBad, `reverse: ${clip(rev.reply.content) || `finish_reason=${rev.reply.finishReason}`}`);
    const problem = cleanProblem(rev.reply.content);
    trail.problem = problem;
    if (problem === '') return rejected('llm_empty', 'reverse: no problem text');
    if (LEAKS_CODE_RE.test(problem)) return rejected('problem_mentions_code', clip(problem));

    // 2. decontamination against benchmark test sets
    const hit = find ? find(problem) : null;
    if (hit) return rejected(contaminationReason(hit), `${hit.benchmark} ${hit.id}: "${clip(hit.ngram, 200)}"`);

    // 3. solve: a separate call that sees only the problem
    const sol = await callLlm(ctx.llm, 'solve', { messages: solvePrompt(problem), sampleIndex: v }, out.counters);
    if (!sol.ok) return failed(sol.reason, sol.detail);
    trail.solveReply = sol.reply.content;
    const solBad = replyProblem(sol.reply, (t) => extractFinalAnswer(t).answer !== null);
    if (solBad) return rejected(solBad, `solve: ${clip(sol.reply.content) || `finish_reason=${sol.reply.finishReason}`}`);
    // the same extraction as `caco answers`; a sample must state its answer (boxed, ####, "the answer is")
    const ex = extractFinalAnswer(sol.reply.content);
    if (ex.rule === 'ambiguous') return rejected('ambiguous_answer', `different boxed answers: ${(ex.candidates ?? []).map((c) => clip(c, 60)).join(' | ')}`);
    if (ex.answer === null || !STATED_RULES.has(ex.rule)) return rejected('no_boxed_answer', clip(sol.reply.content.slice(-300)));
    const answer = ex.answer;
    trail.answerRule = ex.rule;
    trail.answer = answer;

    // 4. verify: the NL answer equals the program's output value
    const eq = answersEqual(answer, value);
    if (!eq.equal) return rejected('answer_mismatch', `nl=${clip(answer, 100)} code=${clip(value.str, 100)} (${eq.reason})`);

    // 5. judge (optional): is the CoT consistent with the code?
    if (ctx.judge) {
      const jr = await callLlm(ctx.llm, 'judge', { messages: judgePrompt(problem, sol.reply.content, rec.code), sampleIndex: v }, out.counters);
      if (!jr.ok) return failed(jr.reason, jr.detail);
      const jBad = replyProblem(jr.reply, (t) => parseJudgeVerdict(t) !== null);
      if (jBad) return rejected(jBad, `judge: ${clip(jr.reply.content) || `finish_reason=${jr.reply.finishReason}`}`);
      const verdict = parseJudgeVerdict(jr.reply.content);
      if (verdict === null) return rejected('judge_no_verdict', clip(jr.reply.content));
      if (verdict === 'INCONSISTENT') return rejected('judge_inconsistent', clip(jr.reply.content));
    }

    return {
      kind: 'kept',
      rec: {
        id,
        instruction: problem,
        output: sol.reply.content.trim(),
        answer,
        code: rec.code,
        code_output: value.str,
        // The few-shot examples the program was sampled from, so a sample traces back to its seeds.
        provenance: { ...(rec.provenance ?? { source: 'import' }), ...(examplesOf(rec) ? { examples: examplesOf(rec) } : {}), variant: v, models },
      },
    };
  };

  const results = await mapBounded(units, ctx.concurrency ?? 8, one);
  return collectOutcomes(out, results);
}
