// `caco runs`: the runs of a deployment, newest first, with status and counts (lib/aws/run-list.ts).
import type { Command } from 'commander';
import { resolveTarget } from '../aws/remote.ts';
import { formatRuns, listRuns } from '../aws/run-list.ts';
import { targetOptions, withAwsOptions, type AwsFlags } from './aws-options.ts';

export function register(program: Command): void {
  withAwsOptions(program.command('runs').description('list the runs of a deployment with status, shards done per stage and samples'))
    .option('--json', 'print JSON')
    .action(async (o: AwsFlags & { json?: boolean }) => {
      const runs = await listRuns(await resolveTarget(targetOptions(o)));
      console.log(o.json ? JSON.stringify(runs, null, 2) : formatRuns(runs));
    });
}
