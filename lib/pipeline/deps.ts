// What the pipeline runner needs from its host (local orchestrator or a Lambda): the ports plus a
// few services created lazily (a Lambda that only filters never starts a sandbox pool).
import type { BlobStore, StateStore, WorkQueue } from '../store/ports.ts';

export interface Logger {
  info(msg: string, extra?: Record<string, unknown>): void;
  warn(msg: string, extra?: Record<string, unknown>): void;
  error(msg: string, extra?: Record<string, unknown>): void;
}

export interface PipelineDeps {
  blobs: BlobStore;
  state: StateStore;
  queue: WorkQueue;
  log: Logger;
  /**
   * Milliseconds left before the host stops this invocation (Lambda's getRemainingTimeInMillis);
   * a stage that gets close checkpoints and re-enqueues the rest. Undefined locally: no limit.
   */
  remainingMs?: () => number;
  /** Environment for LLM API keys (process.env locally; Secrets Manager values on AWS). */
  secrets: (name: string) => string | undefined;
}
