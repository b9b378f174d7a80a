// A hard bound on what every client of one key sends per window, whatever the number of
// instances: no call goes out without its request (and its estimated tokens) claimed in the
// shared RateLimitStore's counters for the window it is sent in. Claims come in leases (k
// requests and k calls' worth of tokens in one store write) spent locally; a lease not spent
// when its window ends is dropped, so a crashed instance's lease is gone at the window's end
// too. Windows are fixed, aligned to the epoch clock (the same on every instance); a lease is not
// used in the last `guardMs` of its window, so a call does not arrive in the next one.
// A store that fails makes calls wait (backoff), never go out unclaimed.
import type { RateLimitStore } from './rate-limit-store.ts';

export interface GlobalLimiterOptions {
  /** Window length, ms (default 60 s: rpm and tpm are per minute). */
  windowMs?: number;
  /** Requests per lease (default: the store's leaseRequests; never above an eighth of the window's limit). */
  leaseRequests?: number;
  /** End of a window not used for sending (default min(250 ms, 5% of the window)). */
  guardMs?: number;
  /** Epoch ms; every instance's windows line up because every instance reads the same clock. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

/** A call's share of a window, given back (release) when the call is not sent after all. */
export interface RateTicket {
  window: number;
  tokens: number;
}

export interface LimiterStats {
  /** Store claims attempted (each a billed write on DynamoDB), granted and refused (window full). */
  claims: number;
  granted: number;
  refused: number;
  /** Store failures (each followed by a wait). */
  errors: number;
  /** Calls that waited for a later window, and the total wait. */
  waits: number;
  waitedMs: number;
}

export class GlobalLimiter {
  readonly windowMs: number;
  readonly maxRequests: number;
  readonly maxTokens: number;
  readonly lease: number;
  private readonly guardMs: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  // The local lease: what this instance holds of window `window`.
  private window = -1;
  private requestsLeft = 0;
  private tokensLeft = 0;
  /** The store said no for this window: wait for the next without asking again. */
  private fullWindow = -1;
  private errorUntil = 0;
  private errorStreak = 0;
  private claiming: Promise<void> | null = null;
  readonly stats: LimiterStats = { claims: 0, granted: 0, refused: 0, errors: 0, waits: 0, waitedMs: 0 };

  constructor(
    private readonly store: RateLimitStore,
    readonly scope: string,
    limits: { rpm: number; tpm: number },
    o: GlobalLimiterOptions = {},
  ) {
    this.windowMs = o.windowMs ?? 60_000;
    const perWindow = (perMinute: number) => (perMinute > 0 ? Math.max(1, Math.floor((perMinute * this.windowMs) / 60_000)) : Infinity);
    this.maxRequests = perWindow(limits.rpm);
    this.maxTokens = perWindow(limits.tpm);
    // A lease is at most an eighth of the window, so a few instances cannot hold all of it.
    this.lease = Math.max(1, Math.min(o.leaseRequests ?? store.leaseRequests, Math.floor(this.maxRequests / 8)));
    this.guardMs = o.guardMs ?? Math.min(250, this.windowMs * 0.05);
    this.now = o.now ?? Date.now;
    this.sleep = o.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.random = o.random ?? Math.random;
  }

  /** Resolves when a call estimated at `tokens` may be sent now; the ticket is spent by sending. */
  async acquire(tokens: number): Promise<RateTicket> {
    // A call larger than a window's token limit takes a whole window (it could never fit otherwise).
    const need = Number.isFinite(this.maxTokens) ? Math.min(Math.max(0, tokens), this.maxTokens) : 0;
    const start = this.now();
    let waited = false;
    for (;;) {
      const t = this.now();
      const w = Math.floor(t / this.windowMs);
      const nextStart = (w + 1) * this.windowMs;
      let wait = 0;
      if (t >= nextStart - this.guardMs || this.fullWindow === w) wait = nextStart - t + 1 + this.random() * 5;
      else if (t < this.errorUntil) wait = this.errorUntil - t;
      else if (this.window === w && this.requestsLeft >= 1 && this.tokensLeft >= need) {
        this.requestsLeft -= 1;
        this.tokensLeft -= need;
        if (waited) {
          this.stats.waits++;
          this.stats.waitedMs += this.now() - start;
        }
        return { window: w, tokens: need };
      } else if (this.claiming) {
        await this.claiming; // one claim at a time per instance; then look again
        continue;
      } else {
        const p = this.claim(w, need);
        this.claiming = p.finally(() => (this.claiming = null));
        await this.claiming;
        continue;
      }
      waited = true;
      await this.sleep(Math.max(1, Math.ceil(wait)));
    }
  }

  /** A call that was not sent after all (the breaker opened): its share goes back to the local lease. */
  release(ticket: RateTicket): void {
    if (ticket.window !== this.window) return;
    this.requestsLeft += 1;
    this.tokensLeft += ticket.tokens;
  }

  /** The call's real usage: more than its estimate is owed by the local lease (while the window
   * lasts). Less is NOT given back: OpenAI counts a request's tokens as prompt + max_tokens when it
   * arrives, which is what the estimate is, so the bound is on estimates (conservative where a
   * provider counts real usage; telling the store would cost a write per call anyway). */
  settle(ticket: RateTicket, usedTokens: number): void {
    if (ticket.window !== this.window || !Number.isFinite(this.maxTokens)) return;
    this.tokensLeft -= Math.max(0, usedTokens - ticket.tokens);
  }

  private async claim(w: number, need: number): Promise<void> {
    if (this.window !== w) {
      // A new window: the old lease's rest expires with its window.
      this.window = w;
      this.requestsLeft = 0;
      this.tokensLeft = 0;
    }
    const limited = Number.isFinite(this.maxTokens);
    const requests = this.requestsLeft >= 1 ? 0 : 1;
    const tokens = !limited || this.tokensLeft >= need ? 0 : need - this.tokensLeft;
    // A lease: k requests and k calls of this size at once; then, if the window cannot give that
    // much, just what this call needs.
    const lease = {
      requests: requests ? this.lease : 0,
      tokens: limited ? Math.max(tokens, Math.min(Math.floor(this.maxTokens / 8), tokens + need * (this.lease - 1))) : 0,
    };
    const minimal = { requests, tokens };
    try {
      let c = lease;
      for (let attempt = 0; attempt < 3; attempt++) {
        this.stats.claims++;
        const r = await this.store.claim({
          scope: this.scope,
          window: w,
          windowMs: this.windowMs,
          requests: c.requests,
          tokens: c.tokens,
          maxRequests: this.maxRequests,
          maxTokens: this.maxTokens,
        });
        if (r.granted) {
          this.stats.granted++;
          this.errorStreak = 0;
          if (this.window === w) {
            this.requestsLeft += c.requests;
            this.tokensLeft += c.tokens;
          }
          return;
        }
        this.stats.refused++;
        this.errorStreak = 0;
        // What is left, when the store said (then no write is spent on a claim that cannot fit);
        // otherwise try once more for just this call.
        const next = r.used ? this.fit(lease, minimal, r.used) : c === minimal || (lease.requests === requests && lease.tokens === tokens) ? null : minimal;
        if (!next || (next.requests === c.requests && next.tokens === c.tokens)) {
          this.fullWindow = w;
          return;
        }
        c = next;
      }
      // Contended: three refusals in a row; look again (the next claim sees the new counters).
    } catch {
      // Throttled or unreachable: wait (50 ms doubling to 2 s, jittered) and ask again.
      this.stats.errors++;
      const backoff = Math.min(2_000, 50 * 2 ** this.errorStreak++);
      this.errorUntil = this.now() + backoff * (0.5 + this.random() / 2);
    }
  }

  /** The largest claim up to `lease` that fits what the window has left; null if not even `minimal` does. */
  private fit(lease: { requests: number; tokens: number }, minimal: { requests: number; tokens: number }, used: { requests: number; tokens: number }) {
    const leftR = this.maxRequests - used.requests;
    const leftT = this.maxTokens - used.tokens;
    if (leftR < minimal.requests || leftT < minimal.tokens) return null;
    return { requests: Math.min(lease.requests, leftR), tokens: Math.min(lease.tokens, leftT) };
  }
}
