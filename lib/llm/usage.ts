// One client's own diagnostics: tokens, attempts, retries, cache hits and failures (tests and the
// LLM bench read them). A run's totals come from the shards' counters instead (llm-adapter.ts),
// which survive processes and retries.
import type { LlmEndpointConfig } from './config.ts';

export interface UsageRow {
  stage: string;
  model: string;
  /** Completions bought over the network. */
  requests: number;
  /** HTTP attempts, including failed ones and retries. */
  attempts: number;
  retries: number;
  cacheHits: number;
  promptTokens: number;
  completionTokens: number;
  costUSD: number;
  failures: Record<string, number>;
}

export class UsageMeter {
  private readonly rows = new Map<string, UsageRow>();

  row(stage: string, model: string): UsageRow {
    const k = `${stage}\u0000${model}`;
    let r = this.rows.get(k);
    if (!r) {
      r = { stage, model, requests: 0, attempts: 0, retries: 0, cacheHits: 0, promptTokens: 0, completionTokens: 0, costUSD: 0, failures: {} };
      this.rows.set(k, r);
    }
    return r;
  }

  addCompletion(stage: string, config: LlmEndpointConfig, promptTokens: number, completionTokens: number): void {
    const r = this.row(stage, config.model);
    r.requests++;
    r.promptTokens += promptTokens;
    r.completionTokens += completionTokens;
    if (config.price) r.costUSD += (promptTokens * config.price.inputPerMTok + completionTokens * config.price.outputPerMTok) / 1e6;
  }

  addFailure(stage: string, model: string, kind: string): void {
    const r = this.row(stage, model);
    r.failures[kind] = (r.failures[kind] ?? 0) + 1;
  }

  snapshot(): UsageRow[] {
    return [...this.rows.values()].map((r) => ({ ...r, failures: { ...r.failures } }));
  }

}
