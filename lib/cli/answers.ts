// `caco answers <pairs.jsonl> [-o out.jsonl]`: {pred, gold} lines in, {equal, reason} lines out.
import type { Command } from 'commander';
import { createWriteStream, existsSync } from 'node:fs';
import { finished } from 'node:stream/promises';
import { compareFile } from '../answer/batch.ts';

export function register(program: Command): void {
  program
    .command('answers')
    .description('compare {pred, gold} JSONL pairs (gold: answer text or a program output PyValue); writes {equal, reason} lines')
    .argument('<pairs>', 'JSONL file of {pred, gold} objects')
    .option('-o, --output <file>', 'write results here instead of stdout')
    .action(async (pairs: string, opts: { output?: string }) => {
      if (!existsSync(pairs)) throw new Error(`no such file: ${pairs}`);
      const out = opts.output ? createWriteStream(opts.output) : process.stdout;
      const counts = await compareFile(pairs, out);
      if (opts.output) {
        out.end();
        await finished(out);
      }
      console.error(`answers: ${counts.lines} pairs, ${counts.equal} equal, ${counts.notEqual} not equal, ${counts.badLines} bad lines`);
    });
}
