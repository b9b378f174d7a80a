// `caco run <input.jsonl>`: the whole pipeline on this machine (thin: lib/local does the work).
import type { Command } from 'commander';
import { dirname, resolve } from 'node:path';
import { loadConfigFile, runLocal } from '../local/run-local.ts';
import { ConfigError } from '../config.ts';
import { reportRun, progressMode } from '../local/report.ts';

export function register(program: Command): void {
  program
    .command('run')
    .description('run the Caco pipeline locally on a JSONL input (seeds for unify/full, Code CoTs for synthesize)')
    .argument('<input>', 'input JSONL file')
    .option('-c, --config <file>', 'run config (JSON); defaults apply to every missing field')
    .option('-o, --out <dir>', 'output folder (state, cache and dataset/)', 'caco-out')
    .option('-m, --mode <mode>', 'unify | synthesize | full (overrides the config)')
    .option('-q, --quiet', 'no progress output')
    .option('--json', 'one JSON line per finished shard on stdout, and the summary as JSON')
    .option('--retry-failed', 'process again every record that failed (LLM outage, wrong key, dead-lettered shard); answers already bought come from the cache')
    .option('--stop-after-failing <seconds>', 'stop the run when every call to an LLM endpoint has failed for this long', '60')
    .addHelpText(
      'after',
      '\nExit codes: 0 samples and no failed record; 1 failed (a shard failed on every attempt); 2 bad input or config;\n' +
        '3 partial (records failed: use --retry-failed); 4 zero samples; 5 stopped, an LLM endpoint is down; 130 Ctrl-C.',
    )
    .action(async (input: string, o: { config?: string; out: string; mode?: string; quiet?: boolean; json?: boolean; retryFailed?: boolean; stopAfterFailing: string }) => {
      const stopAfter = Number(o.stopAfterFailing);
      if (!(stopAfter > 0)) throw new ConfigError(`--stop-after-failing must be a positive number of seconds, got ${o.stopAfterFailing}`);
      const controller = new AbortController();
      const onSigint = () => {
        if (controller.signal.aborted) process.exit(130);
        process.stderr.write('\nstopping: finishing the shards in flight (Ctrl-C again to quit now); run the same command to resume\n');
        controller.abort();
      };
      process.on('SIGINT', onSigint);
      try {
        const result = await runLocal({
          input,
          config: o.config ? loadConfigFile(o.config) : undefined,
          configDir: o.config ? dirname(resolve(o.config)) : undefined,
          out: o.out,
          mode: o.mode as 'unify' | 'synthesize' | 'full' | undefined,
          progress: progressMode(o),
          signal: controller.signal,
          retryFailed: o.retryFailed,
          stopAfterFailingMs: stopAfter * 1000,
        });
        process.exitCode = reportRun(result, o);
      } finally {
        process.off('SIGINT', onSigint);
      }
    });
}
