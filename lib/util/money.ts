// Dollars as the CLI prints them. A cost that depends on a price the config does not set is
// unknown, and says so: `$0.0000` would read as free.

/** `$0.0412`; `unknown (no price for m1, m2)` when nothing is priced; `$0.0412 + unknown (...)` when part is. */
export function formatUSD(usd: number, unpricedModels: readonly string[] = [], digits = 4): string {
  if (unpricedModels.length === 0) return `$${usd.toFixed(digits)}`;
  const why = `unknown (no price set for ${[...new Set(unpricedModels)].join(', ')})`;
  return usd > 0 ? `$${usd.toFixed(digits)} + ${why}` : why;
}
