// The LLM as the stages see it: one call per request, a role naming which configured endpoint
// answers it. lib/llm implements this port (limits, retries, cache, cassette) on the openai SDK.
export type LlmRole = 'unify' | 'generate' | 'reverse' | 'solve' | 'judge';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface LlmRequest {
  /** Chat messages; for a completions endpoint (unconditional CodeGen) use `prompt` instead. */
  messages?: ChatMessage[];
  prompt?: string;
  /** Distinguishes repeated samples of the same prompt, so each is cached separately. */
  sampleIndex?: number;
}

export interface LlmReply {
  content: string;
  /** `stop`, `length` (truncated), `content_filter`, ... or null when the server gave none. */
  finishReason: string | null;
  /** True when served from the response cache or a cassette (no tokens paid). */
  cached: boolean;
}

export interface LlmPort {
  call(role: LlmRole, req: LlmRequest): Promise<LlmReply>;
  /** The model configured for a role (recorded in provenance). */
  model(role: LlmRole): string;
}

/** Thrown by an LlmPort when a request cannot be answered after all retries (outage, breaker). */
export class LlmUnavailableError extends Error {
  /** The failed record's reason (default `llm_unavailable`; batch mode: `llm_batch_error`, ...). */
  constructor(
    message: string,
    readonly reason = 'llm_unavailable',
  ) {
    super(message);
    this.name = 'LlmUnavailableError';
  }
}
