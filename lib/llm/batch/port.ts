// The LlmPort of a shard in batch mode: a role whose endpoint has `batch: true` is answered from
// the shard's collected batch results, fails with the provider's reason once its retries are used,
// or is deferred to the next round (the stage sees an outage for that record; the run's output is
// thrown away while anything is deferred, see shard-batch.ts). Other roles go to `inner` (the
// interactive port). A batch answer is bought at the batch price: the endpoint's price times
// `price.batchFactor`; replayed from a cassette, nothing is bought (as an interactive replay).
import type { LlmClient } from '../client.ts';
import { buildWireRequest, requestKey } from '../request.ts';
import { bookUsage, type RoleClients } from '../../pipeline/llm-adapter.ts';
import { LlmUnavailableError, type LlmPort, type LlmReply, type LlmRequest, type LlmRole } from '../../stages/llm-port.ts';
import type { ShardBatch } from './shard-batch.ts';

/** The stage's view of a deferred request: an outage of this record for this run only. */
export class BatchPendingError extends LlmUnavailableError {
  constructor(role: string) {
    super(`${role}: waiting for the next batch`, 'llm_batch_pending');
    this.name = 'BatchPendingError';
  }
}

export const batchRoles = (clients: RoleClients): LlmRole[] => (Object.keys(clients) as LlmRole[]).filter((r) => clients[r]?.config.batch);

export function batchPortFor(clients: RoleClients, counters: Record<string, number>, batch: ShardBatch, inner: LlmPort): LlmPort {
  return {
    model: (role) => inner.model(role),
    async call(role: LlmRole, req: LlmRequest): Promise<LlmReply> {
      const c: LlmClient | undefined = clients[role];
      if (!c?.config.batch) return inner.call(role, req);
      const wire = buildWireRequest(c.config, { messages: req.messages, prompt: req.prompt, sample: req.sampleIndex });
      const key = requestKey(wire);
      const got = batch.lookup(key, wire, { baseURL: c.config.baseURL, apiKeyEnv: c.config.apiKeyEnv, queueTokens: c.config.batchQueueTokens });
      if (got.kind === 'deferred') throw new BatchPendingError(role);
      if (got.kind === 'exhausted') throw new LlmUnavailableError(`${role}: ${got.detail}`, got.reason);
      const r = got.response;
      const replayed = c.mode === 'replay';
      bookUsage(counters, role, c.config, r.usage, { served: replayed, batch: true });
      if (!replayed && c.mode === 'record') c.cassette?.record({ key, stage: role, request: wire, response: r });
      return { content: r.content, finishReason: r.finishReason, cached: replayed };
    },
  };
}
