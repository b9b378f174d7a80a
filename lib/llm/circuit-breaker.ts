// A circuit breaker that pauses rather than spins. It watches the outcome of recent attempts;
// when transient failures (429, 5xx, timeouts) dominate the window it opens, and every caller
// waits on one shared promise until the cool-down ends. Then it half-opens: exactly one probe
// goes through while the others keep waiting; a successful probe closes the breaker, a failed
// one re-opens it with a longer cool-down (doubling up to a ceiling).

export type BreakerState = 'closed' | 'open' | 'half-open';

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
      if (this.stateValue === 'closed') return false;
      if (this.stateValue === 'half-open' && !this.probing) {
        this.probing = true;
        return true;
      }
      await this.gate;
    }
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
    this.timer = setTimeout(() => {
      this.timer = null;
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
