// How a failed attempt is classified, and the errors a caller can see. Transient failures are
// retried; client errors (bad request, auth, unknown model) fail fast with a message that says
// what to fix. A response body that is not a completion (truncated or garbage JSON) is retried
// and, if it persists, handed back as data (finishReason 'malformed'), never thrown.
import { APIConnectionTimeoutError, APIError } from 'openai';

export type AttemptFailure =
  | { kind: 'rate_limited'; status: 429; retryAfterMs: number | null; message: string }
  | { kind: 'server'; status: number; retryAfterMs: number | null; message: string }
  | { kind: 'timeout'; message: string }
  | { kind: 'connection'; message: string }
  | { kind: 'malformed'; message: string }
  | { kind: 'fatal'; status: number; message: string };

/** Reads `retry-after-ms` (milliseconds) or `retry-after` (seconds or an HTTP date). */
export function parseRetryAfter(headers: Headers | undefined | null, now = Date.now()): number | null {
  if (!headers) return null;
  const ms = headers.get('retry-after-ms');
  if (ms !== null && ms.trim() !== '' && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
  const ra = headers.get('retry-after');
  if (ra === null || ra.trim() === '') return null;
  if (Number.isFinite(Number(ra))) return Math.max(0, Number(ra) * 1000);
  const date = Date.parse(ra);
  return Number.isFinite(date) ? Math.max(0, date - now) : null;
}

export function classifyError(err: unknown): AttemptFailure {
  if (err instanceof APIConnectionTimeoutError) return { kind: 'timeout', message: err.message };
  if (err instanceof APIError) {
    const status = err.status;
    if (status === undefined) {
      // APIConnectionError: a socket reset mid-body lands here too.
      const cause = (err as { cause?: Error }).cause;
      return { kind: 'connection', message: cause?.message ? `${err.message}: ${cause.message}` : err.message };
    }
    const retryAfterMs = parseRetryAfter(err.headers as Headers | undefined);
    if (status === 429) return { kind: 'rate_limited', status: 429, retryAfterMs, message: err.message };
    if (status === 408 || status === 409 || status >= 500) return { kind: 'server', status, retryAfterMs, message: err.message };
    return { kind: 'fatal', status, message: err.message };
  }
  // The SDK parses the body itself: a truncated JSON body surfaces as a SyntaxError, a body
  // cut off mid-stream as a TypeError ('terminated') from fetch.
  if (err instanceof SyntaxError) return { kind: 'malformed', message: `response body is not valid JSON: ${err.message}` };
  if (err instanceof TypeError) return { kind: 'connection', message: err.message };
  return { kind: 'connection', message: (err as Error)?.message ?? String(err) };
}

/** A request the endpoint refuses (400, 401, 403, 404, 422): retrying would not help. */
export class LlmRequestError extends Error {
  constructor(
    readonly stage: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'LlmRequestError';
  }
}

/** Transient failures outlasted every retry: the shard should fail and be retried later. */
export class LlmUnavailableError extends Error {
  constructor(
    readonly stage: string,
    readonly attempts: number,
    readonly last: AttemptFailure,
    message: string,
  ) {
    super(message);
    this.name = 'LlmUnavailableError';
  }
}

export function fatalMessage(stage: string, model: string, baseURL: string, status: number, detail: string, apiKeyEnv: string): string {
  const hint =
    status === 401 || status === 403
      ? ` (check the API key in environment variable ${apiKeyEnv})`
      : status === 404
        ? ` (check that model '${model}' exists at ${baseURL} and that baseURL ends with the API version, e.g. /v1)`
        : '';
  return `LLM request for stage '${stage}' failed: ${status} from ${baseURL} (model ${model}): ${detail}${hint}`;
}

/** Jittered exponential backoff; a server's Retry-After is a floor, never shortened. */
export function backoffMs(attempt: number, retryAfterMs: number | null, baseMs = 500, capMs = 30_000, random = Math.random): number {
  const exp = Math.min(capMs, baseMs * 2 ** attempt);
  const jittered = exp / 2 + random() * (exp / 2);
  if (retryAfterMs !== null) return retryAfterMs + random() * Math.min(250, retryAfterMs * 0.1 + 10);
  return jittered;
}
