// Batch mode offline: a BatchProvider that answers every line from the run's cassette (custom_id
// is the request key, the cassette's key too). The answers are written at creation to a blob of
// the run (`runs/<id>/llm-batch/cassette/<hash>.jsonl`) and the batch id names that blob, so any
// process (a poller Lambda without the cassette, a resumed `caco run`) can read the batch: it is
// `completed` once the blob exists. The same requests give the same id and blob, so creating one
// twice is harmless (`find` needs no listing). A request missing from the cassette is an error at
// creation, as an interactive replay's miss is.
import { createHash } from 'node:crypto';
import { CassetteMissError, type Cassette } from '../cassette.ts';
import type { BlobStore } from '../../store/ports.ts';
import type { BatchEndpoint } from './lines.ts';
import type { BatchInfo, BatchProvider } from './provider.ts';

const PREFIX = 'cassette~';
export const isCassetteBatchId = (id: string): boolean => id.startsWith(PREFIX);
const blobOf = (id: string) => {
  const [, runId, hash] = id.split('~');
  if (!runId || !hash) throw new Error(`not a cassette batch id: ${id}`);
  return `runs/${runId}/llm-batch/cassette/${hash}.jsonl`;
};

export class CassetteBatchProvider implements BatchProvider {
  constructor(
    private readonly blobs: BlobStore,
    /** The run's cassette (only needed to create batches). */
    private readonly cassetteOf: (runId: string) => Promise<Cassette | null>,
  ) {}

  async create(jsonl: string, endpoint: BatchEndpoint, metadata: Record<string, string>): Promise<BatchInfo> {
    const runId = metadata.caco_run;
    const cassette = runId ? await this.cassetteOf(runId) : null;
    if (!cassette) throw new Error(`no cassette to replay batch requests of run ${runId}`);
    const out: string[] = [];
    for (const text of jsonl.split('\n')) {
      if (!text.trim()) continue;
      const line = JSON.parse(text) as { custom_id: string };
      const e = cassette.get(line.custom_id);
      if (!e) throw new CassetteMissError(metadata.caco_stage ?? 'batch', line.custom_id, 'a batch request is not in the cassette (record it first with mode "record")');
      const r = e.response;
      const choice =
        endpoint === '/v1/chat/completions'
          ? { index: 0, message: { role: 'assistant', content: r.content, refusal: r.refusal ?? null }, finish_reason: r.finishReason }
          : { index: 0, text: r.content, finish_reason: r.finishReason };
      const body = { id: `cassette-${e.key.slice(0, 12)}`, model: r.model, choices: [choice], usage: { prompt_tokens: r.usage.promptTokens, completion_tokens: r.usage.completionTokens } };
      out.push(JSON.stringify({ id: `line-${out.length}`, custom_id: line.custom_id, response: { status_code: 200, request_id: 'cassette', body }, error: null }));
    }
    const id = `${PREFIX}${runId}~${createHash('sha256').update(jsonl).digest('hex').slice(0, 16)}`;
    await this.blobs.put(blobOf(id), out.join('\n') + '\n');
    return { id, status: 'in_progress', createdAt: Math.floor(Date.now() / 1000), counts: { total: out.length, completed: 0, failed: 0 }, outputFileId: null, errorFileId: null, errors: null, metadata };
  }

  async retrieve(id: string): Promise<BatchInfo> {
    const body = await this.blobs.get(blobOf(id));
    const n = body ? body.toString('utf8').split('\n').filter(Boolean).length : 0;
    return {
      id,
      status: body ? 'completed' : 'expired',
      createdAt: Math.floor(Date.now() / 1000),
      counts: { total: n, completed: n, failed: 0 },
      outputFileId: body ? id : null,
      errorFileId: null,
      errors: null,
      metadata: {},
    };
  }

  /** Never needed: creating the same batch again gives the same id and blob. */
  async find(): Promise<BatchInfo | null> {
    return null;
  }

  async fileText(fileId: string): Promise<string> {
    const body = await this.blobs.get(blobOf(fileId));
    if (!body) throw new Error(`cassette batch ${fileId} has no output`);
    return body.toString('utf8');
  }
}
