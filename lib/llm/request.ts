// The request as it shapes an answer, and its key. Everything that can change the completion
// (endpoint, model, API kind, messages or prompt, sampling parameters, sample index) is in the
// wire request; the key is the SHA-256 of its canonical JSON (object keys sorted).
import { createHash } from 'node:crypto';
import type { LlmEndpointConfig } from './config.ts';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** What a stage asks for. Sampling settings default to the stage's endpoint config. */
export interface LlmCall {
  /** Chat API: the conversation. */
  messages?: ChatMessage[];
  /** Completions API: the raw prompt (may be '' for unconditional CodeGen sampling). */
  prompt?: string;
  /** Sample index (0-based): distinct samples of one prompt are distinct requests and cache entries. */
  sample?: number;
  temperature?: number;
  top_p?: number;
  max_tokens?: number;
  stop?: string[];
  /** Use this cache for the call instead of the client's (a shard's cache on AWS); not sent. */
  cache?: import('./shard-cache.ts').ResponseCacheLike;
}

export interface WireRequest {
  baseURL: string;
  api: 'chat' | 'completions';
  model: string;
  messages?: ChatMessage[];
  prompt?: string;
  temperature?: number;
  top_p?: number;
  max_tokens: number;
  stop?: string[];
  seed?: number;
  sample: number;
}

export interface StoredResponse {
  content: string;
  finishReason: string;
  model: string;
  usage: { promptTokens: number; completionTokens: number };
  refusal?: string;
}

/** One cache object / one cassette line. */
export interface CacheEntry {
  key: string;
  stage: string;
  request: WireRequest;
  response: StoredResponse;
}

export function buildWireRequest(config: LlmEndpointConfig, call: LlmCall): WireRequest {
  const api = config.api;
  if (api === 'chat' && !call.messages) throw new Error(`endpoint ${config.model} uses the chat API: pass messages`);
  if (api === 'completions' && call.prompt === undefined) throw new Error(`endpoint ${config.model} uses the completions API: pass prompt`);
  const sample = call.sample ?? 0;
  if (!Number.isInteger(sample) || sample < 0) throw new Error(`sample must be a non-negative integer, got ${sample}`);
  const wire: WireRequest = {
    baseURL: config.baseURL.replace(/\/+$/, ''),
    api,
    model: config.model,
    max_tokens: call.max_tokens ?? config.max_tokens,
    sample,
  };
  if (api === 'chat') wire.messages = call.messages!.map((m) => ({ role: m.role, content: m.content }));
  else wire.prompt = call.prompt;
  const temperature = call.temperature ?? config.temperature;
  const top_p = call.top_p ?? config.top_p;
  const stop = call.stop ?? config.stop;
  if (temperature !== undefined) wire.temperature = temperature;
  if (top_p !== undefined) wire.top_p = top_p;
  if (stop !== undefined) wire.stop = stop;
  if (config.seed !== undefined) wire.seed = config.seed + sample;
  return wire;
}

/** JSON with object keys sorted at every level, so equal requests give equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, (v as Record<string, unknown>)[k]]))
      : v,
  );
}

export function requestKey(wire: WireRequest): string {
  return createHash('sha256').update(canonicalJson(wire)).digest('hex');
}

/** The HTTP body sent for a wire request (what the endpoint sees). */
export function httpBody(wire: WireRequest): Record<string, unknown> {
  const body: Record<string, unknown> = { model: wire.model, max_tokens: wire.max_tokens };
  if (wire.api === 'chat') body.messages = wire.messages;
  else body.prompt = wire.prompt;
  for (const k of ['temperature', 'top_p', 'stop', 'seed'] as const) if (wire[k] !== undefined) body[k] = wire[k];
  return body;
}

/** Rough token count before sending (about four characters a token). */
export function estimateTokens(wire: WireRequest): number {
  const text = wire.api === 'chat' ? wire.messages!.map((m) => m.content).join('\n') : (wire.prompt ?? '');
  return Math.ceil(text.length / 4) + (wire.messages?.length ?? 0) * 4 + wire.max_tokens;
}
