// The Batch API's files, line by line. An input line is one request: `custom_id` (our request key,
// so results map back to the exact request the stage asked for), `method`, `url` and the same HTTP
// body an interactive call sends. An output or error line is `{id, custom_id, response:
// {status_code, request_id, body}, error: {code, message} | null}`. Files are split at the
// provider's limits: 50,000 requests and 200 MB per file.
import { parseCompletion } from '../client.ts';
import { httpBody, type StoredResponse, type WireRequest } from '../request.ts';

export const BATCH_LIMITS = { maxRequests: 50_000, maxBytes: 200 * 1024 * 1024 };

export type BatchEndpoint = '/v1/chat/completions' | '/v1/completions';

export const endpointOf = (wire: WireRequest): BatchEndpoint => (wire.api === 'chat' ? '/v1/chat/completions' : '/v1/completions');

/** One line of an input file (JSON text, no newline). */
export function inputLine(key: string, wire: WireRequest): string {
  return JSON.stringify({ custom_id: key, method: 'POST', url: endpointOf(wire), body: httpBody(wire) });
}

/**
 * Cuts lines into files of at most `maxRequests` lines and `maxBytes` bytes (newlines included),
 * and, when `maxTokens` is set, of at most that many estimated tokens (`tokensOf`): a file must fit
 * the provider's enqueued-token limit on its own.
 */
export function splitIntoFiles(lines: string[], limits: { maxRequests: number; maxBytes: number; maxTokens?: number } = BATCH_LIMITS, tokensOf: (line: string) => number = () => 0): string[][] {
  const files: string[][] = [];
  let cur: string[] = [];
  let bytes = 0;
  let tokens = 0;
  const maxTokens = limits.maxTokens || Infinity;
  for (const line of lines) {
    const size = Buffer.byteLength(line) + 1;
    const t = tokensOf(line);
    if (size > limits.maxBytes) throw new Error(`one batch request is ${size} bytes, over the file limit of ${limits.maxBytes}`);
    if (cur.length > 0 && (cur.length >= limits.maxRequests || bytes + size > limits.maxBytes || tokens + t > maxTokens)) {
      files.push(cur);
      cur = [];
      bytes = 0;
      tokens = 0;
    }
    cur.push(line);
    bytes += size;
    tokens += t;
  }
  if (cur.length) files.push(cur);
  return files;
}

/** What one custom_id came back as. `expired`: not run before the batch ended (resubmitted). */
export type LineResult =
  | { key: string; response: StoredResponse }
  | { key: string; error: { code: string; message: string } }
  | { key: string; expired: true };

/** Reads one output/error line against the request it answers; never throws on a bad line. */
export function parseResultLine(text: string, wireOf: (key: string) => WireRequest | undefined): LineResult | null {
  let o: { custom_id?: unknown; response?: { status_code?: unknown; body?: any } | null; error?: { code?: unknown; message?: unknown } | null };
  try {
    o = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof o.custom_id !== 'string') return null;
  const key = o.custom_id;
  const wire = wireOf(key);
  if (!wire) return null; // not one of ours
  if (o.error) {
    const code = String(o.error.code ?? 'error');
    // Not run before the batch expired or was cancelled: the provider's own codes for it.
    if (code === 'batch_expired') return { key, expired: true };
    return { key, error: { code, message: String(o.error.message ?? '') } };
  }
  const status = Number(o.response?.status_code);
  if (status !== 200) {
    const body = o.response?.body;
    const message = typeof body?.error?.message === 'string' ? body.error.message : JSON.stringify(body ?? null).slice(0, 300);
    return { key, error: { code: `http_${Number.isFinite(status) ? status : 'unknown'}`, message } };
  }
  const parsed = parseCompletion(o.response?.body, wire, wire.model);
  if (!parsed) return { key, error: { code: 'malformed', message: 'the response body is not a completion' } };
  return { key, response: parsed };
}
