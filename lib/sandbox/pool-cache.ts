// One sandbox pool at a time for a long-lived process that serves many runs (a warm Lambda):
// a run with other limits gets a pool made with its limits (the previous pool is closed), and a
// pool that failed to start is forgotten, so the next invocation tries again instead of failing
// at once on the cached rejection.
export interface Closable {
  close?(): Promise<void>;
}

export function onePoolPerLimits<C, P extends Closable>(create: (cfg: C) => Promise<P>, limitsOf: (cfg: C) => unknown): (cfg: C) => Promise<P> {
  let current: { key: string; pool: Promise<P> } | null = null;
  return (cfg) => {
    const key = JSON.stringify(limitsOf(cfg));
    if (current?.key === key) return current.pool;
    current?.pool.then((p) => p.close?.(), () => {});
    const pool = create(cfg);
    const entry = { key, pool };
    current = entry;
    pool.catch(() => {
      if (current === entry) current = null;
    });
    return pool;
  };
}
