// What `caco run` and `caco demo` print at the end, and their exit code.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { LocalRunResult } from './run-local.ts';
import type { ProgressMode } from './progress.ts';
import { formatSummary } from './summary.ts';
import { formatOpenBatch } from '../llm/batch/poller.ts';

/**
 * Exit codes of `caco run` (README, "Exit codes"): 0 only for a finished run with samples and no
 * failed record. 2 (bad input or config) is set by bin/caco.ts before any work.
 */
export const EXIT = {
  ok: 0,
  /** A shard failed on every attempt, or the run broke (conservation): see the printed reasons. */
  failed: 1,
  badInput: 2,
  /** Finished, dataset written, but some records failed (LLM outage, wrong key...): `--retry-failed`. */
  partial: 3,
  /** Finished with zero samples (nothing failed, everything was rejected). */
  noSamples: 4,
  /** Stopped because an LLM endpoint failed every call for the stop threshold: `--retry-failed` after it is back. */
  endpointDown: 5,
  /** Stopped by Ctrl-C: the same command resumes. */
  stopped: 130,
} as const;

export function progressMode(o: { quiet?: boolean; json?: boolean }): ProgressMode {
  if (o.json) return 'json';
  if (o.quiet) return 'quiet';
  return process.stderr.isTTY ? 'bars' : 'lines';
}

export function exitCodeOf(r: LocalRunResult): number {
  if (r.status === 'stopped') return EXIT.stopped;
  if (r.status === 'endpoint_down') return EXIT.endpointDown;
  if (r.status !== 'done' || !r.stats) return EXIT.failed;
  if ((r.failedRecords ?? 0) > 0) return EXIT.partial;
  if (r.stats.samples === 0) return EXIT.noSamples;
  return EXIT.ok;
}

/** Prints the outcome; returns the process exit code (EXIT). */
export function reportRun(r: LocalRunResult, o: { quiet?: boolean; json?: boolean }, command = 'the same command'): number {
  const code = exitCodeOf(r);
  if (o.json) {
    process.stdout.write(JSON.stringify({ event: 'summary', exitCode: code, ...r }) + '\n');
  } else if (r.status === 'done' && r.stats) {
    if (!o.quiet) process.stdout.write(formatSummary(r.stats, r.wallMs) + '\n');
    process.stdout.write(`\nrun ${r.runId}: ${r.stats.samples} verified samples, ${r.stats.codegen} Code CoTs in the CodeGen set\ndataset: ${r.datasetDir}\n`);
    const page = join(r.datasetDir!, 'report', 'index.html');
    if (existsSync(page)) process.stdout.write(`report: ${page}\n`);
    if (code === EXIT.partial) {
      process.stderr.write(
        `run ${r.runId} is PARTIAL: ${r.failedRecords} records failed (see the failed column; records in dataset/rejected/<stage>.failed.jsonl).\n` +
          `Fix the cause (endpoint, key, config) and run ${command} with --retry-failed: answers already bought are not bought again. (exit code ${code})\n`,
      );
    } else if (code === EXIT.noSamples) {
      process.stderr.write(`run ${r.runId} finished with ZERO samples: every candidate was rejected (see the reasons above). (exit code ${code})\n`);
    }
  } else if (r.status === 'endpoint_down' && r.endpointDown) {
    const d = r.endpointDown;
    process.stderr.write(
      `\nrun ${r.runId} STOPPED: every call to the LLM endpoint of ${d.role} (${d.baseURL}, model ${d.model}) failed for ${Math.round(d.failingMs / 1000)} s.\n` +
        `  last error: ${d.lastError.split('\n')[0]}\n` +
        `  Check the endpoint, its URL and key (the run id does not depend on them), then run ${command} with --retry-failed:\n` +
        `  finished work is kept and answers already bought are not bought again. (exit code ${code})\n`,
    );
  } else if (r.status === 'stopped') {
    process.stderr.write(`run ${r.runId} stopped; run ${command} again to resume\n`);
    // Batch mode: the provider keeps working on these; the resumed run picks the same batches up.
    for (const b of r.openBatches ?? []) process.stderr.write(`  open ${formatOpenBatch(b)}\n`);
  } else {
    process.stderr.write(`run ${r.runId} FAILED\n`);
    for (const d of r.deadLetters) process.stderr.write(`  ${d.stage}/${d.shard}: ${(d.error ?? '').split('\n')[0]}\n`);
    process.stderr.write(`after fixing the cause, run ${command} with --retry-failed (answers already bought are not bought again)\n`);
  }
  return code;
}
