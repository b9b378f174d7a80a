// The provider's own view of a key's quota, read from every response: OpenAI (and the servers
// that copy it) send x-ratelimit-remaining-{requests,tokens} and x-ratelimit-reset-{requests,tokens}.
// Unlike our token buckets (one per process), these count every caller of the key, so ten Lambda
// instances that honour them together stay within the provider's limit. Pure parsing; the client
// applies it through lib/llm/provider-gate.ts.

export interface RateHeaders {
  remainingRequests: number | null;
  remainingTokens: number | null;
  /** Milliseconds until the request quota is full again. */
  resetRequestsMs: number | null;
  resetTokensMs: number | null;
}

/** Go-style durations as OpenAI sends them ('1s', '6m0s', '20ms', '1h2m3.5s'); a bare number is seconds. Null if unreadable. */
export function parseResetDuration(value: string | null | undefined): number | null {
  if (value === null || value === undefined) return null;
  const s = value.trim();
  if (s === '') return null;
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s) * 1000;
  const unit: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, 'µs': 0.001, ns: 1e-6 };
  const re = /(\d+(?:\.\d+)?)(ms|us|µs|ns|h|m|s)/gy;
  let total = 0;
  let pos = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    total += Number(m[1]) * unit[m[2]];
    pos = re.lastIndex;
  }
  return pos === s.length && pos > 0 ? total : null;
}

function count(value: string | null): number | null {
  if (value === null || value.trim() === '') return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

/** Null when the response carries none of the four headers (a server that sends none). */
export function readRateHeaders(headers: Headers | null | undefined): RateHeaders | null {
  if (!headers || typeof headers.get !== 'function') return null;
  const h: RateHeaders = {
    remainingRequests: count(headers.get('x-ratelimit-remaining-requests')),
    remainingTokens: count(headers.get('x-ratelimit-remaining-tokens')),
    resetRequestsMs: parseResetDuration(headers.get('x-ratelimit-reset-requests')),
    resetTokensMs: parseResetDuration(headers.get('x-ratelimit-reset-tokens')),
  };
  return Object.values(h).every((v) => v === null) ? null : h;
}
