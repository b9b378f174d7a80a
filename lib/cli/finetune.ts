// `caco finetune <codegen.jsonl>`: upload the CodeGen training set and start a fine-tuning job.
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { startFineTune } from '../llm/finetune.ts';

export function register(program: Command): void {
  program
    .command('finetune')
    .description('upload a CodeGen chat JSONL (empty prompt -> program) and start a fine-tuning job (OpenAI files + fine-tuning API)')
    .argument('<file>', 'chat JSONL written by the CodeGen export')
    .requiredOption('--model <name>', 'base model to fine-tune (the paper: Qwen2.5-Coder-7B)')
    .option('--base-url <url>', 'OpenAI-compatible base URL (default: OpenAI)')
    .option('--api-key-env <var>', 'environment variable holding the API key', 'OPENAI_API_KEY')
    .option('--suffix <text>', 'suffix for the fine-tuned model name', 'caco-codegen')
    .option('--epochs <n>', 'epochs (the paper: 1)', '1')
    .option('--wait', 'poll until the job ends')
    .option('--poll-seconds <n>', 'seconds between polls with --wait', '30')
    .action(async (file: string, o: { model: string; baseUrl?: string; apiKeyEnv: string; suffix: string; epochs: string; wait?: boolean; pollSeconds: string }) => {
      if (!existsSync(file)) throw new Error(`no such file: ${file}`);
      const r = await startFineTune({
        file,
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
