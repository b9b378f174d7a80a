// What `caco run` and `caco demo` print at the end, and their exit code.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { LocalRunResult } from './run-local.ts';
import type { ProgressMode } from './progress.ts';
import { formatSummary } from './summary.ts';
import { formatOpenBatch } from '../llm/batch/poller.ts';

export function progressMode(o: { quiet?: boolean; json?: boolean }): ProgressMode {
  if (o.json) return 'json';
  if (o.quiet) return 'quiet';
  return process.stderr.isTTY ? 'bars' : 'lines';
}

/** Prints the outcome; returns the process exit code (0 done, 1 failed, 130 stopped). */
export function reportRun(r: LocalRunResult, o: { quiet?: boolean; json?: boolean }): number {
  if (o.json) {
    process.stdout.write(JSON.stringify({ event: 'summary', ...r }) + '\n');
  } else if (r.status === 'done' && r.stats) {
    if (!o.quiet) process.stdout.write(formatSummary(r.stats, r.wallMs) + '\n');
    process.stdout.write(`\nrun ${r.runId}: ${r.stats.samples} verified samples, ${r.stats.codegen} Code CoTs in the CodeGen set\ndataset: ${r.datasetDir}\n`);
    const page = join(r.datasetDir!, 'report', 'index.html');
    if (existsSync(page)) process.stdout.write(`report: ${page}\n`);
  } else if (r.status === 'stopped') {
    process.stderr.write(`run ${r.runId} stopped; run the same command again to resume\n`);
    // Batch mode: the provider keeps working on these; the resumed run picks the same batches up.
    for (const b of r.openBatches ?? []) process.stderr.write(`  open ${formatOpenBatch(b)}\n`);
  } else {
    process.stderr.write(`run ${r.runId} FAILED\n`);
    for (const d of r.deadLetters) process.stderr.write(`  ${d.stage}/${d.shard}: ${(d.error ?? '').split('\n')[0]}\n`);
  }
  return r.status === 'done' ? 0 : r.status === 'stopped' ? 130 : 1;
}
