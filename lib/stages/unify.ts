// unify: a seed problem with its worked solution becomes a Code CoT in the Caco format (one LLM
// call per seed). The program is only a candidate here: it is executed and filtered next, then
// verify-gold keeps it when its output equals the seed's gold answer.
import type { CodeCotRecord } from '../schema.ts';
import { extractCodeBlock } from '../codecot/extract.ts';
import { syntaxProblem } from './code-syntax.ts';
import { callLlm } from './llm-call.ts';
import { mapBounded } from './map-bounded.ts';
import { unifyPrompt } from './prompts.ts';
import { clip, replyProblem } from './reply-checks.ts';
import type { Seed } from './seeds.ts';
import type { StageContext } from './types-context.ts';
import { collectOutcomes, emptyOutput, type StageOutput } from './types.ts';

export const UNIFY_STAGE = 'unify';

/** What a unified record carries besides the Code CoT: the seed question, for the SFT export. */
export type UnifiedRecord = CodeCotRecord & { gold: string; question: string };

/** A model reply as a program (fenced, or bare code as a CodeGen writes it), or the rejection reason. */
export function codeFromReply(content: string, finishReason: string | null): { code: string } | { reason: string; detail: string } {
  const bad = replyProblem({ content, finishReason, cached: false }, (t) => extractCodeBlock(t) !== null);
  if (bad) return { reason: bad, detail: clip(content) || `finish_reason=${finishReason}` };
  const code = extractCodeBlock(content);
  if (code === null || code.trim() === '') return { reason: 'no_code_block', detail: clip(content) };
  const syntax = syntaxProblem(code);
  if (syntax) return { reason: 'code_syntax', detail: syntax };
  return { code: code.endsWith('\n') ? code : `${code}\n` };
}

export async function unifyShard(seeds: readonly Seed[], ctx: StageContext): Promise<StageOutput<UnifiedRecord>> {
  const out = emptyOutput<UnifiedRecord>();
  out.counters.in = seeds.length;
  const model = ctx.llm.model('unify');
  const results = await mapBounded(seeds, ctx.concurrency ?? 8, async (seed) => {
    const call = await callLlm(ctx.llm, 'unify', { messages: unifyPrompt(seed.question, seed.solution), sampleIndex: 0 }, out.counters);
    if (!call.ok) return { kind: 'failed' as const, rej: { id: seed.id, stage: UNIFY_STAGE, reason: call.reason, detail: call.detail, record: seed } };
    const parsed = codeFromReply(call.reply.content, call.reply.finishReason);
    if ('reason' in parsed) {
      return { kind: 'rejected' as const, rej: { id: seed.id, stage: UNIFY_STAGE, reason: parsed.reason, detail: parsed.detail, record: { seed, reply: call.reply.content } } };
    }
    const rec: UnifiedRecord = {
      id: seed.id,
      code: parsed.code,
      gold: seed.gold,
      question: seed.question,
      provenance: { source: 'seed', seedId: seed.id, model },
    };
    return { kind: 'kept' as const, rec };
  });
  return collectOutcomes(out, results);
}
