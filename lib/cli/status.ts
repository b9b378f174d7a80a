// `caco status <runId> [--watch]`: per-stage progress of a run on AWS, from DynamoDB.
import type { Command } from 'commander';
import { ENDPOINT_FLAG, ENDPOINT_HELP, targetOptions } from './aws-options.ts';
import { formatStatus, resolveTarget, runStatus } from '../aws/remote.ts';

export function register(program: Command): void {
  program
    .command('status')
    .description('per-stage progress of a run on AWS')
    .argument('<runId>')
    .option('-w, --watch', 'refresh every few seconds until the run is done or failed')
    .option('--interval <seconds>', 'refresh interval with --watch', '5')
    .option('--stack <name>', 'the deployed stack (reads its outputs)', 'Caco')
    .option('--bucket <name>')
    .option('--table <name>')
    .option('--region <region>')
    .option(ENDPOINT_FLAG, ENDPOINT_HELP)
    .action(async (runId: string, o: { watch?: boolean; interval: string; stack?: string; bucket?: string; table?: string; region?: string; endpoint?: string }) => {
      const t = await resolveTarget(targetOptions(o));
      for (;;) {
        const p = await runStatus(t, runId);
        if (!p) throw new Error(`no run ${runId} in table ${t.table}`);
        console.log(formatStatus(p));
        if (!o.watch || p.run.status !== 'running') return;
        await new Promise((r) => setTimeout(r, Number(o.interval) * 1000));
        console.log('');
      }
    });
}
