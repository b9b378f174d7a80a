// Starting a run, the same for `caco run` and the ingest Lambda: the validated config goes to
// runs/<id>/config.json, the input is split into shards (bad lines quarantined), and the first
// messages are sent (lib/pipeline/ingest.ts).
import type { RunConfig } from '../config.ts';
import type { PipelineDeps } from '../pipeline/deps.ts';
import { ingestRun, type IngestResult } from '../pipeline/ingest.ts';
import { generateStart, inputValidator } from '../pipeline/registry.ts';

export interface StartRun {
  runId: string;
  /** Where the input came from (a path or an s3:// URL), for the run record. */
  input: string;
  cfg: RunConfig;
  source: () => AsyncIterable<Uint8Array>;
}

export function startRun(p: StartRun, deps: PipelineDeps): Promise<IngestResult> {
  return ingestRun(
    {
      runId: p.runId,
      input: p.input,
      mode: p.cfg.mode,
      shardSize: p.cfg.shardSize,
      configJson: JSON.stringify(p.cfg, null, 2),
      source: p.source,
      validate: inputValidator(p.cfg),
      startGenerate: generateStart(p.cfg),
    },
    deps,
  );
}
