// Decisions about a raw LLM reply that every generating stage makes the same way: empty content,
// truncation (finish_reason "length"), and refusals. Each returns a rejection reason or null.
import type { LlmReply } from './llm-port.ts';

export type ReplyReason = 'llm_empty' | 'llm_truncated' | 'llm_refusal';

// Openers a chat model uses when it declines. Matched at the start of the reply (after markdown
// noise), so a solution that merely contains "I cannot" later on is not a refusal.
const REFUSAL_RE =
  /^(?:i['’]m sorry|i am sorry|sorry,|i apologi[sz]e|i can(?:no|['’])t (?:help|assist|do|provide|comply|complete|write|convert|create)|i cannot (?:help|assist|do|provide|comply|complete|write|convert|create)|i['’]m (?:not able|unable)|i am (?:not able|unable)|i won['’]t|as an ai\b)/i;

export function isRefusal(content: string): boolean {
  const head = content.replace(/^[\s*_#>`-]+/, '').slice(0, 200);
  return REFUSAL_RE.test(head);
}

/**
 * The reason to reject a reply before looking at its content, or null. A refusal is only called
 * one when the reply does not also carry what was asked for (`hasPayload`), e.g. "I'm sorry for the
 * confusion, here is the program: ```python ...```" is not a refusal.
 */
export function replyProblem(reply: LlmReply, hasPayload: (content: string) => boolean = () => false): ReplyReason | null {
  const content = reply.content ?? '';
  if (content.trim() === '') return 'llm_empty';
  if (reply.finishReason === 'length') return 'llm_truncated';
  if (reply.finishReason === 'content_filter') return 'llm_refusal';
  if (isRefusal(content) && !hasPayload(content)) return 'llm_refusal';
  return null;
}

/** Cap long text kept in rejection details. */
export function clip(s: string, max = 300): string {
  return s.length <= max ? s : `${s.slice(0, max)}…[${s.length - max} more chars]`;
}
