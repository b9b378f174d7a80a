// `caco estimate <input> --config run.json`: tokens, dollars and wall time of a run before it is
// paid for, with every assumption printed (thin: lib/local/estimate.ts does the work).
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { ConfigError, parseRunConfig } from '../config.ts';
import { loadConfigFile } from '../local/run-local.ts';
import { estimateRun, type Estimate } from '../local/estimate.ts';
import { formatUSD } from '../util/money.ts';

const n = (x: number) => Math.round(x).toLocaleString('en-US');
const dur = (s: number) => (s < 90 ? `${Math.round(s)} s` : s < 5400 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`);

export function formatEstimate(e: Estimate): string {
  const rows = e.roles.map(
    (r) =>
      `  ${r.role.padEnd(9)} ${r.model.padEnd(28)} ${n(r.calls).padStart(9)} calls ${n(r.promptTokens).padStart(12)} prompt ${n(r.completionTokens).padStart(12)} completion  ${(r.usd === null ? 'price unknown' : formatUSD(r.usd)).padStart(14)}  ${(r.batchUsd === null ? 'price unknown' : formatUSD(r.batchUsd)).padStart(14)}${r.batch ? '*' : ' '}  ~${r.batch ? '<= 24 h (batch)' : dur(r.wallS)}`,
  );
  const tokens = e.roles.reduce((a, r) => a + r.promptTokens + r.completionTokens, 0);
  const batchUSD = e.roles.reduce((a, r) => a + (r.batchUsd ?? 0), 0);
  const thisRun = e.roles.reduce((a, r) => a + ((r.batch ? r.batchUsd : r.usd) ?? 0), 0);
  return [
    `Estimate for ${n(e.validRecords)} input records -> ~${n(e.candidates)} candidate programs -> ~${n(e.samples)} samples`,
    `  ${'role'.padEnd(9)} ${'model'.padEnd(28)}${' '.repeat(62)}${'interactive'.padStart(14)}  ${'batch'.padStart(14)}   (* = this config's mode)`,
    ...rows,
    `LLM: ${n(tokens)} tokens, ${formatUSD(e.llmUSD, e.unpriced)} interactive, ${formatUSD(batchUSD, e.unpriced)} through the Batch API; this config: ${formatUSD(thisRun, e.unpriced)}${e.unpriced.length ? `  (set llm.<role>.price to price ${e.unpriced.join(', ')})` : ''}`,
    `AWS (only when run on the stack): ~${formatUSD(e.awsUSD)}`,
    `wall time (local): ~${dur(e.wallS)} (LLM ~${dur(e.wallS - e.sandboxS)}, sandbox ~${dur(e.sandboxS)})`,
    'Assumptions:',
    ...e.assumptions.map((a) => `  - ${a}`),
  ].join('\n');
}

export function register(program: Command): void {
  program
    .command('estimate')
    .description('tokens, dollars and wall time of a run before paying for it, from the config and a sample of the input')
    .argument('<input>', 'input JSONL file')
    .option('-c, --config <file>', 'run config (JSON)')
    .option('-m, --mode <mode>', 'unify | synthesize | full (overrides the config)')
    .option('--sample <lines>', 'input lines read to measure prompt sizes', '50')
    .option('--tokens-per-second <n>', 'completion speed of one call, for the wall time', '40')
    .option('--json', 'print JSON')
    .action(async (input: string, o: { config?: string; mode?: string; sample: string; tokensPerSecond: string; json?: boolean }) => {
      if (!existsSync(input)) throw new ConfigError(`input file not found: ${input}`);
      const raw = (o.config ? loadConfigFile(o.config) : {}) as Record<string, unknown>;
      const cfg = parseRunConfig(o.mode ? { ...raw, mode: o.mode } : raw);
      const e = await estimateRun(input, cfg, { sample: Number(o.sample), tokensPerSecond: Number(o.tokensPerSecond) });
      console.log(o.json ? JSON.stringify(e, null, 2) : formatEstimate(e));
    });
}
