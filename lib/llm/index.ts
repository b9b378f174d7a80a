// The LLM layer's public surface.
export { LlmEndpointConfigSchema, type LlmEndpointConfig, type LlmEndpointConfigInput } from './config.ts';
export { LlmClient, createLlmClients, type LlmResult, type LlmPorts } from './client.ts';
export { Cassette, CassetteMissError, requestDiff, type LlmMode } from './cassette.ts';
export { ResponseCache } from './response-cache.ts';
export { LlmRequestError, LlmUnavailableError, parseRetryAfter } from './errors.ts';
export { buildWireRequest, requestKey, type ChatMessage, type LlmCall, type WireRequest, type CacheEntry } from './request.ts';
export { UsageMeter, type UsageRow } from './usage.ts';
export { CircuitBreaker, type BreakerState } from './circuit-breaker.ts';
export { llmRejection, type LlmRejectionReason } from './outcome.ts';
export { exportCodegen, codegenChatLine, splitPlainText, CODEGEN_END_MARKER } from './codegen-export.ts';
export { startFineTune, validateChatJsonl, type FineTuneOptions, type FineTuneResult } from './finetune.ts';
