// Batch mode offline: a BatchProvider that answers every line from the run's cassette (custom_id
// is the request key, the cassette's key too). A batch is `in_progress` when created and
// `completed` at its first retrieve, so a replayed run goes through the same rounds, polls and
// result files as a live one. A request missing from the cassette is an error at creation, as an
// interactive replay's miss is. Batches live in this process: after a restart an unknown batch id
// reads as expired, and its requests are simply submitted again (all answers are in the cassette).
import { createHash } from 'node:crypto';
import { CassetteMissError, type Cassette } from '../cassette.ts';
import type { BatchEndpoint } from './lines.ts';
import type { BatchInfo, BatchProvider } from './provider.ts';

interface Held {
  info: BatchInfo;
  output: string;
}

export class CassetteBatchProvider implements BatchProvider {
  private readonly batches = new Map<string, Held>();
  private readonly files = new Map<string, string>();
  private n = 0;

  constructor(private readonly cassette: Cassette) {}

  async create(jsonl: string, endpoint: BatchEndpoint, metadata: Record<string, string>): Promise<BatchInfo> {
    const out: string[] = [];
    for (const text of jsonl.split('\n')) {
      if (!text.trim()) continue;
      const line = JSON.parse(text) as { custom_id: string };
      const e = this.cassette.get(line.custom_id);
      if (!e) {
        throw new CassetteMissError(metadata.caco_stage ?? 'batch', line.custom_id, 'a batch request is not in the cassette (record it first with mode "record")');
      }
      const r = e.response;
      const choice =
        endpoint === '/v1/chat/completions'
          ? { index: 0, message: { role: 'assistant', content: r.content, refusal: r.refusal ?? null }, finish_reason: r.finishReason }
          : { index: 0, text: r.content, finish_reason: r.finishReason };
      const body = { id: `cassette-${e.key.slice(0, 12)}`, model: r.model, choices: [choice], usage: { prompt_tokens: r.usage.promptTokens, completion_tokens: r.usage.completionTokens } };
      out.push(JSON.stringify({ id: `line-${out.length}`, custom_id: line.custom_id, response: { status_code: 200, request_id: 'cassette', body }, error: null }));
    }
    const id = `batch_cassette_${++this.n}_${createHash('sha256').update(jsonl).digest('hex').slice(0, 8)}`;
    const info: BatchInfo = {
      id,
      status: 'in_progress',
      createdAt: Math.floor(Date.now() / 1000),
      counts: { total: out.length, completed: 0, failed: 0 },
      outputFileId: null,
      errorFileId: null,
      errors: null,
      metadata,
    };
    this.batches.set(id, { info, output: out.join('\n') + '\n' });
    return { ...info };
  }

  async retrieve(id: string): Promise<BatchInfo> {
    const held = this.batches.get(id);
    if (!held) {
      return { id, status: 'expired', createdAt: 0, counts: { total: 0, completed: 0, failed: 0 }, outputFileId: null, errorFileId: null, errors: null, metadata: {} };
    }
    if (held.info.status === 'in_progress') {
      const fileId = `${id}_output`;
      this.files.set(fileId, held.output);
      held.info = { ...held.info, status: 'completed', outputFileId: fileId, counts: { ...held.info.counts, completed: held.info.counts.total } };
    }
    return { ...held.info };
  }

  async find(metadata: Record<string, string>): Promise<BatchInfo | null> {
    for (const { info } of this.batches.values()) {
      if (Object.entries(metadata).every(([k, v]) => info.metadata[k] === v)) return { ...info };
    }
    return null;
  }

  async fileText(fileId: string): Promise<string> {
    const t = this.files.get(fileId);
    if (t === undefined) throw new Error(`no such cassette batch file ${fileId}`);
    return t;
  }
}
