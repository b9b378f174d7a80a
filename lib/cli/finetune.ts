// `caco finetune <dataset-folder | codegen/ | part.parquet | codegen.jsonl>`: upload the CodeGen
// training set and start a fine-tuning job. The API takes chat JSONL: the dataset's codegen
// config (Parquet) is converted on the way.
import type { Command } from 'commander';
import { existsSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { startFineTune } from '../llm/finetune.ts';
import { partFiles, readParquetRows } from '../pipeline/dataset-read.ts';

/** The chat JSONL of a CodeGen set given as a dataset folder, its codegen/ folder, a Parquet part or a JSONL file. */
async function codegenText(path: string): Promise<string | undefined> {
  let parts: string[];
  if (statSync(path).isDirectory()) parts = partFiles(basename(path) === 'codegen' ? join(path, '..') : path, 'codegen');
  else if (path.endsWith('.parquet')) parts = [path];
  else return undefined; // a JSONL file: uploaded as it is
  if (parts.length === 0) throw new Error(`${path} holds no codegen/train-*.parquet parts: pass a dataset folder, its codegen/ folder or a chat JSONL file`);
  const rows = await readParquetRows(parts);
  return rows.map((r) => JSON.stringify({ messages: r.messages }) + '\n').join('');
}

export function register(program: Command): void {
  program
    .command('finetune')
    .description('upload the CodeGen set (empty prompt -> program) and start a fine-tuning job (OpenAI files + fine-tuning API)')
    .argument('<file>', "a dataset folder (its codegen config), the codegen/ folder, one of its Parquet parts, or a chat JSONL file")
    .requiredOption('--model <name>', 'base model to fine-tune (the paper: Qwen2.5-Coder-7B)')
    .option('--base-url <url>', 'OpenAI-compatible base URL (default: OpenAI)')
    .option('--api-key-env <var>', 'environment variable holding the API key', 'OPENAI_API_KEY')
    .option('--suffix <text>', 'suffix for the fine-tuned model name', 'caco-codegen')
    .option('--epochs <n>', 'epochs (the paper: 1)', '1')
    .option('--wait', 'poll until the job ends')
    .option('--poll-seconds <n>', 'seconds between polls with --wait', '30')
    .action(async (file: string, o: { model: string; baseUrl?: string; apiKeyEnv: string; suffix: string; epochs: string; wait?: boolean; pollSeconds: string }) => {
      if (!existsSync(file)) throw new Error(`no such file: ${file}`);
      const text = await codegenText(file);
      const r = await startFineTune({
        file: text === undefined || file.endsWith('.parquet') ? file : join(file, 'codegen.jsonl'),
        text,
        model: o.model,
        baseURL: o.baseUrl,
        apiKeyEnv: o.apiKeyEnv,
        suffix: o.suffix,
        epochs: Number(o.epochs),
        wait: o.wait,
        pollMs: Number(o.pollSeconds) * 1000,
        onStatus: (s) => console.error(`finetune: job status ${s}`),
      });
      console.log(JSON.stringify(r));
    });
}
