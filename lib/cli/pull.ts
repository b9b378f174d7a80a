// `caco pull <runId> --out DIR`: downloads a finished run's dataset folder from S3, the same files
// a local run writes to <out>/dataset/ (lib/local/materialize.ts).
import type { Command } from 'commander';
import { ENDPOINT_FLAG, ENDPOINT_HELP, targetOptions } from './aws-options.ts';
import { pullDataset, resolveTarget } from '../aws/remote.ts';

export function register(program: Command): void {
  program
    .command('pull')
    .description("download a run's dataset folder from S3 (the files a local run writes to <out>/dataset/)")
    .argument('<runId>')
    .requiredOption('-o, --out <dir>', 'the dataset folder to write (an earlier pull of the same run is replaced; any other non-empty folder is refused)')
    .option('--stack <name>', 'the deployed stack (reads its outputs)', 'Caco')
    .option('--bucket <name>')
    .option('--table <name>')
    .option('--region <region>')
    .option(ENDPOINT_FLAG, ENDPOINT_HELP)
    .action(async (runId: string, o: { out: string; stack?: string; bucket?: string; table?: string; region?: string; endpoint?: string }) => {
      const t = await resolveTarget(targetOptions(o));
      const files = await pullDataset(t, runId, o.out);
      for (const f of files) console.log(f);
    });
}
