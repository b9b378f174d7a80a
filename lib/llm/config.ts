// The per-stage LLM endpoint settings, from the run config. The API key is never stored here:
// `apiKeyEnv` names the environment variable that holds it (Secrets Manager fills it on AWS).
import { z } from 'zod';

export const LlmEndpointConfigSchema = z
  .object({
    /** OpenAI-compatible base URL including the version path, e.g. https://api.openai.com/v1. */
    baseURL: z.string().url('baseURL must be a URL such as http://127.0.0.1:8000/v1'),
    model: z.string().min(1, 'model must be a non-empty string'),
    /** Name of the environment variable holding the API key (the key itself is never in config). */
    apiKeyEnv: z.string().min(1).default('OPENAI_API_KEY'),
    api: z.enum(['chat', 'completions']).default('chat'),
    temperature: z.number().min(0).max(2).optional(),
    top_p: z.number().gt(0).max(1).optional(),
    max_tokens: z.number().int().positive().default(1024),
    /** Samples per prompt: one request per sample index (each cached on its own). */
    n: z.number().int().positive().default(1),
    /** When set, request i of a prompt is sent with `seed: seed + i` (vLLM honours it). */
    seed: z.number().int().optional(),
    stop: z.array(z.string()).max(4).optional(),
    timeoutMs: z.number().int().positive().default(120_000),
    concurrency: z.number().int().positive().default(8),
    /** Requests per minute (0 = unlimited). */
    rpm: z.number().nonnegative().default(0),
    /** Tokens per minute, prompt + max_tokens estimated up front, corrected by usage (0 = unlimited). */
    tpm: z.number().nonnegative().default(0),
    /** Retries of transient failures (429, 5xx, timeouts, broken bodies) per request. */
    maxRetries: z.number().int().nonnegative().default(6),
    /**
     * US dollars per million tokens. Unset means unknown: costs are then printed as unknown, never
     * as $0 (a free local server says `{inputPerMTok: 0, outputPerMTok: 0}`). `batchFactor`: the
     * Batch API's price as a share of it (OpenAI: half).
     */
    price: z
      .object({
        inputPerMTok: z.number().nonnegative().default(0),
        outputPerMTok: z.number().nonnegative().default(0),
        batchFactor: z.number().gt(0).max(1).default(0.5),
      })
      .strict()
      .optional(),
    /**
     * Batch mode: this role's requests go through the provider's Batch API (a file per shard and
     * round, 24 h window, results by custom_id) at the batch price; nothing waits while it works.
     */
    batch: z.boolean().default(false),
    /**
     * Batch mode: most tokens (prompt estimate + max_tokens) this endpoint's model may have in open
     * batches at once, the provider's enqueued-token limit (0: none). Batches wait for room.
     */
    batchQueueTokens: z.number().int().nonnegative().default(0),
  })
  .strict();

export type LlmEndpointConfig = z.infer<typeof LlmEndpointConfigSchema>;
export type LlmEndpointConfigInput = z.input<typeof LlmEndpointConfigSchema>;
