// The run id, the same for `caco run`, `caco submit` and the ingest Lambda: a re-run or a
// re-dropped input maps to the same run, and a local and an AWS run of the same input and config
// share it (it is in every sample's provenance).
import { createHash } from 'node:crypto';
import type { RunConfig } from '../config.ts';
import { LLM_ROLES } from '../config.ts';

/**
 * Endpoint settings that say where and how to reach a model, or what it costs, not what it
 * answers (batch mode too: it changes how answers are bought, not what they are): fixing a wrong
 * URL or key variable, or a limit, reaches the same run (its state and the
 * responses it already bought). Model, API kind and sampling stay in the id.
 */
const TRANSPORT = ['baseURL', 'apiKeyEnv', 'timeoutMs', 'concurrency', 'rpm', 'tpm', 'maxRetries', 'price', 'batch', 'batchQueueTokens'] as const;

/** run-<12 hex>: sha256 of the input bytes and of the config that shapes results. */
export async function runIdFor(source: AsyncIterable<Uint8Array>, cfg: RunConfig): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of source) h.update(chunk);
  const { cassette: _c, batchPollSeconds: _p, ...llm } = cfg.llm;
  const shaping: Record<string, unknown> = {};
  for (const role of ['default', ...LLM_ROLES] as const) {
    const e = { ...(llm[role] as Record<string, unknown>) };
    for (const k of TRANSPORT) delete e[k];
    shaping[role] = e;
  }
  // Settings that change how fast, not what comes out, stay out of the id.
  const sandbox = { ...cfg.sandbox, workers: undefined, maxBatch: undefined };
  h.update('\0' + JSON.stringify({ ...cfg, llm: shaping, sandbox, local: undefined }));
  return `run-${h.digest('hex').slice(0, 12)}`;
}
