// Which run config goes with an input dropped into the bucket's incoming/ folder: the one beside
// it (`incoming/<name>.config.json`, what `caco submit` uploads first), else the stack's default
// (`incoming/default.config.json`), else none. A drop whose config is missing or invalid does not
// retry into a dead-letter queue with no word: ingest records a failed run whose failure says why
// (`caco status` and `caco runs` show it), and nothing else happens.
import { createHash } from 'node:crypto';
import { ConfigError, parseRunConfig, type RunConfig } from '../config.ts';
import { keys } from '../pipeline/keys.ts';
import type { BlobStore, StateStore, RunFailure } from '../store/ports.ts';
import { configKeyFor } from './run-id.ts';

/** The stack-wide default config: used by every drop that has no config of its own. */
export const DEFAULT_CONFIG_KEY = 'incoming/default.config.json';

export type DropConfig = { ok: true; cfg: RunConfig; from: string } | { ok: false; reason: string; text: string };

export async function configForDrop(blobs: BlobStore, inputKey: string): Promise<DropConfig> {
  const own = configKeyFor(inputKey);
  const ownBlob = await blobs.get(own);
  const from = ownBlob ? own : DEFAULT_CONFIG_KEY;
  const blob = ownBlob ?? (inputKey === DEFAULT_CONFIG_KEY ? null : await blobs.get(DEFAULT_CONFIG_KEY));
  if (!blob) {
    return {
      ok: false,
      text: '',
      reason: `no run config for ${inputKey}: upload it beside the input as ${own} BEFORE the input (caco submit does both), or set a stack default at ${DEFAULT_CONFIG_KEY}; then drop the input again`,
    };
  }
  const text = blob.toString('utf8');
  try {
    return { ok: true, cfg: parseRunConfig(JSON.parse(text), from), from };
  } catch (err) {
    if (!(err instanceof ConfigError) && !(err instanceof SyntaxError)) throw err;
    return { ok: false, text, reason: `${err instanceof SyntaxError ? `${from} is not valid JSON: ` : ''}${(err as Error).message}; fix it and drop the input again` };
  }
}

/** The id of a drop that could not start: the input and the config text (or its absence). */
export async function refusedRunId(source: AsyncIterable<Uint8Array>, configText: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of source) h.update(chunk);
  h.update('\0refused\0' + configText);
  return `run-${h.digest('hex').slice(0, 12)}`;
}

/** Records the refused drop as a failed run (status and the run list say why). */
export async function recordRefusedDrop(
  state: StateStore & { failRun(runId: string, f: RunFailure): Promise<void> },
  blobs: BlobStore,
  runId: string,
  input: string,
  reason: string,
): Promise<void> {
  await state.createRun({ runId, createdAt: new Date().toISOString(), status: 'running', input, mode: 'full', expected: {} });
  await state.failRun(runId, { stage: 'ingest', shard: '-', reason, receives: 1, at: new Date().toISOString() });
  // Under runs/ so `caco runs` (which lists runs/<id>/) finds it.
  await blobs.put(keys.ingestError(runId), JSON.stringify({ runId, input, reason }, null, 2));
}
