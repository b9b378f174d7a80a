// Upload a CodeGen training file and start a fine-tuning job through the OpenAI files and
// fine-tuning API (OpenAI itself, or any server that implements those endpoints).
import OpenAI, { toFile } from 'openai';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

export interface FineTuneOptions {
  /** Chat JSONL from exportCodegen (its name is the upload's name). */
  file: string;
  /** The file's chat JSONL when already read (the dataset's codegen config, from Parquet). */
  text?: string;
  /** The base model to fine-tune (the paper: Qwen2.5-Coder-7B). */
  model: string;
  baseURL?: string;
  apiKeyEnv?: string;
  suffix?: string;
  /** The paper trained one epoch. */
  epochs?: number;
  learningRateMultiplier?: number;
  /** Poll until the job ends (succeeded, failed or cancelled). */
  wait?: boolean;
  pollMs?: number;
  env?: Record<string, string | undefined>;
  onStatus?: (status: string) => void;
}

export interface FineTuneResult {
  fileId: string;
  jobId: string;
  status: string;
  fineTunedModel: string | null;
  examples: number;
}

/** Checks the file the way the API will, before paying for an upload. Returns the line count. */
export function validateChatJsonl(text: string, path = 'file'): number {
  const lines = text.split('\n').filter((l) => l.trim());
  if (lines.length === 0) throw new Error(`${path} is empty: export verified Code CoTs first`);
  lines.forEach((line, i) => {
    let o: { messages?: { role?: string; content?: unknown }[] };
    try {
      o = JSON.parse(line);
    } catch {
      throw new Error(`${path} line ${i + 1} is not JSON`);
    }
    if (!Array.isArray(o.messages) || !o.messages.some((m) => m.role === 'assistant' && typeof m.content === 'string')) {
      throw new Error(`${path} line ${i + 1} is not a chat example ({"messages":[...]} with an assistant message); is this a Code CoT file? export it with exportCodegen first`);
    }
  });
  return lines.length;
}

export async function startFineTune(o: FineTuneOptions): Promise<FineTuneResult> {
  const text = o.text ?? readFileSync(o.file, 'utf8');
  const examples = validateChatJsonl(text, o.file);
  const env = o.env ?? process.env;
  const keyVar = o.apiKeyEnv ?? 'OPENAI_API_KEY';
  const apiKey = env[keyVar] ?? (o.baseURL && /\/\/(127\.|localhost)/.test(o.baseURL) ? 'none' : undefined);
  if (!apiKey) throw new Error(`environment variable ${keyVar} is not set; it must hold the API key`);
  const sdk = new OpenAI({ apiKey, baseURL: o.baseURL, maxRetries: 2 });
  const uploaded = await sdk.files.create({ file: await toFile(Buffer.from(text), basename(o.file).replace(/\.parquet$/, '.jsonl')), purpose: 'fine-tune' });
  const hyperparameters: { n_epochs: number; learning_rate_multiplier?: number } = { n_epochs: o.epochs ?? 1 };
  if (o.learningRateMultiplier !== undefined) hyperparameters.learning_rate_multiplier = o.learningRateMultiplier;
  let job = await sdk.fineTuning.jobs.create({
    training_file: uploaded.id,
    model: o.model,
    suffix: o.suffix,
    method: { type: 'supervised', supervised: { hyperparameters } },
  });
  o.onStatus?.(job.status);
  while (o.wait && !['succeeded', 'failed', 'cancelled'].includes(job.status)) {
    await new Promise((r) => setTimeout(r, o.pollMs ?? 30_000));
    job = await sdk.fineTuning.jobs.retrieve(job.id);
    o.onStatus?.(job.status);
  }
  return { fileId: uploaded.id, jobId: job.id, status: job.status, fineTunedModel: job.fine_tuned_model ?? null, examples };
}
