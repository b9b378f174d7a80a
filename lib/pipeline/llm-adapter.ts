// Adapts lib/llm's clients (one per role) to the LlmPort the stages call, and counts what each
// shard's calls bought: tokens and dollars per role and model go into the shard's counters, so
// the totals survive across processes and Lambdas and a retried shard never counts twice.
import type { LlmEndpointConfig } from '../llm/config.ts';
import type { LlmClient } from '../llm/client.ts';
import type { ResponseCacheLike } from '../llm/shard-cache.ts';
import { LlmUnavailableError as ClientUnavailable } from '../llm/errors.ts';
import { LlmUnavailableError, type LlmPort, type LlmReply, type LlmRequest, type LlmRole } from '../stages/llm-port.ts';

export type RoleClients = Partial<Record<LlmRole, LlmClient>>;

/** Counter key for LLM usage: `llm|<role>|<model>|<what>`. */
export function usageKey(
  role: string,
  model: string,
  what: 'requests' | 'batch_requests' | 'cache_hits' | 'prompt_tokens' | 'completion_tokens' | 'cost_usd' | 'saved_usd' | 'cached_prompt_tokens' | 'cached_completion_tokens' | 'unpriced',
): string {
  return `llm|${role}|${model}|${what}`;
}

export function parseUsageKey(key: string): { role: string; model: string; what: string } | null {
  const parts = key.split('|');
  if (parts.length !== 4 || parts[0] !== 'llm') return null;
  return { role: parts[1], model: parts[2], what: parts[3] };
}

/** LLM usage of one role and model, summed from shard counters. */
export interface ModelUsage {
  role: string;
  model: string;
  /** Requests bought over the network (interactive and batch). */
  requests: number;
  /** Of those, bought through the Batch API (at the batch price). */
  batchRequests: number;
  /** Answers served by the response cache or a cassette (nothing bought). */
  cacheHits: number;
  promptTokens: number;
  completionTokens: number;
  costUSD: number;
  /** What the cache and cassette hits would have cost. */
  savedUSD: number;
  /** Tokens of the answers served by the cache or a cassette (not bought). */
  cachedPromptTokens: number;
  cachedCompletionTokens: number;
  /** Answers (bought or cached) of an endpoint with no price in the config: its cost is unknown. */
  unpriced: number;
}

/** Sums the `llm|role|model|what` counters of any number of shards, per role and model. */
export function usageFromCounters(counterMaps: Iterable<Record<string, number>>): ModelUsage[] {
  const rows = new Map<string, ModelUsage>();
  const field = {
    requests: 'requests',
    batch_requests: 'batchRequests',
    cache_hits: 'cacheHits',
    prompt_tokens: 'promptTokens',
    completion_tokens: 'completionTokens',
    cost_usd: 'costUSD',
    saved_usd: 'savedUSD',
    cached_prompt_tokens: 'cachedPromptTokens',
    cached_completion_tokens: 'cachedCompletionTokens',
    unpriced: 'unpriced',
  } as const;
  for (const counters of counterMaps) {
    for (const [k, v] of Object.entries(counters)) {
      const u = parseUsageKey(k);
      if (!u || !(u.what in field)) continue;
      const key = `${u.role}|${u.model}`;
      let r = rows.get(key);
      if (!r) rows.set(key, (r = { role: u.role, model: u.model, requests: 0, batchRequests: 0, cacheHits: 0, promptTokens: 0, completionTokens: 0, costUSD: 0, savedUSD: 0, cachedPromptTokens: 0, cachedCompletionTokens: 0, unpriced: 0 }));
      r[field[u.what as keyof typeof field]] += v;
    }
  }
  return [...rows.values()];
}

/** An LlmPort over the role clients whose usage lands in `counters` (and, when given, whose
 * responses are cached in `cache` instead of the clients' own cache). */
/**
 * Books one answer in a shard's counters: bought (requests, tokens, dollars) or served from the
 * cache or a cassette (nothing bought; what it would have cost). A batch answer is priced at
 * `price.batchFactor` of the endpoint's price; an endpoint without a price counts as unpriced.
 */
export function bookUsage(
  counters: Record<string, number>,
  role: string,
  config: Pick<LlmEndpointConfig, 'model' | 'price'>,
  usage: { promptTokens: number; completionTokens: number },
  how: { served: boolean; batch: boolean },
): void {
  const add = (what: Parameters<typeof usageKey>[2], v: number) => {
    const k = usageKey(role, config.model, what);
    counters[k] = (counters[k] ?? 0) + v;
  };
  const price = config.price;
  const dollars = price ? ((usage.promptTokens * price.inputPerMTok + usage.completionTokens * price.outputPerMTok) / 1e6) * (how.batch ? price.batchFactor : 1) : 0;
  if (!price) add('unpriced', 1);
  if (how.served) {
    add('cache_hits', 1);
    add('saved_usd', dollars);
    add('cached_prompt_tokens', usage.promptTokens);
    add('cached_completion_tokens', usage.completionTokens);
  } else {
    add('requests', 1);
    if (how.batch) add('batch_requests', 1);
    add('prompt_tokens', usage.promptTokens);
    add('completion_tokens', usage.completionTokens);
    add('cost_usd', dollars);
  }
}

export function llmPortFor(clients: RoleClients, counters: Record<string, number>, cache?: ResponseCacheLike): LlmPort {
  const client = (role: LlmRole): LlmClient => {
    const c = clients[role];
    if (!c) throw new Error(`no LLM endpoint is configured for role '${role}'`);
    return c;
  };
  return {
    model: (role) => client(role).config.model,
    async call(role: LlmRole, req: LlmRequest): Promise<LlmReply> {
      const c = client(role);
      let r;
      try {
        r = await c.complete({ messages: req.messages, prompt: req.prompt, sample: req.sampleIndex, cache });
      } catch (err) {
        if (err instanceof ClientUnavailable) throw new LlmUnavailableError(err.message);
        throw err;
      }
      bookUsage(counters, role, c.config, r.usage, { served: r.cached, batch: false });
      return { content: r.content, finishReason: r.finishReason, cached: r.cached };
    },
  };
}
