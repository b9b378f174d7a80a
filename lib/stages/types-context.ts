// What a generating stage needs from the runner: who it is working for (run, shard), the LLM port,
// and the few knobs of its config section. Plain data plus one port, so the local orchestrator and
// a Lambda handler build it the same way. Sampling settings (temperature, top_p, max_tokens) are
// NOT here: they belong to the per-role endpoint config behind the LlmPort.
import type { CodeCotRecord } from '../schema.ts';
import type { LlmPort } from './llm-port.ts';

export interface StageContext {
  runId: string;
  /** The shard's id (run-independent, e.g. "00003"); part of sample ids and of the few-shot PRNG seed. */
  shard: string;
  llm: LlmPort;
  /** Records of this shard in flight at once (default 8). The port enforces the real rate limits. */
  concurrency?: number;
}

export interface GenerateContext extends StageContext {
  /** `fewshot`: a chat model shown k verified Code CoTs; `unconditional`: a fine-tuned CodeGen, empty prompt. */
  mode: 'fewshot' | 'unconditional';
  /** The run config's seed: with the shard and the sample index it picks the few-shot examples. */
  seed: number;
  /** Examples per few-shot prompt (default 3; fewer when the pool is smaller). */
  k?: number;
  /** Verified Code CoTs to draw few-shot examples from (order does not matter: sorted by id inside). */
  pool?: CodeCotRecord[];
}

export interface BacktranslateContext extends StageContext {
  /** Problems written per program (reverse calls with sample index 0..variants-1; default 1). */
  variants?: number;
  /** Ask the judge role whether the NL solution is consistent with the code (default false). */
  judge?: boolean;
  /**
   * Decontamination check of each problem; default: lib/decontam's findContamination with its
   * default config. Pass `null` to switch decontamination off.
   */
  findContamination?: ((text: string) => { benchmark: string; id: string; ngram: string } | null) | null;
}
