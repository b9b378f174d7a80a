// Per-run values a host keeps between shards (a run's config, its LLM clients, its few-shot pool,
// its dedup index): made once, shared by concurrent shards, never cached when making them failed,
// and with an end: `end(runId)` when the run is assembled, and at most `maxRuns` runs kept (a warm
// Lambda serves many runs one after another; the oldest is dropped first).
import { parseRunConfig, type RunConfig } from '../config.ts';
import { keys } from '../pipeline/keys.ts';
import type { BlobStore } from '../store/ports.ts';
export class RunCache<T> {
  private readonly entries = new Map<string, Promise<T>>();

  constructor(private readonly maxRuns = 8) {}

  get(runId: string, make: () => Promise<T> | T): Promise<T> {
    let p = this.entries.get(runId);
    if (p) {
      // most recently used last
      this.entries.delete(runId);
      this.entries.set(runId, p);
      return p;
    }
    p = Promise.resolve().then(make);
    p.catch(() => {
      if (this.entries.get(runId) === p) this.entries.delete(runId);
    });
    this.entries.set(runId, p);
    while (this.entries.size > this.maxRuns) this.entries.delete(this.entries.keys().next().value!);
    return p;
  }

  end(runId: string): void {
    this.entries.delete(runId);
  }

  get size(): number {
    return this.entries.size;
  }
}

/** A run's validated config from runs/<id>/config.json (written by ingest). */
export async function loadRunConfig(blobs: BlobStore, runId: string): Promise<RunConfig> {
  const blob = await blobs.get(keys.config(runId));
  if (!blob) throw new Error(`run ${runId} has no config at ${keys.config(runId)}`);
  return parseRunConfig(JSON.parse(blob.toString('utf8')), `config of run ${runId}`);
}
