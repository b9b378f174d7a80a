// Naming shared by the ingest Lambda and `caco submit`: where an input's config lives, and the run
// id (the same hash `caco run` uses locally, so a re-dropped input maps to the same run).
import { createHash } from 'node:crypto';
import type { RunConfig } from '../config.ts';

/** The config that goes with an input: incoming/<name>.jsonl -> incoming/<name>.config.json. */
export function configKeyFor(inputKey: string): string {
  return inputKey.replace(/\.jsonl$/, '.config.json');
}

/** run-<12 hex>: sha256 of the input bytes and of the config that shapes results (as `caco run`). */
export async function runIdFor(source: AsyncIterable<Uint8Array>, cfg: RunConfig): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of source) h.update(chunk);
  const { cassette: _c, ...llm } = cfg.llm;
  // Exactly the local runner's hash (lib/local/run-local.ts): settings that change how fast, not
  // what comes out, stay out of the id, so a local run and an AWS run of the same input and config
  // have the same run id (it is in every sample's provenance).
  const sandbox = { ...cfg.sandbox, workers: undefined, maxBatch: undefined };
  h.update('\0' + JSON.stringify({ ...cfg, llm, sandbox, local: undefined }));
  return `run-${h.digest('hex').slice(0, 12)}`;
}
