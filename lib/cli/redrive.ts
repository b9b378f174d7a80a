// `caco redrive <runId>`: after fixing what made a run fail (`caco status` names the stage, shard
// and reason), move its messages from the dead-letter queues back to their stage queues.
import type { Command } from 'commander';
import { ENDPOINT_FLAG, ENDPOINT_HELP, targetOptions } from './aws-options.ts';
import { redriveRun, resolveTarget } from '../aws/remote.ts';

export function register(program: Command): void {
  program
    .command('redrive')
    .description("send a failed run's dead-lettered shard messages back to their queues (after a fix)")
    .argument('<runId>')
    .option('--stack <name>', 'the deployed stack (reads its outputs)', 'Caco')
    .option('--region <region>')
    .option(ENDPOINT_FLAG, ENDPOINT_HELP)
    .action(async (runId: string, o: { stack?: string; region?: string; endpoint?: string }) => {
      const moved = await redriveRun(await resolveTarget({ ...targetOptions(o), needsQueues: true }), runId);
      console.log(`run ${runId} is running again: ${moved} message(s) moved back from the dead-letter queues`);
    });
}
