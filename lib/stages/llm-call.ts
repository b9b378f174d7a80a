// One LLM call as the stages make it: count it, and turn an outage (LlmUnavailableError after all
// retries) into a value the stage records as `failed: llm_unavailable` instead of a crash.
import { LlmUnavailableError, type LlmPort, type LlmReply, type LlmRequest, type LlmRole } from './llm-port.ts';
import { addCounter } from './types.ts';

export type CallResult = { ok: true; reply: LlmReply } | { ok: false; reason: string; detail: string };

export async function callLlm(llm: LlmPort, role: LlmRole, req: LlmRequest, counters: Record<string, number>): Promise<CallResult> {
  try {
    const reply = await llm.call(role, req);
    addCounter(counters, `llm_calls_${role}`);
    if (reply.cached) addCounter(counters, `llm_cached_${role}`);
    return { ok: true, reply };
  } catch (err) {
    if (err instanceof LlmUnavailableError) {
      addCounter(counters, `llm_unavailable_${role}`);
      return { ok: false, reason: err.reason, detail: `${role}: ${err.message}` };
    }
    throw err; // a bug, not an outage: let the shard fail loudly and be retried
  }
}
