// `caco demo` (also `npm run demo`): the offline demo. Runs the Caco pipeline in `full` mode on 40
// GSM8K seeds with a recorded cassette of model replies, so it needs no network, key or GPU.
import type { Command } from 'commander';
import { fileURLToPath } from 'node:url';
import { dirname } from 'node:path';
import { loadConfigFile, runLocal } from '../local/run-local.ts';
import { progressMode, reportRun } from '../local/report.ts';

const EXAMPLES = fileURLToPath(new URL('../../examples/', import.meta.url));
export const DEMO_INPUT = `${EXAMPLES}seeds/gsm8k-demo.jsonl`;
export const DEMO_CONFIG = `${EXAMPLES}demo/run.json`;

export function register(program: Command): void {
  program
    .command('demo')
    .description('the offline demo: 40 GSM8K seeds through the whole pipeline on a recorded cassette')
    .option('-o, --out <dir>', 'output folder', 'caco-demo')
    .option('-q, --quiet', 'no progress output')
    .option('--json', 'JSON lines instead of the table')
    .action(async (o: { out: string; quiet?: boolean; json?: boolean }) => {
      const result = await runLocal({
        input: DEMO_INPUT,
        config: loadConfigFile(DEMO_CONFIG),
        configDir: dirname(DEMO_CONFIG),
        out: o.out,
        progress: progressMode(o),
      });
      process.exitCode = reportRun(result, o);
    });
}
