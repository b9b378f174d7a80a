// `caco answers <pairs.jsonl> [-o out.jsonl] [--no-extract] [--ambiguous last]`: {id?, pred, gold}
// lines in, {id?, equal, reason, extracted, rule} lines out. `pred` is a whole solution by default.
import type { Command } from 'commander';
import { createWriteStream, existsSync } from 'node:fs';
import { finished } from 'node:stream/promises';
import { compareFile } from '../answer/batch.ts';

export function register(program: Command): void {
  program
    .command('answers')
    .description(
      'grade {id?, pred, gold} JSONL pairs: pred is a whole solution (its final answer is extracted: last \\boxed{}, ####, ' +
        '"the answer is", last math, last number), gold an answer text or a program output PyValue; writes {id, equal, reason, extracted, rule} lines',
    )
    .argument('<pairs>', 'JSONL file of {pred, gold} objects (an `id` field is passed through)')
    .option('-o, --output <file>', 'write results here instead of stdout')
    .option('--no-extract', 'pred is already an extracted answer: compare it as it is')
    .option('--ambiguous <policy>', 'two different \\boxed{} answers in one solution: reject (reason "ambiguous") or last', 'reject')
    .action(async (pairs: string, opts: { output?: string; extract: boolean; ambiguous: string }) => {
      if (!existsSync(pairs)) throw new Error(`no such file: ${pairs}`);
      if (opts.ambiguous !== 'reject' && opts.ambiguous !== 'last') throw new Error(`--ambiguous must be reject or last, not ${opts.ambiguous}`);
      const out = opts.output ? createWriteStream(opts.output) : process.stdout;
      const counts = await compareFile(pairs, out, { extract: opts.extract, ambiguous: opts.ambiguous });
      if (opts.output) {
        out.end();
        await finished(out);
      }
      console.error(`answers: ${counts.lines} pairs, ${counts.equal} equal, ${counts.notEqual} not equal, ${counts.badLines} bad lines`);
    });
}
