// A token bucket that smooths: it starts nearly empty and holds at most `capacity` tokens, so
// callers are spaced evenly at the refill rate instead of bursting. Waiters are served in FIFO
// order by one timer (no polling loop). A request may cost more than the capacity: it then waits
// for a full bucket and drives the balance negative, which later callers pay back.

export class TokenBucket {
  private tokens: number;
  private last: number;
  private readonly waiters: { cost: number; resolve: () => void }[] = [];
  private timer: NodeJS.Timeout | null = null;

  /** `ratePerMinute` 0 or less means unlimited. */
  constructor(
    readonly ratePerMinute: number,
    readonly capacity: number = 1,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = Math.min(1, capacity);
    this.last = this.now();
  }

  get unlimited(): boolean {
    return !(this.ratePerMinute > 0);
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((t - this.last) * this.ratePerMinute) / 60_000);
    this.last = t;
  }

  /** Resolves once `cost` tokens have been taken. */
  take(cost = 1): Promise<void> {
    if (this.unlimited) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiters.push({ cost, resolve });
      this.drain();
    });
  }

  /** Gives tokens back (a request the server refused without serving, or usage below the estimate). */
  refund(amount: number): void {
    if (this.unlimited || amount === 0) return;
    this.refill();
    this.tokens = Math.min(this.capacity, this.tokens + amount);
    this.drain();
  }

  /** Charges extra tokens after the fact (usage above the estimate); may go negative. */
  charge(amount: number): void {
    if (this.unlimited || amount <= 0) return;
    this.refill();
    this.tokens -= amount;
  }

  get pending(): number {
    return this.waiters.length;
  }

  private drain(): void {
    this.refill();
    while (this.waiters.length) {
      const w = this.waiters[0];
      const need = Math.min(w.cost, this.capacity);
      if (this.tokens + 1e-9 < need) break;
      this.tokens -= w.cost;
      this.waiters.shift();
      w.resolve();
    }
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.waiters.length) {
      const need = Math.min(this.waiters[0].cost, this.capacity) - this.tokens;
      const ms = Math.max(1, Math.ceil((need * 60_000) / this.ratePerMinute));
      this.timer = setTimeout(() => {
        this.timer = null;
        this.drain();
      }, ms);
    }
  }
}

/** A counting semaphore for the concurrency cap. */
export class Semaphore {
  private active = 0;
  private readonly queue: (() => void)[] = [];
  constructor(readonly limit: number) {}

  async acquire(): Promise<void> {
    if (this.active < this.limit) {
      this.active++;
      return;
    }
    await new Promise<void>((resolve) => this.queue.push(resolve));
  }

  release(): void {
    const next = this.queue.shift();
    if (next) next(); // hands the slot over directly
    else this.active--;
  }

  get inUse(): number {
    return this.active;
  }
}
