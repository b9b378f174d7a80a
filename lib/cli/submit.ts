// `caco submit <input.jsonl> [--config run.json] --stack NAME`: starts a run on AWS (lib/aws/remote.ts).
import type { Command } from 'commander';
import { ENDPOINT_FLAG, ENDPOINT_HELP, targetOptions } from './aws-options.ts';
import { resolveTarget, submitRun } from '../aws/remote.ts';

export function register(program: Command): void {
  program
    .command('submit')
    .description('upload a run config and its input to the deployed stack; the upload starts the run')
    .argument('<input>', 'input JSONL file')
    .option('-c, --config <file>', 'run config (JSON)')
    .option('--stack <name>', 'the deployed stack (reads its outputs)', 'Caco')
    .option('--bucket <name>', 'data bucket (instead of the stack outputs)')
    .option('--table <name>', 'state table (instead of the stack outputs)')
    .option('--region <region>')
    .option(ENDPOINT_FLAG, ENDPOINT_HELP)
    .action(async (input: string, o: { config?: string; stack?: string; bucket?: string; table?: string; region?: string; endpoint?: string }) => {
      const t = await resolveTarget(targetOptions(o));
      const s = await submitRun(t, input, o.config);
      console.log(`submitted s3://${t.bucket}/${s.inputKey} (config ${s.configKey})`);
      console.log(`run id: ${s.runId}   follow it with: caco status ${s.runId} --watch`);
    });
}
