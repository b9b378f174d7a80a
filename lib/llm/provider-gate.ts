// Holds an endpoint's new calls while the provider says its quota is spent. The picture comes
// from the last response's x-ratelimit-* headers (lib/llm/rate-headers.ts). Calls are spread
// over the time to the reset (R requests left, T ms to go: one call per T/R ms), so N instances
// reading the same counter slow down together as it falls instead of spending the same
// "remaining" N times; each call sent also lowers the local copy until the next response. With
// nothing left, calls wait for the reset the provider announced. A 429's retry-after holds every call of the
// endpoint, not just the one refused. Other instances share the provider's counters, which is
// what makes this global; the residual excess is what was already in flight when the quota ran out.
import type { RateHeaders } from './rate-headers.ts';

/** Longest wait one response may impose; the first call after it refreshes the picture. */
export const MAX_HOLD_MS = 60_000;

export class ProviderGate {
  private requestsLeft: number | null = null;
  private requestsResetAt = 0;
  private tokensLeft: number | null = null;
  private tokensResetAt = 0;
  private heldUntil = 0;
  private lastSentAt = -Infinity;
  /** Calls that had to wait, and the total wait (ms): shown in tests and benchmarks. */
  holds = 0;
  heldMs = 0;

  constructor(
    private readonly now: () => number = () => performance.now(),
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {}

  /** The headers of a response (or of a refusal) received now. */
  observe(h: RateHeaders): void {
    const t = this.now();
    if (h.remainingRequests !== null) {
      this.requestsLeft = h.remainingRequests;
      // Remaining 0 without a reset time: wait a second rather than hammer.
      this.requestsResetAt = t + Math.min(MAX_HOLD_MS, h.resetRequestsMs ?? 1000);
    }
    if (h.remainingTokens !== null) {
      this.tokensLeft = h.remainingTokens;
      this.tokensResetAt = t + Math.min(MAX_HOLD_MS, h.resetTokensMs ?? 1000);
    }
  }

  /** Every call waits at least `ms` from now (a 429's retry-after). */
  hold(ms: number): void {
    this.heldUntil = Math.max(this.heldUntil, this.now() + Math.min(MAX_HOLD_MS, ms));
  }

  /** Milliseconds a call needing `tokens` must still wait; 0 when it may go (and then spends its share). */
  private waitFor(tokens: number): number {
    const t = this.now();
    if (t < this.heldUntil) return this.heldUntil - t;
    if (this.requestsLeft !== null && t >= this.requestsResetAt) this.requestsLeft = null; // quota refilled: unknown again
    if (this.tokensLeft !== null && t >= this.tokensResetAt) this.tokensLeft = null;
    if (this.requestsLeft !== null && this.requestsLeft <= 0) return this.requestsResetAt - t;
    if (this.tokensLeft !== null && this.tokensLeft < Math.max(1, tokens)) return this.tokensResetAt - t;
    if (this.requestsLeft !== null) {
      const next = this.lastSentAt + (this.requestsResetAt - t) / this.requestsLeft;
      if (t < next) return next - t;
    }
    this.lastSentAt = t;
    if (this.requestsLeft !== null) this.requestsLeft--;
    if (this.tokensLeft !== null) this.tokensLeft -= tokens;
    return 0;
  }

  /** Resolves when a call needing `tokens` may be sent. */
  async admit(tokens: number): Promise<void> {
    let waited = false;
    const start = this.now();
    for (let ms = this.waitFor(tokens); ms > 0; ms = this.waitFor(tokens)) {
      waited = true;
      await this.sleep(Math.max(1, Math.ceil(ms)));
    }
    if (waited) {
      this.holds++;
      this.heldMs += this.now() - start;
    }
  }
}
