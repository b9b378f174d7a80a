// A fake OpenAI-compatible server on 127.0.0.1 (real HTTP, node:http, random port) for tests,
// the bench and offline demos. It answers POST /v1/chat/completions and /v1/completions from a
// cassette or from a rule (a function of the request), and injects faults by rate or by
// schedule: 429 with Retry-After, 500, slow answers, truncated or cut-off bodies, bodies that are
// not a completion, empty content and finish_reason 'length'. It can enforce a real
// requests-per-minute limit (a token bucket over served requests). It counts every request, in
// total and per request key, so tests can prove nothing was bought twice. It also serves
// /v1/files and /v1/fine_tuning/jobs for `caco finetune`, and the Batch API as the openai SDK
// calls it (files.create purpose "batch", batches.create/retrieve/list/cancel, files.content):
// a batch moves validating -> in_progress -> finalizing -> completed one step per retrieve (or
// ends failed, expired with partial output, cancelling -> cancelled), answers its lines with the
// same rule or cassette as the live endpoints, and can fail single lines (see `batch`).
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

/** One line of a batch input file as the fake server sees it. */
export interface FakeBatchLine {
  custom_id: string;
  url: string;
  body: Record<string, any>;
  /** 0-based line number in the input file. */
  line: number;
}

/** What happens to a batch (decided when it is created). */
export interface FakeBatchPlan {
  /** How the batch ends (default 'completed'). 'expired': only `finishBeforeEnd` lines get answers. */
  outcome?: 'completed' | 'failed' | 'expired';
  /** Retrieves per status step (default 1): validating -> in_progress -> finalizing -> end. */
  pollsPerStep?: number;
  /** Lines answered before an expiry (default half). */
  finishBeforeEnd?: number;
  /** A failed line: an HTTP error as the endpoint would give it, or a non-HTTP error ({code, message}). */
  lineError?: (line: FakeBatchLine) => { status: number; message: string } | { code: string; message: string } | undefined;
}

export interface FakeBatch {
  id: string;
  status: 'validating' | 'failed' | 'in_progress' | 'finalizing' | 'completed' | 'expired' | 'cancelling' | 'cancelled';
  endpoint: string;
  input_file_id: string;
  completion_window: string;
  metadata: Record<string, string> | null;
  created_at: number;
  output_file_id: string | null;
  error_file_id: string | null;
  errors: { object: 'list'; data: { code: string; message: string; line: number | null; param: string | null }[] } | null;
  request_counts: { total: number; completed: number; failed: number };
  polls: number;
  plan: FakeBatchPlan;
  /** Status times (unix seconds), as the real API reports them. */
  times: Record<string, number>;
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
  /** A provider-side quota shared by every client: `requests` per fixed window of `windowMs`
   * (windows start at server start). Every completion answer carries OpenAI's
   * x-ratelimit-remaining-requests / x-ratelimit-reset-requests; arrivals past the budget get 429
   * with retry-after-ms until the window ends (`enforce: false`: served anyway, to measure what
   * clients send; `headers: false`: a server that sends none). `stats.arrivalsPerWindow` counts every attempt.
   * `alignToEpoch`: windows are floor(Date.now() / windowMs) counted from the first arrival's
   * window (as lib/llm/global-limiter.ts cuts them) instead of starting at server start. */
  quota?: { requests: number; windowMs: number; enforce?: boolean; headers?: boolean; alignToEpoch?: boolean };
  /** When set, requests without `Authorization: Bearer <apiKey>` get 401. */
  apiKey?: string;
  /** When set, other models get 404. */
  models?: string[];
  seed?: number;
  /** The fate of each batch (default: completes, every line answered). */
  batch?: (info: { id: string; metadata: Record<string, string> | null; lines: number }) => FakeBatchPlan;
  /** The files and batches endpoints' own rate limit: the first `n` Batch API calls get 429 (retry-after-ms 20). */
  batchRateLimited?: number;
  /** Batch input limits (default the real API's: 50,000 requests, 200 MB). */
  batchLimits?: { maxRequests?: number; maxBytes?: number };
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
  /** With `quota`: completion attempts that reached the server, per window (index = window number). */
  arrivalsPerWindow: number[];
  /** With `quota`: tokens (prompt + completion) of the answers served, by their arrival's window. */
  tokensPerWindow: number[];
  /** Batch API calls by kind (create, retrieve, list, cancel, upload, content). */
  batchCalls: Record<string, number>;
  /** Batch lines answered per request key (the same key in two batches: bought twice). */
  batchServedByKey: Map<string, number>;
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
  batches: Map<string, FakeBatch>;
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
  const stats: FakeStats = {
    total: 0,
    served: 0,
    byKey: new Map(),
    servedByKey: new Map(),
    byOutcome: {},
    maxConcurrent: 0,
    servedAt: [],
    arrivalsPerWindow: [],
    tokensPerWindow: [],
    batchCalls: {},
    batchServedByKey: new Map(),
  };
  const files = new Map<string, FakeFile>();
  const jobs = new Map<string, FakeJob>();
  const batches = new Map<string, FakeBatch>();
  const batchCall = (k: string) => (stats.batchCalls[k] = (stats.batchCalls[k] ?? 0) + 1);
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

  const quota = options.quota;
  /** Counts an arrival against the quota; the headers to send, and whether it is over budget. */
  let epochBase: number | null = null;
  const quotaTake = (): { headers: Record<string, string>; over: boolean; resetMs: number; window: number } => {
    let elapsed = performance.now() - t0;
    if (quota!.alignToEpoch) {
      const now = Date.now();
      epochBase ??= Math.floor(now / quota!.windowMs) * quota!.windowMs;
      elapsed = now - epochBase;
    }
    const w = Math.floor(elapsed / quota!.windowMs);
    while (stats.arrivalsPerWindow.length <= w) stats.arrivalsPerWindow.push(0);
    while (stats.tokensPerWindow.length <= w) stats.tokensPerWindow.push(0);
    const used = ++stats.arrivalsPerWindow[w];
    const resetMs = Math.max(1, Math.ceil((w + 1) * quota!.windowMs - elapsed));
    return {
      headers: quota!.headers === false ? {} : {
        'x-ratelimit-limit-requests': String(quota!.requests),
        'x-ratelimit-remaining-requests': String(Math.max(0, quota!.requests - used)),
        'x-ratelimit-reset-requests': goDuration(resetMs),
      },
      over: quota!.enforce !== false && used > quota!.requests,
      resetMs,
      window: w,
    };
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

  /** The reply for a request: the cassette's, else the rule's; null on a cassette miss. */
  async function replyFor(freq: FakeRequest): Promise<FakeReply | null> {
    const rec = recorded.get(freq.key);
    if (cassette && !options.respond) return rec ?? null;
    const r = rec ?? (await (options.respond ?? defaultRule)(freq));
    return typeof r === 'string' ? { content: r } : r;
  }

  /** A completion body as the endpoint sends it (also the `body` of a batch output line). */
  function completionBody(path: string, body: Record<string, any>, reply: FakeReply, fault: FaultKind = 'ok') {
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
    return { id, payload };
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
    let quotaHeaders: Record<string, string> = {};
    let quotaWindow = -1;
    if (quota) {
      const q = quotaTake();
      quotaHeaders = q.headers;
      quotaWindow = q.window;
      if (q.over) {
        outcome('429_quota');
        return apiError(res, 429, `Rate limit of ${quota.requests} requests per ${quota.windowMs} ms reached`, 'requests', { ...q.headers, 'retry-after-ms': String(q.resetMs) });
      }
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
      const reply = await replyFor(freq);
      if (!reply) {
        outcome('cassette_miss');
        return apiError(res, 404, `no recorded response for request key ${key.slice(0, 12)}`, 'cassette_miss');
      }
      const { id, payload } = completionBody(path, body, reply, fault);
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
      if (quotaWindow >= 0) stats.tokensPerWindow[quotaWindow] += payload.usage.total_tokens;
      outcome(fault === 'ok' || fault === 'slow' ? 'ok' : fault);
      json(res, 200, payload, quotaHeaders);
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
    if (purpose === 'batch') batchCall('upload');
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


  // ---- Batch API --------------------------------------------------------------------------
  const BATCH_ENDPOINTS = new Set(['/v1/chat/completions', '/v1/completions']);
  const STEPS: FakeBatch['status'][] = ['validating', 'in_progress', 'finalizing'];
  const now = () => Math.floor(Date.now() / 1000);
  const batchView = (b: FakeBatch) => ({
    id: b.id,
    object: 'batch',
    endpoint: b.endpoint,
    model: null,
    errors: b.errors,
    input_file_id: b.input_file_id,
    completion_window: b.completion_window,
    status: b.status,
    output_file_id: b.output_file_id,
    error_file_id: b.error_file_id,
    created_at: b.created_at,
    in_progress_at: b.times.in_progress ?? null,
    expires_at: b.created_at + 24 * 3600,
    finalizing_at: b.times.finalizing ?? null,
    completed_at: b.times.completed ?? null,
    failed_at: b.times.failed ?? null,
    expired_at: b.times.expired ?? null,
    cancelling_at: b.times.cancelling ?? null,
    cancelled_at: b.times.cancelled ?? null,
    request_counts: b.request_counts,
    metadata: b.metadata,
  });

  /** The input file's lines, or the validation errors the real API reports (the batch then fails). */
  function parseBatchInput(content: string, endpoint: string): { lines: FakeBatchLine[]; errors: { code: string; message: string; line: number | null; param: string | null }[] } {
    const errors: { code: string; message: string; line: number | null; param: string | null }[] = [];
    const lines: FakeBatchLine[] = [];
    const maxRequests = options.batchLimits?.maxRequests ?? 50_000;
    const maxBytes = options.batchLimits?.maxBytes ?? 200 * 1024 * 1024;
    if (Buffer.byteLength(content) > maxBytes) errors.push({ code: 'file_too_large', message: `input file is larger than ${maxBytes} bytes`, line: null, param: null });
    const ids = new Set<string>();
    let model: string | null = null;
    content.split('\n').forEach((text, i) => {
      if (!text.trim()) return;
      let o: any;
      try {
        o = JSON.parse(text);
      } catch {
        errors.push({ code: 'invalid_json_line', message: 'This line is not parseable as valid JSON.', line: i + 1, param: null });
        return;
      }
      if (typeof o.custom_id !== 'string' || !o.custom_id) errors.push({ code: 'missing_required_parameter', message: 'custom_id is required', line: i + 1, param: 'custom_id' });
      else if (ids.has(o.custom_id)) errors.push({ code: 'duplicate_custom_id', message: `The custom_id ${o.custom_id} is duplicated`, line: i + 1, param: 'custom_id' });
      if (o.method !== 'POST') errors.push({ code: 'invalid_method', message: 'method must be POST', line: i + 1, param: 'method' });
      if (o.url !== endpoint) errors.push({ code: 'mismatched_endpoint', message: `url ${o.url} does not match the batch endpoint ${endpoint}`, line: i + 1, param: 'url' });
      if (!o.body || typeof o.body.model !== 'string') errors.push({ code: 'missing_required_parameter', message: 'body.model is required', line: i + 1, param: 'body.model' });
      else if (model !== null && o.body.model !== model) errors.push({ code: 'mismatched_model', message: 'every request of a batch must use the same model', line: i + 1, param: 'body.model' });
      else model = o.body.model;
      ids.add(o.custom_id);
      lines.push({ custom_id: o.custom_id, url: o.url, body: o.body ?? {}, line: lines.length });
    });
    if (lines.length > maxRequests) errors.push({ code: 'too_many_requests', message: `a batch holds at most ${maxRequests} requests, got ${lines.length}`, line: null, param: null });
    if (lines.length === 0 && errors.length === 0) errors.push({ code: 'empty_file', message: 'the input file has no requests', line: null, param: null });
    return { lines, errors };
  }

  function createBatch(raw: string, res: ServerResponse): void {
    batchCall('create');
    let body: Record<string, any>;
    try {
      body = JSON.parse(raw);
    } catch {
      return apiError(res, 400, 'request body is not JSON', 'invalid_request_error');
    }
    const file = files.get(body.input_file_id);
    if (!file) return apiError(res, 404, `No such File object: ${body.input_file_id}`, 'invalid_request_error');
    if (file.purpose !== 'batch') return apiError(res, 400, `file ${file.id} has purpose ${file.purpose}, not batch`, 'invalid_request_error');
    if (body.completion_window !== '24h') return apiError(res, 400, "completion_window must be '24h'", 'invalid_request_error');
    if (!BATCH_ENDPOINTS.has(body.endpoint)) return apiError(res, 400, `unsupported endpoint ${body.endpoint}`, 'invalid_request_error');
    const metadata = body.metadata ?? null;
    if (metadata && (Object.keys(metadata).length > 16 || Object.entries(metadata).some(([k, v]) => k.length > 64 || typeof v !== 'string' || v.length > 512))) {
      return apiError(res, 400, 'metadata: at most 16 string pairs, keys <= 64 and values <= 512 characters', 'invalid_request_error');
    }
    const { lines, errors } = parseBatchInput(file.content, body.endpoint);
    const id = `batch_${++ids}`;
    const b: FakeBatch = {
      id,
      status: 'validating',
      endpoint: body.endpoint,
      input_file_id: file.id,
      completion_window: '24h',
      metadata,
      created_at: now(),
      output_file_id: null,
      error_file_id: null,
      errors: errors.length ? { object: 'list', data: errors } : null,
      request_counts: { total: errors.length ? 0 : lines.length, completed: 0, failed: 0 },
      polls: 0,
      plan: options.batch?.({ id, metadata, lines: lines.length }) ?? {},
      times: {},
    };
    batches.set(id, b);
    json(res, 200, batchView(b));
  }

  function addFile(filename: string, content: string): string {
    const f: FakeFile = { id: `file-${++ids}`, filename, purpose: 'batch_output', bytes: Buffer.byteLength(content), content };
    files.set(f.id, f);
    return f.id;
  }

  /** Answers the batch's lines (all, or the first `limit`); the rest get `unfinished` as their error code. */
  async function finishBatch(b: FakeBatch, limit: number, unfinished: string | null): Promise<void> {
    const { lines } = parseBatchInput(files.get(b.input_file_id)!.content, b.endpoint);
    const out: string[] = [];
    const err: string[] = [];
    for (const line of lines) {
      const rid = `req_${++ids}`;
      if (line.line >= limit) {
        if (unfinished) err.push(JSON.stringify({ id: `batch_req_${++ids}`, custom_id: line.custom_id, response: null, error: { code: unfinished, message: `This request could not be executed before the batch ${unfinished === 'batch_expired' ? 'expired' : 'was cancelled'}.` } }));
        continue;
      }
      const bad = b.plan.lineError?.(line);
      if (bad && 'status' in bad) {
        err.push(JSON.stringify({ id: `batch_req_${++ids}`, custom_id: line.custom_id, response: { status_code: bad.status, request_id: rid, body: { error: { message: bad.message, type: 'invalid_request_error', param: null, code: null } } }, error: null }));
        b.request_counts.failed++;
        continue;
      }
      if (bad) {
        err.push(JSON.stringify({ id: `batch_req_${++ids}`, custom_id: line.custom_id, response: null, error: { code: bad.code, message: bad.message } }));
        b.request_counts.failed++;
        continue;
      }
      const key = fakeRequestKey(line.url, line.body);
      const reply = await replyFor({ path: line.url as FakeRequest['path'], body: line.body, key, index: -1 });
      if (!reply) {
        err.push(JSON.stringify({ id: `batch_req_${++ids}`, custom_id: line.custom_id, response: { status_code: 404, request_id: rid, body: { error: { message: `no recorded response for request key ${key.slice(0, 12)}`, type: 'cassette_miss', param: null, code: null } } }, error: null }));
        b.request_counts.failed++;
        continue;
      }
      const { payload } = completionBody(line.url, line.body, reply);
      out.push(JSON.stringify({ id: `batch_req_${++ids}`, custom_id: line.custom_id, response: { status_code: 200, request_id: rid, body: payload }, error: null }));
      b.request_counts.completed++;
      stats.batchServedByKey.set(key, (stats.batchServedByKey.get(key) ?? 0) + 1);
    }
    // Like the real API: output and error files only when they have lines.
    if (out.length) b.output_file_id = addFile(`${b.id}_output.jsonl`, out.join('\n') + '\n');
    if (err.length) b.error_file_id = addFile(`${b.id}_error.jsonl`, err.join('\n') + '\n');
  }

  /** Each retrieve moves a batch one step on (after `pollsPerStep` retrieves). */
  async function advance(b: FakeBatch): Promise<void> {
    b.polls++;
    if (['completed', 'failed', 'expired', 'cancelled'].includes(b.status)) return;
    if (b.status === 'cancelling') {
      await finishBatch(b, Math.floor(b.request_counts.total / 2), 'batch_cancelled');
      b.status = 'cancelled';
      b.times.cancelled = now();
      return;
    }
    if (b.polls % (b.plan.pollsPerStep ?? 1) !== 0) return;
    if (b.status === 'validating' && (b.errors || b.plan.outcome === 'failed')) {
      b.errors ??= { object: 'list', data: [{ code: 'failed', message: 'the batch failed (injected)', line: null, param: null }] };
      b.status = 'failed';
      b.times.failed = now();
      return;
    }
    const i = STEPS.indexOf(b.status);
    if (i < STEPS.length - 1) {
      b.status = STEPS[i + 1];
      b.times[b.status] = now();
      return;
    }
    if (b.plan.outcome === 'expired') {
      await finishBatch(b, b.plan.finishBeforeEnd ?? Math.floor(b.request_counts.total / 2), 'batch_expired');
      b.status = 'expired';
      b.times.expired = now();
      return;
    }
    await finishBatch(b, Infinity, null);
    b.status = 'completed';
    b.times.completed = now();
  }

  async function retrieveBatch(id: string, res: ServerResponse): Promise<void> {
    batchCall('retrieve');
    const b = batches.get(id);
    if (!b) return apiError(res, 404, `No batch found with id '${id}'`, 'invalid_request_error');
    await advance(b);
    json(res, 200, batchView(b));
  }

  function cancelBatch(id: string, res: ServerResponse): void {
    batchCall('cancel');
    const b = batches.get(id);
    if (!b) return apiError(res, 404, `No batch found with id '${id}'`, 'invalid_request_error');
    if (['completed', 'failed', 'expired', 'cancelled'].includes(b.status)) return apiError(res, 409, `Cannot cancel a batch with status '${b.status}'.`, 'invalid_request_error');
    b.status = 'cancelling';
    b.times.cancelling = now();
    json(res, 200, batchView(b));
  }

  /** Newest first, cursor-paged by `after` (a batch id) and `limit`, as the SDK's CursorPage reads it. */
  function listBatches(url: URL, res: ServerResponse): void {
    batchCall('list');
    const all = [...batches.values()].reverse();
    const after = url.searchParams.get('after');
    const limit = Math.min(100, Number(url.searchParams.get('limit') ?? 20));
    const start = after ? all.findIndex((b) => b.id === after) + 1 : 0;
    const page = all.slice(start, start + limit);
    json(res, 200, { object: 'list', data: page.map(batchView), first_id: page[0]?.id ?? null, last_id: page.at(-1)?.id ?? null, has_more: start + limit < all.length });
  }

  function fileContent(id: string, res: ServerResponse): void {
    batchCall('content');
    const f = files.get(id);
    if (!f) return apiError(res, 404, `No such File object: ${id}`, 'invalid_request_error');
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': f.bytes });
    res.end(f.content);
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const url = new URL(req.url ?? '/', 'http://fake');
      const path = url.pathname.replace(/\/+$/, '');
      const isBatchApi = path === '/v1/batches' || path.startsWith('/v1/batches/') || (path.startsWith('/v1/files') && !path.startsWith('/v1/fine_tuning'));
      if (isBatchApi && (options.batchRateLimited ?? 0) > (stats.batchCalls['429'] ?? 0)) {
        batchCall('429');
        return apiError(res, 429, 'Rate limit reached for batch requests (injected)', 'requests', { 'retry-after-ms': '20' });
      }
      const run = async () => {
        if (req.method === 'POST' && (path === '/v1/chat/completions' || path === '/v1/completions')) return completion(path, raw.toString('utf8'), req, res);
        if (req.method === 'POST' && path === '/v1/files') return uploadFile(req, raw, res);
        if (req.method === 'POST' && path === '/v1/fine_tuning/jobs') return createJob(raw.toString('utf8'), res);
        const m = /^\/v1\/fine_tuning\/jobs\/([^/]+)$/.exec(path);
        if (req.method === 'GET' && m) return retrieveJob(m[1], res);
        if (req.method === 'POST' && path === '/v1/batches') return createBatch(raw.toString('utf8'), res);
        if (req.method === 'GET' && path === '/v1/batches') return listBatches(url, res);
        const b = /^\/v1\/batches\/([^/]+)(\/cancel)?$/.exec(path);
        if (b && req.method === 'GET' && !b[2]) return retrieveBatch(b[1], res);
        if (b && req.method === 'POST' && b[2]) return cancelBatch(b[1], res);
        const fc = /^\/v1\/files\/([^/]+)\/content$/.exec(path);
        if (fc && req.method === 'GET') return fileContent(fc[1], res);
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
    batches,
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

/** A duration as OpenAI's reset headers write it: '20ms', '1s', '1.5s', '6m0s'. */
export function goDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const m = Math.floor(ms / 60_000);
  const sec = Math.round((ms - m * 60_000) / 10) / 100;
  return m > 0 ? `${m}m${sec}s` : `${sec}s`;
}
