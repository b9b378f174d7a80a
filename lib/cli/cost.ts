// `caco cost <runId>`: the AWS cost of a run (tokens reported separately) and the scaled estimate.
import type { Command } from 'commander';
import { ENDPOINT_FLAG, ENDPOINT_HELP, targetOptions } from './aws-options.ts';
import { loadPrices } from '../aws/cost.ts';
import { formatCost, resolveTarget, runCostReport } from '../aws/remote.ts';

export function register(program: Command): void {
  program
    .command('cost')
    .description('AWS cost of a run at list prices, LLM usage, and $ per 1M candidate programs')
    .argument('<runId>')
    .option('--latency <seconds>', 'mean LLM latency for the scaled estimate', '20')
    .option('--json', 'print JSON')
    .option('--stack <name>', 'the deployed stack (reads its outputs)', 'Caco')
    .option('--bucket <name>')
    .option('--table <name>')
    .option('--region <region>')
    .option(ENDPOINT_FLAG, ENDPOINT_HELP)
    .action(async (runId: string, o: { latency: string; json?: boolean; stack?: string; bucket?: string; table?: string; region?: string; endpoint?: string }) => {
      const t = await resolveTarget(targetOptions(o));
      const c = await runCostReport(t, runId, loadPrices(), Number(o.latency));
      console.log(o.json ? JSON.stringify(c, null, 2) : formatCost(c));
    });
}
