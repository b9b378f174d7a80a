// `caco execute <in.jsonl> [-o out.jsonl] [--timeout ms] [--workers n]`: runs each {id, code} line
// in the sandbox and writes one ExecutionResult per line, in input order.
import type { Command } from 'commander';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { finished } from 'node:stream/promises';
import { createSandboxPool } from '../sandbox/pool.ts';
import { takePrestartedSandbox } from '../sandbox/launch.ts';
import { workersForInput } from '../sandbox/input-workers.ts';
import { executeJsonl } from '../stages/execute.ts';

function positiveInt(name: string) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got ${v}`);
    return n;
  };
}

export function register(program: Command): void {
  program
    .command('execute')
    .description('run Code CoT programs ({id, code} JSONL) in the sandbox; one ExecutionResult line per input line, in order')
    .argument('<input>', 'JSONL file of {id, code} records')
    .option('-o, --output <file>', 'write results here instead of stdout')
    .option('--timeout <ms>', 'wall-clock limit per program', positiveInt('--timeout'))
    .option('--workers <n>', 'sandbox processes (default: number of cores, at most one per program of a small input)', positiveInt('--workers'))
    .option('--timings', 'print where the time went (CLI loaded, sandbox processes started, first interpreter ready, first result, done) to stderr')
    .action(async (input: string, opts: { output?: string; timeout?: number; workers?: number; timings?: boolean }) => {
      if (!existsSync(input)) throw new Error(`no such file: ${input}`);
      // performance.now() counts from this process's start: the first mark is the CLI's own load
      // (Node, the TypeScript loader and this command's modules).
      const marks: Array<[string, number]> = [['cli loaded', performance.now()]];
      const poolCall = performance.now();
      // The children bin/caco.ts started before loading the CLI (if it did) are adopted.
      const pool = await createSandboxPool({
        ...(opts.timeout ? { timeoutMs: opts.timeout } : {}),
        workers: opts.workers ?? workersForInput(input),
      }, { prestarted: takePrestartedSandbox() });
      const { spawnMs, startMs, bootMarks } = pool.stats();
      marks.push(['sandbox processes started', poolCall + spawnMs], ['first interpreter ready', poolCall + startMs]);
      // The first child's own phases (epoch ms) on this process's clock.
      for (const [phase, at] of bootMarks) marks.push([`  child: ${phase}`, at - performance.timeOrigin]);
      const out = opts.output ? createWriteStream(opts.output) : process.stdout;
      const t0 = performance.now();
      const tty = process.stderr.isTTY;
      let last = 0;
      const progress = (done: number) => {
        const now = performance.now();
        if (done === 1) marks.push(['first result', now]);
        if (!tty || now - last < 250) return;
        last = now;
        process.stderr.write(`\rexecute: ${done} programs, ${Math.round(done / ((now - t0) / 1000))}/s`);
      };
      try {
        const counts = await executeJsonl(createReadStream(input), out, pool, progress);
        if (opts.output) {
          out.end();
          await finished(out);
        }
        const secs = (performance.now() - t0) / 1000;
        const statuses = Object.entries(counts.byStatus).map(([k, v]) => `${k} ${v}`).join(', ');
        process.stderr.write(`${tty ? '\r' : ''}execute: ${counts.lines} lines (${counts.malformed} malformed) in ${secs.toFixed(1)} s: ${statuses}\n`);
        if (opts.timings) {
          marks.push(['done', performance.now()]);
          marks.sort((a, b) => a[1] - b[1]);
          process.stderr.write(`execute timings (ms since process start): ${marks.map(([k, v]) => `${k.trim()} ${v.toFixed(0)}`).join(', ')}\n`);
        }
      } finally {
        await pool.close();
      }
    });
}
