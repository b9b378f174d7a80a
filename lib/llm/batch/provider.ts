// The Batch API as the pipeline needs it, over any OpenAI-compatible provider: create a batch from
// an input file, read its status, find a batch by the metadata we gave it (recovery after a crash
// between creating a batch and recording its id), and read output and error files. The real one
// goes through the `openai` SDK; the cassette provider (cassette-provider.ts) replays offline.
import OpenAI from 'openai';
import { backoffMs, classifyError } from '../errors.ts';
import type { BatchEndpoint } from './lines.ts';

export type BatchStatus = 'validating' | 'failed' | 'in_progress' | 'finalizing' | 'completed' | 'expired' | 'cancelling' | 'cancelled';
const TERMINAL: ReadonlySet<string> = new Set(['failed', 'completed', 'expired', 'cancelled']);
export const isTerminal = (s: string): boolean => TERMINAL.has(s);

export interface BatchInfo {
  id: string;
  status: BatchStatus;
  /** Unix seconds. */
  createdAt: number;
  counts: { total: number; completed: number; failed: number };
  outputFileId: string | null;
  errorFileId: string | null;
  /** Why a whole batch failed (validation errors), one line. */
  errors: string | null;
  metadata: Record<string, string>;
}

export interface BatchProvider {
  /** Uploads `jsonl` (purpose "batch") and creates a batch over it with a 24 h window. */
  create(jsonl: string, endpoint: BatchEndpoint, metadata: Record<string, string>): Promise<BatchInfo>;
  retrieve(id: string): Promise<BatchInfo>;
  /** The batch created since `sinceSec` whose metadata includes every pair of `metadata`, if any. */
  find(metadata: Record<string, string>, sinceSec: number): Promise<BatchInfo | null>;
  fileText(fileId: string): Promise<string>;
}

type SdkBatch = OpenAI.Batches.Batch;

export function toInfo(b: SdkBatch): BatchInfo {
  return {
    id: b.id,
    status: b.status,
    createdAt: b.created_at,
    counts: { total: b.request_counts?.total ?? 0, completed: b.request_counts?.completed ?? 0, failed: b.request_counts?.failed ?? 0 },
    outputFileId: b.output_file_id ?? null,
    errorFileId: b.error_file_id ?? null,
    errors: b.errors?.data?.length ? b.errors.data.map((e) => `${e.code ?? 'error'}${e.line ? ` (line ${e.line})` : ''}: ${e.message ?? ''}`).slice(0, 5).join('; ') : null,
    metadata: (b.metadata ?? {}) as Record<string, string>,
  };
}

export interface OpenAiBatchOptions {
  baseURL: string;
  apiKey: string;
  /** Attempts per call on 429/5xx/connection errors (the files and batches endpoints have their own rate limits). */
  attempts?: number;
  backoffBaseMs?: number;
  timeoutMs?: number;
}

export class OpenAiBatchProvider implements BatchProvider {
  private readonly sdk: OpenAI;
  constructor(private readonly o: OpenAiBatchOptions) {
    this.sdk = new OpenAI({ apiKey: o.apiKey, baseURL: o.baseURL, maxRetries: 0, timeout: o.timeoutMs ?? 120_000 });
  }

  /** Our retry loop: 429 (honouring Retry-After), 5xx and connection errors; 4xx fail at once. */
  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    const attempts = this.o.attempts ?? 6;
    for (let a = 0; ; a++) {
      try {
        return await fn();
      } catch (err) {
        const f = classifyError(err);
        if (f.kind === 'fatal' || a + 1 >= attempts) throw new Error(`batch API ${what} at ${this.o.baseURL} failed: ${f.message}`);
        const retryAfter = f.kind === 'rate_limited' || f.kind === 'server' ? f.retryAfterMs : null;
        await new Promise((r) => setTimeout(r, backoffMs(a, retryAfter, this.o.backoffBaseMs ?? 1000)));
      }
    }
  }

  async create(jsonl: string, endpoint: BatchEndpoint, metadata: Record<string, string>): Promise<BatchInfo> {
    const file = await this.call('files.create', () =>
      this.sdk.files.create({ file: new File([jsonl], 'caco-batch.jsonl', { type: 'application/jsonl' }), purpose: 'batch' }),
    );
    const b = await this.call('batches.create', () => this.sdk.batches.create({ input_file_id: file.id, endpoint, completion_window: '24h', metadata }));
    return toInfo(b);
  }

  async retrieve(id: string): Promise<BatchInfo> {
    return toInfo(await this.call('batches.retrieve', () => this.sdk.batches.retrieve(id)));
  }

  async find(metadata: Record<string, string>, sinceSec: number): Promise<BatchInfo | null> {
    // Newest first; stop paging once batches are older than the claim (a minute of clock skew allowed).
    let page = await this.call('batches.list', () => this.sdk.batches.list({ limit: 100 }));
    for (;;) {
      for (const b of page.data) {
        if (b.created_at < sinceSec - 60) return null;
        const m = (b.metadata ?? {}) as Record<string, string>;
        if (Object.entries(metadata).every(([k, v]) => m[k] === v)) return toInfo(b);
      }
      if (!page.hasNextPage()) return null;
      const current = page;
      page = await this.call('batches.list', () => current.getNextPage());
    }
  }

  async fileText(fileId: string): Promise<string> {
    const res = await this.call('files.content', () => this.sdk.files.content(fileId));
    return res.text();
  }
}
