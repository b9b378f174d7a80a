// The run id, the same for `caco run`, `caco submit` and the ingest Lambda: a re-run or a
// re-dropped input maps to the same run, and a local and an AWS run of the same input and config
// share it (it is in every sample's provenance).
import { createHash } from 'node:crypto';
import type { RunConfig } from '../config.ts';

/** run-<12 hex>: sha256 of the input bytes and of the config that shapes results. */
export async function runIdFor(source: AsyncIterable<Uint8Array>, cfg: RunConfig): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of source) h.update(chunk);
  const { cassette: _c, batchPollSeconds: _p, ...roles } = cfg.llm;
  // Batch mode changes how answers are bought, not what they are: the same run id either way.
  const llm = Object.fromEntries(Object.entries(roles).map(([role, e]) => [role, { ...e, batch: undefined, batchQueueTokens: undefined }]));
  // Settings that change how fast, not what comes out, stay out of the id.
  const sandbox = { ...cfg.sandbox, workers: undefined, maxBatch: undefined };
  h.update('\0' + JSON.stringify({ ...cfg, llm, sandbox, local: undefined }));
  return `run-${h.digest('hex').slice(0, 12)}`;
}
