// generate: sample new Code CoTs. `fewshot`: a chat model is shown k verified Code CoTs picked by a
// PRNG seeded from (config seed, shard, sample index) -- never the run id or the clock -- so a
// cassette replay sends byte-identical requests. `unconditional`: a fine-tuned CodeGen continues an
// empty prompt on the completions API, as the paper sampled it.
import type { CodeCotRecord } from '../schema.ts';
import { hash32, mulberry32 } from '../util/random.ts';
import { callLlm } from './llm-call.ts';
import { mapBounded } from './map-bounded.ts';
import { generateFewshotPrompt, generateUnconditionalPrompt } from './prompts.ts';
import type { GenerateContext } from './types-context.ts';
import { collectOutcomes, emptyOutput, type StageOutput } from './types.ts';
import { codeFromReply } from './unify.ts';
import type { LlmRequest } from './llm-port.ts';

export const GENERATE_STAGE = 'generate';
export const DEFAULT_FEWSHOT_K = 3;

/** The samples of one generate shard: sample indices start .. start+count-1 (run-wide indices). */
export interface GenerateTask {
  start: number;
  count: number;
}

/** The stable id of a generated sample: no run id in it, so a re-run names it the same. */
export function sampleId(shard: string, sampleIndex: number): string {
  return `gen-${shard}-${sampleIndex}`;
}

/** cyrb53 of (seed, shard, sample) seeding mulberry32: small, fast, identical everywhere. */
export function seededRandom(seed: number, shard: string, sampleIndex: number): () => number {
  return mulberry32(hash32(`${seed}|${shard}|${sampleIndex}`));
}

/** k distinct examples from the pool (sorted by id first, so the pool's order never matters). */
export function pickExamples(pool: readonly CodeCotRecord[], k: number, seed: number, shard: string, sampleIndex: number): CodeCotRecord[] {
  const sorted = [...pool].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const rand = seededRandom(seed, shard, sampleIndex);
  const n = Math.min(k, sorted.length);
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(rand() * (sorted.length - i));
    [sorted[i], sorted[j]] = [sorted[j], sorted[i]];
  }
  return sorted.slice(0, n);
}

export type GeneratedRecord = CodeCotRecord & { examples?: string[] };

export async function generateShard(task: GenerateTask, ctx: GenerateContext): Promise<StageOutput<GeneratedRecord>> {
  const out = emptyOutput<GeneratedRecord>();
  const indices = Array.from({ length: Math.max(0, task.count) }, (_, i) => task.start + i);
  out.counters.in = indices.length;
  const model = ctx.llm.model('generate');
  const pool = ctx.pool ?? [];
  const k = ctx.k ?? DEFAULT_FEWSHOT_K;
  const results = await mapBounded(indices, ctx.concurrency ?? 8, async (sampleIndex) => {
    const id = sampleId(ctx.shard, sampleIndex);
    let req: LlmRequest;
    let examples: string[] | undefined;
    if (ctx.mode === 'fewshot') {
      if (pool.length === 0 || k < 1) {
        return { kind: 'rejected' as const, rej: { id, stage: GENERATE_STAGE, reason: 'no_fewshot_examples', detail: 'the pool of verified Code CoTs is empty' } };
      }
      const picked = pickExamples(pool, k, ctx.seed, ctx.shard, sampleIndex);
      examples = picked.map((r) => r.id);
      req = { messages: generateFewshotPrompt(picked.map((r) => r.code)), sampleIndex };
    } else {
      req = { prompt: generateUnconditionalPrompt(), sampleIndex };
    }
    const call = await callLlm(ctx.llm, 'generate', req, out.counters);
    if (!call.ok) return { kind: 'failed' as const, rej: { id, stage: GENERATE_STAGE, reason: call.reason, detail: call.detail } };
    const parsed = codeFromReply(call.reply.content, call.reply.finishReason);
    if ('reason' in parsed) {
      return { kind: 'rejected' as const, rej: { id, stage: GENERATE_STAGE, reason: parsed.reason, detail: parsed.detail, record: { sampleIndex, reply: call.reply.content } } };
    }
    const rec: GeneratedRecord = { id, code: parsed.code, provenance: { source: 'generated', model, sample: sampleIndex } };
    if (examples) rec.examples = examples;
    return { kind: 'kept' as const, rec };
  });
  return collectOutcomes(out, results);
}
