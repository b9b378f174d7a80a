// What a stage should do with an LLM answer that cannot be used: a rejection reason for the
// record (the model's fault, paid for, cached, the same on replay), or null when the content is
// worth parsing. Transport failures are not here: they throw (LlmUnavailableError fails the
// shard so it is retried; LlmRequestError is a configuration error, except a 400 for one
// record's prompt, which the stage may reject as 'llm_request_rejected').
import type { LlmResult } from './client.ts';

export type LlmRejectionReason = 'llm_empty' | 'llm_truncated' | 'llm_refusal' | 'llm_content_filter' | 'llm_malformed_response';

export function llmRejection(r: LlmResult): { reason: LlmRejectionReason; detail: string } | null {
  if (r.finishReason === 'malformed') return { reason: 'llm_malformed_response', detail: 'the endpoint kept returning bodies that are not a completion' };
  if (r.refusal) return { reason: 'llm_refusal', detail: r.refusal.slice(0, 200) };
  if (r.finishReason === 'content_filter') return { reason: 'llm_content_filter', detail: 'finish_reason content_filter' };
  if (r.finishReason === 'length') return { reason: 'llm_truncated', detail: `finish_reason length after ${r.usage.completionTokens} tokens` };
  if (!r.content.trim()) return { reason: 'llm_empty', detail: `empty content (finish_reason ${r.finishReason})` };
  return null;
}
