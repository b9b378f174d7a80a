// The LLM client for one stage's endpoint: cache and cassette first, then one HTTP call through
// the openai SDK under a concurrency cap, request and token buckets, a circuit breaker and our
// own retry loop (the SDK's retries are off so every attempt passes through the limiter).
import OpenAI from 'openai';
import type { BlobStore } from '../store/ports.ts';
import { LlmEndpointConfigSchema, type LlmEndpointConfig, type LlmEndpointConfigInput } from './config.ts';
import { CircuitBreaker, type BreakerState, type CircuitBreakerOptions } from './circuit-breaker.ts';
import { Cassette, type LlmMode } from './cassette.ts';
import {
  LlmRequestError,
  LlmUnavailableError,
  backoffMs,
  classifyError,
  fatalMessage,
  type AttemptFailure,
} from './errors.ts';
import { ResponseCache } from './response-cache.ts';
import {
  buildWireRequest,
  estimateTokens,
  httpBody,
  requestKey,
  type CacheEntry,
  type LlmCall,
  type StoredResponse,
  type WireRequest,
} from './request.ts';
import { Semaphore, TokenBucket } from './token-bucket.ts';
import { ProviderGate } from './provider-gate.ts';
import { readRateHeaders } from './rate-headers.ts';
import { GlobalLimiter, type RateTicket } from './global-limiter.ts';
import { processRateLimits, rateScope, type RateLimitStore } from './rate-limit-store.ts';
import { UsageMeter } from './usage.ts';
import type { ResponseCacheLike } from './shard-cache.ts';

export interface LlmResult {
  /** The text ('' when the model returned nothing; see finishReason). */
  content: string;
  /** The endpoint's finish_reason ('stop', 'length', 'content_filter', ...), or 'malformed' when
   * the endpoint kept returning bodies that are not a completion. */
  finishReason: string;
  usage: { promptTokens: number; completionTokens: number };
  /** True when nothing was bought for this call (cache, cassette or a coalesced identical call). */
  cached: boolean;
  source: 'network' | 'cache' | 'cassette' | 'coalesced';
  model: string;
  /** The request key (sha256): cache object `cache/llm/<key>.json`, cassette line key. */
  key: string;
  refusal?: string;
}

export interface LlmPorts {
  /** Response cache (omit for none). */
  blobs?: BlobStore;
  /** live: network (+cache); record: live and append every response to the cassette; replay: cassette only. */
  mode?: LlmMode;
  cassette?: Cassette;
  env?: Record<string, string | undefined>;
  breaker?: CircuitBreakerOptions;
  onBreakerChange?: (from: BreakerState, to: BreakerState) => void;
  /** Backoff base (ms) for retries without Retry-After. */
  backoffBaseMs?: number;
  random?: () => number;
  /** Where `rpm`/`tpm` are counted for every client of the same key (base URL + apiKeyEnv):
   * default this process (a local run); on AWS the stack's DynamoDB table, so the limits hold
   * across all Lambda instances. */
  rateLimits?: RateLimitStore;
  /** The limiter's window, lease and guard (tests; default 60 s, the store's lease, 250 ms). */
  rateWindowMs?: number;
  rateLease?: number;
  rateGuardMs?: number;
}

const LOOPBACK = /^https?:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?\//;

export class LlmClient {
  readonly config: LlmEndpointConfig;
  readonly usage: UsageMeter;
  readonly breaker: CircuitBreaker;
  readonly mode: LlmMode;
  private readonly sdk: OpenAI | null;
  private readonly cache: ResponseCache | null;
  /** The run's cassette (record or replay), also used by batch mode (lib/llm/batch). */
  readonly cassette: Cassette | null;
  private readonly inflight = new Map<string, Promise<LlmResult>>();
  private readonly sem: Semaphore;
  private readonly rpm: TokenBucket;
  private readonly tpm: TokenBucket;
  /** The provider's x-ratelimit-* picture, global across instances (see provider-gate.ts). */
  readonly gate = new ProviderGate();
  /** The key's rpm/tpm across every client and instance (null: no limit configured). */
  readonly limiter: GlobalLimiter | null;
  private readonly random: () => number;
  private readonly backoffBase: number;

  constructor(
    readonly stage: string,
    config: LlmEndpointConfigInput | LlmEndpointConfig,
    ports: LlmPorts = {},
  ) {
    const parsed = LlmEndpointConfigSchema.safeParse(config);
    if (!parsed.success) {
      throw new Error(`invalid LLM config for stage '${stage}': ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
    }
    this.config = parsed.data;
    this.mode = ports.mode ?? 'live';
    this.usage = new UsageMeter();
    this.cache = ports.blobs ? new ResponseCache(ports.blobs) : null;
    this.cassette = ports.cassette ?? null;
    if (this.mode !== 'live' && !this.cassette) throw new Error(`LLM mode '${this.mode}' for stage '${stage}' needs a cassette`);
    this.random = ports.random ?? Math.random;
    this.backoffBase = ports.backoffBaseMs ?? 500;
    this.breaker = new CircuitBreaker({ ...ports.breaker, onStateChange: ports.onBreakerChange ?? ports.breaker?.onStateChange });
    this.sem = new Semaphore(this.config.concurrency);
    // Capacity 1.5: never two requests at once, yet a timer that fires a little late does not
    // lose the fraction of a token it overslept (with capacity 1 that cost ~2% of the rate).
    this.rpm = new TokenBucket(this.config.rpm, 1.5);
    // A second's worth of tokens may accumulate, so typical requests are not serialised behind the estimate.
    this.tpm = new TokenBucket(this.config.tpm, Math.max(1, this.config.tpm / 60));
    // The local buckets above pace this instance; the limiter bounds all of them together.
    this.limiter =
      this.mode !== 'replay' && (this.config.rpm > 0 || this.config.tpm > 0)
        ? new GlobalLimiter(
            ports.rateLimits ?? processRateLimits,
            rateScope(this.config.baseURL, this.config.apiKeyEnv),
            { rpm: this.config.rpm, tpm: this.config.tpm },
            { windowMs: ports.rateWindowMs, leaseRequests: ports.rateLease, guardMs: ports.rateGuardMs },
          )
        : null;
    if (this.mode === 'replay') {
      this.sdk = null;
    } else {
      const env = ports.env ?? process.env;
      let apiKey = env[this.config.apiKeyEnv];
      if (!apiKey) {
        // Local servers (vLLM, SGLang, the fake server) usually take no key.
        if (LOOPBACK.test(this.config.baseURL + '/')) apiKey = 'none';
        else throw new Error(`stage '${stage}': environment variable ${this.config.apiKeyEnv} (apiKeyEnv) is not set; it must hold the API key for ${this.config.baseURL}`);
      }
      this.sdk = new OpenAI({ apiKey, baseURL: this.config.baseURL, maxRetries: 0, timeout: this.config.timeoutMs });
    }
  }

  /** One completion. Throws LlmRequestError (400/401/404...), LlmUnavailableError (retries
   * exhausted), CassetteMissError (replay); every bad model output comes back as data. */
  async complete(call: LlmCall): Promise<LlmResult> {
    const wire = buildWireRequest(this.config, call);
    const key = requestKey(wire);
    const pending = this.inflight.get(key);
    if (pending) {
      const r = await pending;
      return { ...r, cached: true, source: 'coalesced' };
    }
    const p = this.resolve(wire, key, call.cache ?? this.cache).finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }

  /** `config.n` samples of one prompt (sample indices 0..n-1), each its own request and cache entry. */
  samples(call: Omit<LlmCall, 'sample'>, n = this.config.n): Promise<LlmResult[]> {
    return Promise.all(Array.from({ length: n }, (_, i) => this.complete({ ...call, sample: i })));
  }

  private async resolve(wire: WireRequest, key: string, cache: ResponseCacheLike | null): Promise<LlmResult> {
    if (this.mode === 'replay') {
      const e = this.cassette!.get(key);
      if (!e) throw this.cassette!.miss(this.stage, key, wire);
      this.usage.row(this.stage, this.config.model).cacheHits++;
      return toResult(e.response, key, 'cassette');
    }
    const hit = cache ? await cache.get(key) : null;
    if (hit) {
      this.usage.row(this.stage, this.config.model).cacheHits++;
      if (this.mode === 'record') this.cassette!.record(hit);
      return toResult(hit.response, key, 'cache');
    }
    const response = await this.fetchWithPolicy(wire);
    if (response.finishReason !== 'malformed') {
      const entry: CacheEntry = { key, stage: this.stage, request: wire, response };
      if (this.mode === 'record') this.cassette!.record(entry);
      if (cache) {
        try {
          await cache.put(entry);
        } catch (err) {
          // The response is paid for and returned; a failed cache write only costs a re-buy later.
          this.usage.addFailure(this.stage, this.config.model, 'cache_write');
        }
      }
    }
    return toResult(response, key, 'network');
  }

  private async fetchWithPolicy(wire: WireRequest): Promise<StoredResponse> {
    const row = this.usage.row(this.stage, this.config.model);
    const estimate = estimateTokens(wire);
    const body = httpBody(wire);
    let last: AttemptFailure | null = null;
    for (let attempt = 0; attempt <= this.config.maxRetries; attempt++) {
      if (attempt > 0) row.retries++;
      await this.sem.acquire();
      let failure: AttemptFailure;
      let probe = false;
      let ticket: RateTicket | null = null;
      try {
        // The breaker is asked last, right before sending: a caller that queued for a slot or a
        // token while it opened must not slip through. Tokens taken before it opened go back.
        // The key's global share is taken after every other wait, so it is spent in the window
        // it was claimed for.
        await this.gate.admit(estimate);
        for (;;) {
          await this.rpm.take(1);
          await this.tpm.take(estimate);
          if (this.breaker.state !== 'closed' && !probe) {
            this.rpm.refund(1);
            this.tpm.refund(estimate);
            probe = await this.breaker.admit();
            continue;
          }
          ticket = this.limiter ? await this.limiter.acquire(estimate) : null;
          if (probe || this.breaker.state === 'closed') break;
          // The breaker opened while this call waited for the key's window.
          if (ticket) this.limiter!.release(ticket);
          this.rpm.refund(1);
          this.tpm.refund(estimate);
        }
        row.attempts++;
        try {
          const { data: raw, response } = wire.api === 'chat'
            ? await this.sdk!.chat.completions.create(body as never, { maxRetries: 0, timeout: this.config.timeoutMs }).withResponse()
            : await this.sdk!.completions.create(body as never, { maxRetries: 0, timeout: this.config.timeoutMs }).withResponse();
          this.observeHeaders(response.headers);
          const parsed = parseCompletion(raw, wire, this.config.model);
          if (parsed) {
            this.breaker.success(probe);
            this.breaker.observe(true);
            const used = parsed.usage.promptTokens + parsed.usage.completionTokens;
            if (ticket) this.limiter!.settle(ticket, used);
            if (used > 0) {
              if (used < estimate) this.tpm.refund(estimate - used);
              else this.tpm.charge(used - estimate);
            }
            this.usage.addCompletion(this.stage, this.config, parsed.usage.promptTokens, parsed.usage.completionTokens);
            return parsed;
          }
          failure = { kind: 'malformed', message: 'response is not a completion (no choices)' };
        } catch (err) {
          this.observeHeaders((err as { headers?: Headers }).headers);
          failure = classifyError(err);
        }
      } finally {
        this.sem.release();
      }
      last = failure;
      this.breaker.observe(false, 'status' in failure ? failure.message : `${failure.kind}: ${failure.message}`);
      this.usage.addFailure(this.stage, this.config.model, failure.kind === 'server' ? `http_${failure.status}` : failure.kind);
      if (failure.kind === 'fatal') {
        this.breaker.success(probe); // the endpoint answered; it is the request that is wrong
        throw new LlmRequestError(
          this.stage,
          failure.status,
          fatalMessage(this.stage, this.config.model, this.config.baseURL, failure.status, failure.message, this.config.apiKeyEnv),
        );
      }
      if (failure.kind === 'rate_limited') {
        // Refused unserved: the provider's quota was not used, so neither is ours.
        this.rpm.refund(1);
        this.tpm.refund(estimate);
        // The quota is the key's, not this call's: every call of the endpoint waits it out.
        if (failure.retryAfterMs !== null) this.gate.hold(failure.retryAfterMs);
      }
      this.breaker.failure(probe);
      if (attempt === this.config.maxRetries) break;
      const retryAfter = failure.kind === 'rate_limited' || failure.kind === 'server' ? failure.retryAfterMs : null;
      await this.breaker.pause(backoffMs(attempt, retryAfter, this.backoffBase, 30_000, this.random));
    }
    if (last!.kind === 'malformed') {
      // A server that keeps sending broken bodies: hand it back as data for the stage to reject.
      return { content: '', finishReason: 'malformed', model: this.config.model, usage: { promptTokens: 0, completionTokens: 0 } };
    }
    throw new LlmUnavailableError(
      this.stage,
      this.config.maxRetries + 1,
      last!,
      `LLM endpoint for stage '${this.stage}' (${this.config.baseURL}, model ${this.config.model}) still failing after ${this.config.maxRetries + 1} attempts: ${last!.kind}: ${last!.message}`,
    );
  }

  private observeHeaders(headers: Headers | undefined): void {
    const h = readRateHeaders(headers);
    if (h) this.gate.observe(h);
  }

  close(): void {
    this.breaker.dispose();
  }
}

/** Reads a completion defensively; null when the body is not a completion at all. */
export function parseCompletion(raw: unknown, wire: WireRequest, fallbackModel: string): StoredResponse | null {
  if (!raw || typeof raw !== 'object') return null;
  const r = raw as { choices?: unknown; model?: unknown; usage?: { prompt_tokens?: unknown; completion_tokens?: unknown } };
  if (!Array.isArray(r.choices) || r.choices.length === 0) return null;
  const c = r.choices[0] as { message?: { content?: unknown; refusal?: unknown }; text?: unknown; finish_reason?: unknown };
  let content: unknown;
  let refusal: unknown;
  if (wire.api === 'chat') {
    if (!c?.message || typeof c.message !== 'object') return null;
    content = c.message.content;
    refusal = c.message.refusal;
  } else {
    content = c?.text;
  }
  if (content !== null && content !== undefined && typeof content !== 'string') return null;
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  const out: StoredResponse = {
    content: (content as string | null | undefined) ?? '',
    finishReason: typeof c.finish_reason === 'string' ? c.finish_reason : 'unknown',
    model: typeof r.model === 'string' ? r.model : fallbackModel,
    usage: { promptTokens: num(r.usage?.prompt_tokens), completionTokens: num(r.usage?.completion_tokens) },
  };
  if (typeof refusal === 'string' && refusal) out.refusal = refusal;
  return out;
}

function toResult(r: StoredResponse, key: string, source: LlmResult['source']): LlmResult {
  const out: LlmResult = {
    content: r.content,
    finishReason: r.finishReason,
    usage: { ...r.usage },
    cached: source !== 'network',
    source,
    model: r.model,
    key,
  };
  if (r.refusal) out.refusal = r.refusal;
  return out;
}
