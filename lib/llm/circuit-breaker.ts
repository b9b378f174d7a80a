// A circuit breaker that pauses rather than spins. It watches the outcome of recent attempts;
// when transient failures (429, 5xx, timeouts) dominate the window it opens, and every caller
// waits on one shared promise until the cool-down ends. Then it half-opens: exactly one probe
// goes through while the others keep waiting; a successful probe closes the breaker, a failed
// one re-opens it with a longer cool-down (doubling up to a ceiling).

export type BreakerState = 'closed' | 'open' | 'half-open';

/** What a progress display shows of an endpoint: its breaker, its last error, when it is tried next. */
export interface EndpointHealth {
  state: BreakerState;
  /** The last failed attempt's error (kind and message), null once an attempt succeeds. */
  lastError: string | null;
  /** When the first failure after the last success happened (ms epoch), null while calls succeed. */
  failingSince: number | null;
  /** When an open breaker lets the next probe through (ms epoch), null unless open. */
  nextTryAt: number | null;
  /** Attempts that failed since the last success. */
  failuresSinceSuccess: number;
  lastSuccessAt: number | null;
  lastFailureAt: number | null;
}

export interface CircuitBreakerOptions {
  /** Outcomes remembered (sliding window). */
  window?: number;
  /** Minimum outcomes in the window before it can open. */
  minSamples?: number;
  /** Failure fraction in the window that opens the breaker. */
  failureRatio?: number;
  /** First cool-down; doubles after each failed probe up to maxCooldownMs. */
  cooldownMs?: number;
  maxCooldownMs?: number;
  onStateChange?: (from: BreakerState, to: BreakerState) => void;
}

export class CircuitBreaker {
  private stateValue: BreakerState = 'closed';
  private outcomes: boolean[] = [];
  private cooldown: number;
  private gate: Promise<void> | null = null;
  private openGate: (() => void) | null = null;
  private probing = false;
  private timer: NodeJS.Timeout | null = null;
  private reopensAt: number | null = null;
  private lastError: string | null = null;
  private failingSince: number | null = null;
  private failuresSinceSuccess = 0;
  private lastSuccessAt: number | null = null;
  private lastFailureAt: number | null = null;
  private haltError: Error | null = null;
  private readonly pauses = new Set<() => void>();
  private readonly opts: Required<Omit<CircuitBreakerOptions, 'onStateChange'>>;
  readonly transitions: { from: BreakerState; to: BreakerState; at: number }[] = [];

  constructor(private readonly options: CircuitBreakerOptions = {}) {
    this.opts = {
      window: options.window ?? 20,
      minSamples: options.minSamples ?? 10,
      failureRatio: options.failureRatio ?? 0.5,
      cooldownMs: options.cooldownMs ?? 2_000,
      maxCooldownMs: options.maxCooldownMs ?? 60_000,
    };
    this.cooldown = this.opts.cooldownMs;
  }

  get state(): BreakerState {
    return this.stateValue;
  }

  private setState(to: BreakerState): void {
    const from = this.stateValue;
    if (from === to) return;
    this.stateValue = to;
    this.transitions.push({ from, to, at: Date.now() });
    this.options.onStateChange?.(from, to);
  }

  /**
   * Waits until an attempt may be sent. Returns true when this caller is the half-open probe
   * (it must then report its outcome with success()/failure()).
   */
  async admit(): Promise<boolean> {
    for (;;) {
      if (this.haltError) throw this.haltError;
      if (this.stateValue === 'closed') return false;
      if (this.stateValue === 'half-open' && !this.probing) {
        this.probing = true;
        return true;
      }
      await this.gate;
    }
  }

  /** The endpoint's health for a display (see EndpointHealth). */
  health(): EndpointHealth {
    return {
      state: this.stateValue,
      lastError: this.lastError,
      failingSince: this.failingSince,
      nextTryAt: this.stateValue === 'open' ? this.reopensAt : null,
      failuresSinceSuccess: this.failuresSinceSuccess,
      lastSuccessAt: this.lastSuccessAt,
      lastFailureAt: this.lastFailureAt,
    };
  }

  /**
   * Records an attempt's outcome for health() only (the breaker's own window is fed by
   * success()/failure()): also answers that do not open it, such as a 401 for a wrong key.
   */
  observe(ok: boolean, error?: string): void {
    if (ok) {
      this.lastError = null;
      this.failingSince = null;
      this.failuresSinceSuccess = 0;
      this.lastSuccessAt = Date.now();
      return;
    }
    this.lastError = error ?? 'failed';
    this.lastFailureAt = Date.now();
    this.failingSince ??= this.lastFailureAt;
    this.failuresSinceSuccess++;
  }

  /**
   * Gives up on the endpoint (a run stopping because it is down): callers waiting for the
   * cool-down and every later admit() get `err` at once instead of waiting.
   */
  halt(err: Error): void {
    this.haltError = err;
    if (this.stateValue === 'closed') this.open();
    this.release();
    for (const wake of [...this.pauses]) wake();
  }

  /** Sleeps `ms` (a retry's backoff), ending early when the endpoint is given up on. */
  pause(ms: number): Promise<void> {
    if (this.haltError) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      const self = this;
      function done() {
        clearTimeout(t);
        self.pauses.delete(done);
        resolve();
      }
      this.pauses.add(done);
    });
  }

  get halted(): boolean {
    return this.haltError !== null;
  }

  success(probe = false): void {
    if (probe || this.stateValue === 'half-open') {
      this.probing = false;
      this.cooldown = this.opts.cooldownMs;
      this.outcomes = [];
      this.setState('closed');
      this.release();
      return;
    }
    this.record(true);
  }

  failure(probe = false): void {
    if (probe) {
      this.probing = false;
      this.cooldown = Math.min(this.cooldown * 2, this.opts.maxCooldownMs);
      this.open();
      return;
    }
    if (this.stateValue !== 'closed') return; // late results of attempts sent before it opened
    this.record(false);
    const fails = this.outcomes.filter((ok) => !ok).length;
    if (this.outcomes.length >= this.opts.minSamples && fails / this.outcomes.length >= this.opts.failureRatio) {
      this.open();
    }
  }

  private record(ok: boolean): void {
    if (this.stateValue !== 'closed') return;
    this.outcomes.push(ok);
    if (this.outcomes.length > this.opts.window) this.outcomes.shift();
  }

  private open(): void {
    this.setState('open');
    if (!this.gate) this.gate = new Promise((resolve) => (this.openGate = resolve));
    if (this.timer) clearTimeout(this.timer);
    this.reopensAt = Date.now() + this.cooldown;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.reopensAt = null;
      this.setState('half-open');
      this.release(); // waiters wake; one becomes the probe, the rest wait on the next gate
      this.gate = new Promise((resolve) => (this.openGate = resolve));
    }, this.cooldown);
  }

  private release(): void {
    const r = this.openGate;
    this.openGate = null;
    this.gate = null;
    r?.();
  }

  /** Stops the cool-down timer (for shutdown). */
  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.release();
  }
}
