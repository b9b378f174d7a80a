// Token cost both ways, for `caco cost`: what a run's tokens cost interactively and through the
// Batch API (price x batchFactor), per role, whichever way the run actually bought them. Tokens
// served by the cache or a cassette count too: the question is what the same work costs live.
import { resolveEndpoint, type RunConfig } from '../../config.ts';
import type { ModelUsage } from '../../pipeline/llm-adapter.ts';
import type { LlmRole } from '../../stages/llm-port.ts';

export interface TokenCostLine {
  role: string;
  model: string;
  promptTokens: number;
  completionTokens: number;
  interactiveUsd: number;
  batchUsd: number;
  /** How the run bought this role's answers. */
  mode: 'batch' | 'interactive';
  /** No price set for this role: its dollars are unknown (printed so, never as $0). */
  unpriced: boolean;
}

export function tokenCostBothWays(usage: Pick<ModelUsage, 'role' | 'model' | 'promptTokens' | 'completionTokens' | 'cachedPromptTokens' | 'cachedCompletionTokens' | 'batchRequests'>[], cfg: RunConfig): TokenCostLine[] {
  return usage.map((u) => {
    const e = resolveEndpoint(cfg, u.role as LlmRole);
    const prompt = u.promptTokens + u.cachedPromptTokens;
    const completion = u.completionTokens + u.cachedCompletionTokens;
    const interactiveUsd = e.price ? (prompt * e.price.inputPerMTok + completion * e.price.outputPerMTok) / 1e6 : 0;
    const batchUsd = e.price ? interactiveUsd * e.price.batchFactor : 0;
    return { role: u.role, model: u.model, promptTokens: prompt, completionTokens: completion, interactiveUsd, batchUsd, mode: e.batch || u.batchRequests > 0 ? 'batch' : 'interactive', unpriced: !e.price };
  });
}

export function formatTokenCost(lines: TokenCostLine[]): string[] {
  const $ = (x: number) => `$${x.toFixed(x < 0.01 ? 6 : 4)}`;
  const out = ['LLM tokens, interactive vs batch (same tokens; batch = price x batchFactor):'];
  out.push('  role       model                           tokens   interactive        batch   this run');
  let i = 0;
  let b = 0;
  for (const l of lines) {
    i += l.interactiveUsd;
    b += l.batchUsd;
    const [iu, bu] = l.unpriced ? ['unknown', 'unknown'] : [$(l.interactiveUsd), $(l.batchUsd)];
    out.push(`  ${l.role.padEnd(10)} ${l.model.slice(0, 30).padEnd(30)} ${String(l.promptTokens + l.completionTokens).padStart(8)} ${iu.padStart(13)} ${bu.padStart(12)}   ${l.mode}`);
  }
  // A role without a price makes the total a lower bound.
  const plus = lines.some((l) => l.unpriced) ? '+' : '';
  out.push(`  total${' '.repeat(47)}${($(i) + plus).padStart(13)} ${($(b) + plus).padStart(12)}`);
  return out;
}
