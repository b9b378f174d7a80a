// A fake OpenAI-compatible server on 127.0.0.1 (real HTTP, node:http, random port) for tests,
// the bench and offline demos. It answers POST /v1/chat/completions and /v1/completions from a
// cassette or from a rule (a function of the request), and injects faults by rate or by
// schedule: 429 with Retry-After, 500, slow answers, truncated or cut-off bodies, bodies that are
// not a completion, empty content and finish_reason 'length'. It can enforce a real
// requests-per-minute limit (a token bucket over served requests). It counts every request, in
// total and per request key, so tests can prove nothing was bought twice. It also serves
// /v1/files and /v1/fine_tuning/jobs for `caco finetune`.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Cassette } from '../../lib/llm/cassette.ts';
import { canonicalJson, httpBody } from '../../lib/llm/request.ts';
import { createHash } from 'node:crypto';
import { mulberry32 } from '../../lib/util/random.ts';

export type FaultKind = 'ok' | '429' | '500' | 'slow' | 'truncate' | 'reset' | 'garbage' | 'empty' | 'length';

export interface FakeRequest {
  path: '/v1/chat/completions' | '/v1/completions';
  body: Record<string, any>;
  /** sha256 of the canonical body: equal requests have equal keys. */
  key: string;
  /** 0-based arrival index over all completion requests. */
  index: number;
}

export interface FakeReply {
  content: string;
  finishReason?: string;
  model?: string;
  promptTokens?: number;
  completionTokens?: number;
}

export interface FaultOptions {
  /** Probability of each fault per request (drawn from a seeded PRNG). */
  rates?: Partial<Record<Exclude<FaultKind, 'ok'>, number>>;
  /** A fault for a given request (wins over rates); return undefined to fall back to rates. */
  schedule?: (req: FakeRequest) => FaultKind | undefined;
  /** Retry-After on injected 429s and 500s: seconds (header retry-after)... */
  retryAfterSeconds?: number;
  /** ...or milliseconds (header retry-after-ms), which wins when both are set. */
  retryAfterMs?: number;
  /** Extra latency of a 'slow' answer (default 10 s, longer than a test's client timeout). */
  slowMs?: number;
}

export interface FakeServerOptions {
  /** Serve recorded responses (matched by HTTP body; a miss is a 404 naming the key). */
  cassette?: Cassette | string;
  /** Answer by rule; a string is the content. Used when there is no cassette (or it misses and `fallbackToRule`). */
  respond?: (req: FakeRequest) => FakeReply | string | Promise<FakeReply | string>;
  /** Latency of every served answer, ms (or a function of the request). */
  latencyMs?: number | ((req: FakeRequest) => number);
  faults?: FaultOptions;
  /** A real limit on served requests per minute; excess gets 429 with retry-after-ms. */
  rateLimit?: { rpm: number; burst?: number };
  /** When set, requests without `Authorization: Bearer <apiKey>` get 401. */
  apiKey?: string;
  /** When set, other models get 404. */
  models?: string[];
  seed?: number;
  /** Listen on this port (default: a free one). The demo recorder uses a fixed port, since a
   * cassette's request keys include the base URL. */
  port?: number;
}

export interface FakeStats {
  /** Completion requests received (every attempt). */
  total: number;
  /** Completion requests answered 200 with a completion (including empty/length ones). */
  served: number;
  /** Attempts per request key (retries included). */
  byKey: Map<string, number>;
  /** Completions served per request key: above 1 means the same answer was bought twice. */
  servedByKey: Map<string, number>;
  byOutcome: Record<string, number>;
  maxConcurrent: number;
  /** Arrival times (ms since start) of served requests. */
  servedAt: number[];
}

export interface FakeFile {
  id: string;
  filename: string;
  purpose: string;
  bytes: number;
  content: string;
}

export interface FakeJob {
  id: string;
  model: string;
  training_file: string;
  status: 'validating_files' | 'queued' | 'running' | 'succeeded' | 'failed';
  fine_tuned_model: string | null;
  hyperparameters: Record<string, unknown>;
  suffix: string | null;
  created_at: number;
  polls: number;
}

export interface FakeServer {
  /** Base URL with the version path: `http://127.0.0.1:<port>/v1`. */
  baseURL: string;
  port: number;
  stats: FakeStats;
  files: Map<string, FakeFile>;
  jobs: Map<string, FakeJob>;
  /** Replaces the fault settings (e.g. end an outage mid-test). */
  setFaults(faults: FaultOptions | undefined): void;
  /** Request keys served (200 with a completion) more than once: answers bought twice. */
  repeatedKeys(): string[];
  close(): Promise<void>;
}

/** The key the fake server gives a request (also valid for a cassette entry via httpBody). */
export function fakeRequestKey(path: string, body: unknown): string {
  return createHash('sha256').update(path + '\n' + canonicalJson(body)).digest('hex');
}

// Unref'd so a closed server's pending slow answers never hold the process open.
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms).unref());

function defaultRule(req: FakeRequest): string {
  if (req.path === '/v1/completions') return `echo: ${String(req.body.prompt ?? '')}`;
  const msgs = (req.body.messages ?? []) as { content: string }[];
  return `echo: ${msgs.length ? msgs[msgs.length - 1].content : ''}`;
}

export async function startFakeServer(options: FakeServerOptions = {}): Promise<FakeServer> {
  const cassette = typeof options.cassette === 'string' ? new Cassette(options.cassette) : options.cassette;
  const recorded = new Map<string, FakeReply>();
  if (cassette) {
    for (const e of cassette.all()) {
      const path = e.request.api === 'chat' ? '/v1/chat/completions' : '/v1/completions';
      recorded.set(fakeRequestKey(path, httpBody(e.request)), {
        content: e.response.content,
        finishReason: e.response.finishReason,
        model: e.response.model,
        promptTokens: e.response.usage.promptTokens,
        completionTokens: e.response.usage.completionTokens,
      });
    }
  }
  let faults = options.faults;
  const random = mulberry32(options.seed ?? 1);
  const stats: FakeStats = { total: 0, served: 0, byKey: new Map(), servedByKey: new Map(), byOutcome: {}, maxConcurrent: 0, servedAt: [] };
  const files = new Map<string, FakeFile>();
  const jobs = new Map<string, FakeJob>();
  const t0 = performance.now();
  let concurrent = 0;
  let ids = 0;

  // The server's own limit, over served requests only (injected faults do not use quota).
  const limit = options.rateLimit;
  const burst = limit ? (limit.burst ?? Math.max(1, limit.rpm / 60)) : 0;
  let tokens = burst;
  let lastRefill = performance.now();
  const tryTake = (): number => {
    const now = performance.now();
    tokens = Math.min(burst, tokens + ((now - lastRefill) * limit!.rpm) / 60_000);
    lastRefill = now;
    if (tokens >= 1) {
      tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - tokens) * 60_000) / limit!.rpm);
  };

  const outcome = (k: string) => (stats.byOutcome[k] = (stats.byOutcome[k] ?? 0) + 1);
  const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
    res.end(text);
  };
  const apiError = (res: ServerResponse, status: number, message: string, type: string, headers: Record<string, string> = {}) =>
    json(res, status, { error: { message, type, param: null, code: null } }, headers);
  const retryHeaders = (): Record<string, string> => {
    if (faults?.retryAfterMs !== undefined) return { 'retry-after-ms': String(faults.retryAfterMs) };
    if (faults?.retryAfterSeconds !== undefined) return { 'retry-after': String(faults.retryAfterSeconds) };
    return {};
  };

  function pickFault(req: FakeRequest): FaultKind {
    const scheduled = faults?.schedule?.(req);
    if (scheduled) return scheduled;
    const r = random();
    let acc = 0;
    for (const [kind, p] of Object.entries(faults?.rates ?? {})) {
      acc += p ?? 0;
      if (r < acc) return kind as FaultKind;
    }
    return 'ok';
  }

  async function completion(path: FakeRequest['path'], raw: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body: Record<string, any>;
    try {
      body = JSON.parse(raw);
    } catch {
      return apiError(res, 400, 'request body is not JSON', 'invalid_request_error');
    }
    const key = fakeRequestKey(path, body);
    const freq: FakeRequest = { path, body, key, index: stats.total };
    stats.total++;
    stats.byKey.set(key, (stats.byKey.get(key) ?? 0) + 1);
    if (options.apiKey && req.headers.authorization !== `Bearer ${options.apiKey}`) {
      outcome('401');
      return apiError(res, 401, 'Incorrect API key provided', 'invalid_request_error');
    }
    if (typeof body.model !== 'string') return apiError(res, 400, 'you must provide a model parameter', 'invalid_request_error');
    if (options.models && !options.models.includes(body.model)) {
      outcome('404');
      return apiError(res, 404, `The model \`${body.model}\` does not exist`, 'invalid_request_error');
    }
    if (path === '/v1/chat/completions' && !Array.isArray(body.messages)) {
      outcome('400');
      return apiError(res, 400, "'messages' is a required property", 'invalid_request_error');
    }
    const fault = pickFault(freq);
    if (fault === '429') {
      outcome('429');
      return apiError(res, 429, 'Rate limit reached (injected)', 'requests', retryHeaders());
    }
    if (fault === '500') {
      outcome('500');
      return apiError(res, 500, 'The server had an error (injected)', 'server_error', retryHeaders());
    }
    if (limit) {
      const wait = tryTake();
      if (wait > 0) {
        outcome('429_limit');
        return apiError(res, 429, `Rate limit of ${limit.rpm} requests per minute reached`, 'requests', { 'retry-after-ms': String(wait) });
      }
    }
    // In flight until answered or until the client hangs up (a timed-out client is gone).
    concurrent++;
    stats.maxConcurrent = Math.max(stats.maxConcurrent, concurrent);
    let counted = true;
    const done = () => {
      if (counted) concurrent--;
      counted = false;
    };
    res.on('close', done);
    try {
      const latency = typeof options.latencyMs === 'function' ? options.latencyMs(freq) : (options.latencyMs ?? 0);
      await sleep(fault === 'slow' ? latency + (faults?.slowMs ?? 10_000) : latency);
      if (res.destroyed) {
        outcome('client_gone');
        return;
      }
      let reply: FakeReply;
      const rec = recorded.get(key);
      if (cassette && !options.respond) {
        if (!rec) {
          outcome('cassette_miss');
          return apiError(res, 404, `no recorded response for request key ${key.slice(0, 12)}`, 'cassette_miss');
        }
        reply = rec;
      } else {
        const r = rec ?? (await (options.respond ?? defaultRule)(freq));
        reply = typeof r === 'string' ? { content: r } : r;
      }
      let content = reply.content;
      let finish = reply.finishReason ?? 'stop';
      if (fault === 'empty') content = '';
      if (fault === 'length') {
        content = content.slice(0, Math.floor(content.length / 2));
        finish = 'length';
      }
      const promptText = path === '/v1/chat/completions' ? body.messages.map((m: { content: string }) => m.content).join('\n') : String(body.prompt ?? '');
      const usage = {
        prompt_tokens: reply.promptTokens ?? Math.ceil(promptText.length / 4),
        completion_tokens: reply.completionTokens ?? Math.ceil(content.length / 4),
        total_tokens: 0,
      };
      usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
      const id = `fake-${++ids}`;
      const created = Math.floor(Date.now() / 1000);
      const model = reply.model ?? body.model;
      const payload =
        path === '/v1/chat/completions'
          ? { id, object: 'chat.completion', created, model, choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, finish_reason: finish, logprobs: null }], usage }
          : { id, object: 'text_completion', created, model, choices: [{ index: 0, text: content, finish_reason: finish, logprobs: null }], usage };
      if (fault === 'garbage') {
        outcome('garbage');
        return json(res, 200, { id, object: 'error', detail: 'upstream returned nothing' });
      }
      const text = JSON.stringify(payload);
      if (fault === 'truncate') {
        // A complete HTTP response whose JSON stops halfway.
        outcome('truncate');
        const cut = text.slice(0, Math.floor(text.length / 2));
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(cut) });
        res.end(cut);
        return;
      }
      if (fault === 'reset') {
        // Promises the whole body, sends half and drops the connection.
        outcome('reset');
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
        res.write(text.slice(0, Math.floor(text.length / 2)));
        setTimeout(() => res.destroy(), 5);
        return;
      }
      stats.served++;
      stats.servedByKey.set(key, (stats.servedByKey.get(key) ?? 0) + 1);
      stats.servedAt.push(performance.now() - t0);
      outcome(fault === 'ok' || fault === 'slow' ? 'ok' : fault);
      json(res, 200, payload);
    } finally {
      done();
    }
  }

  async function uploadFile(req: IncomingMessage, raw: Buffer, res: ServerResponse): Promise<void> {
    const form = await new Request('http://fake/v1/files', {
      method: 'POST',
      headers: { 'content-type': String(req.headers['content-type'] ?? '') },
      body: new Uint8Array(raw),
    }).formData();
    const file = form.get('file');
    const purpose = String(form.get('purpose') ?? '');
    if (!file || typeof file === 'string') return apiError(res, 400, "'file' is a required multipart field", 'invalid_request_error');
    if (!purpose) return apiError(res, 400, "'purpose' is required", 'invalid_request_error');
    const content = await file.text();
    const f: FakeFile = { id: `file-${++ids}`, filename: (file as File).name, purpose, bytes: Buffer.byteLength(content), content };
    files.set(f.id, f);
    json(res, 200, { id: f.id, object: 'file', bytes: f.bytes, created_at: Math.floor(Date.now() / 1000), filename: f.filename, purpose, status: 'processed' });
  }

  /** Validates a chat fine-tuning file the way the real API does (each line a messages object). */
  function validateTrainingFile(content: string): string | null {
    const lines = content.split('\n').filter((l) => l.trim());
    if (lines.length === 0) return 'training file is empty';
    for (let i = 0; i < lines.length; i++) {
      try {
        const o = JSON.parse(lines[i]);
        if (!Array.isArray(o.messages) || !o.messages.some((m: { role?: string }) => m.role === 'assistant')) {
          return `line ${i + 1}: expected {"messages": [...]} with an assistant message`;
        }
      } catch {
        return `line ${i + 1}: not JSON`;
      }
    }
    return null;
  }

  const jobView = (j: FakeJob) => ({
    id: j.id,
    object: 'fine_tuning.job',
    model: j.model,
    created_at: j.created_at,
    finished_at: j.status === 'succeeded' ? j.created_at + 60 : null,
    fine_tuned_model: j.fine_tuned_model,
    organization_id: 'org-fake',
    result_files: [],
    status: j.status,
    validation_file: null,
    training_file: j.training_file,
    hyperparameters: j.hyperparameters,
    trained_tokens: null,
    error: null,
    seed: 0,
    suffix: j.suffix,
  });

  function createJob(raw: string, res: ServerResponse): void {
    let body: Record<string, any>;
    try {
      body = JSON.parse(raw);
    } catch {
      return apiError(res, 400, 'request body is not JSON', 'invalid_request_error');
    }
    const file = files.get(body.training_file);
    if (!file) return apiError(res, 404, `file ${body.training_file} not found`, 'invalid_request_error');
    if (typeof body.model !== 'string') return apiError(res, 400, 'model is required', 'invalid_request_error');
    const bad = validateTrainingFile(file.content);
    if (bad) return apiError(res, 400, `invalid training file: ${bad}`, 'invalid_request_error');
    const job: FakeJob = {
      id: `ftjob-${++ids}`,
      model: body.model,
      training_file: file.id,
      status: 'queued',
      fine_tuned_model: null,
      hyperparameters: body.hyperparameters ?? {},
      suffix: body.suffix ?? null,
      created_at: Math.floor(Date.now() / 1000),
      polls: 0,
    };
    jobs.set(job.id, job);
    json(res, 200, jobView(job));
  }

  function retrieveJob(id: string, res: ServerResponse): void {
    const job = jobs.get(id);
    if (!job) return apiError(res, 404, `fine-tuning job ${id} not found`, 'invalid_request_error');
    // Each poll moves the job on: queued -> running -> succeeded.
    job.polls++;
    if (job.status === 'queued') job.status = 'running';
    else if (job.status === 'running') {
      job.status = 'succeeded';
      job.fine_tuned_model = `ft:${job.model}:${job.suffix ?? 'caco'}:${job.id}`;
    }
    json(res, 200, jobView(job));
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const url = new URL(req.url ?? '/', 'http://fake');
      const path = url.pathname.replace(/\/+$/, '');
      const run = async () => {
        if (req.method === 'POST' && (path === '/v1/chat/completions' || path === '/v1/completions')) return completion(path, raw.toString('utf8'), req, res);
        if (req.method === 'POST' && path === '/v1/files') return uploadFile(req, raw, res);
        if (req.method === 'POST' && path === '/v1/fine_tuning/jobs') return createJob(raw.toString('utf8'), res);
        const m = /^\/v1\/fine_tuning\/jobs\/([^/]+)$/.exec(path);
        if (req.method === 'GET' && m) return retrieveJob(m[1], res);
        apiError(res, 404, `no route ${req.method} ${path}`, 'invalid_request_error');
      };
      run().catch((err) => {
        if (!res.headersSent) apiError(res, 500, `fake server error: ${(err as Error).message}`, 'server_error');
        else res.destroy();
      });
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    port,
    stats,
    files,
    jobs,
    setFaults(f) {
      faults = f;
    },
    repeatedKeys() {
      return [...stats.servedByKey.entries()].filter(([, n]) => n > 1).map(([k]) => k);
    },
    close() {
      return new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}
