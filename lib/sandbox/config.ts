// Sandbox options: part of the run config, so a run records the limits its programs ran under.
import { availableParallelism } from 'node:os';
import { z } from 'zod';

export const SandboxOptionsSchema = z.object({
  /**
   * Child processes, each with one Pyodide interpreter. Unset: the cores of the machine that runs
   * the programs (resolved by the pool there, not where the config was parsed: see sandboxWorkers).
   */
  workers: z.number().int().min(1).max(256).optional(),
  /** Wall-clock limit per program. */
  timeoutMs: z.number().int().min(50).max(600_000).default(10_000),
  /** Heap the program may add on top of the warm interpreter (Pyodide's wasm heap). */
  memoryMb: z.number().int().min(16).max(3_000).default(512),
  /** Characters of stdout (and, separately, stderr) kept; beyond it the status is output_limit. */
  outputCapBytes: z.number().int().min(1_024).max(64 * 1024 * 1024).default(1024 * 1024),
  recursionLimit: z.number().int().min(100).max(100_000).default(3_000),
  /** Programs sent to a child in one IPC message (fewer when the queue is short). */
  maxBatch: z.number().int().min(1).max(10_000).default(64),
})
  // An unknown field is an error (a mistyped limit would otherwise run with the default silently).
  .strict();
export type SandboxOptions = z.infer<typeof SandboxOptionsSchema>;

/** The worker count a pool uses: the configured one, else this machine's available cores. */
export function sandboxWorkers(options: Pick<SandboxOptions, 'workers'>): number {
  return options.workers ?? Math.max(1, availableParallelism());
}
