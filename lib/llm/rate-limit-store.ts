// The port behind global LLM limits: fixed windows of counters shared by every client that uses
// the same key (endpoint base URL + the NAME of the key's variable, never the key). A claim adds
// requests and tokens to a window's counters only if both stay within their limits: all or
// nothing, atomically, so the sum granted in a window never exceeds the limit whoever asks.
// Adapters: in-process (below; a local run is one process) and DynamoDB
// (lib/aws/dynamo-rate-limit-store.ts; one conditional write per claim).
import { createHash } from 'node:crypto';

export interface RateClaim {
  /** Which key's counters (rateScope). */
  scope: string;
  /** Window index: floor(epoch ms / windowMs). */
  window: number;
  windowMs: number;
  requests: number;
  tokens: number;
  /** Limits per window; Infinity for a dimension that is not limited. */
  maxRequests: number;
  maxTokens: number;
}

/** Granted, or refused with the window's counters as they were when known (what is left). */
export type ClaimResult = { granted: true } | { granted: false; used: { requests: number; tokens: number } | null };

export interface RateLimitStore {
  /** Adds the claim to the window's counters if both stay within their limits; nothing otherwise.
   * Throws when the store cannot answer (callers then wait: never send unclaimed). */
  claim(c: RateClaim): Promise<ClaimResult>;
  /** Requests a claim should ask for at once: 1 where a claim is free (in-process), more where each
   * claim is a billed write (DynamoDB). */
  readonly leaseRequests: number;
}

/** The counters' name for a key: a hash of the base URL and the key variable's name. */
export function rateScope(baseURL: string, apiKeyEnv: string): string {
  return createHash('sha256').update(`${baseURL.replace(/\/+$/, '')}\n${apiKeyEnv}`).digest('hex').slice(0, 24);
}

/** Counters in this process's memory: every client of a local run shares them. */
export class MemoryRateLimitStore implements RateLimitStore {
  readonly leaseRequests = 1;
  private readonly windows = new Map<string, { window: number; requests: number; tokens: number }>();
  claims = 0;

  async claim(c: RateClaim): Promise<ClaimResult> {
    this.claims++;
    const id = `${c.scope}#${c.window}`;
    let w = this.windows.get(id);
    if (!w) {
      // Windows that have ended are never claimed again (a claim is for now or the next window).
      for (const [k, v] of this.windows) if (v.window < c.window - 1) this.windows.delete(k);
      w = { window: c.window, requests: 0, tokens: 0 };
      this.windows.set(id, w);
    }
    if (w.requests + c.requests > c.maxRequests || w.tokens + c.tokens > c.maxTokens) {
      return { granted: false, used: { requests: w.requests, tokens: w.tokens } };
    }
    w.requests += c.requests;
    w.tokens += c.tokens;
    return { granted: true };
  }
}

/** The process's store: what every LlmClient uses unless its host gives another (AWS: DynamoDB). */
export const processRateLimits = new MemoryRateLimitStore();
