// A response cache for one shard of one stage, kept as a few part objects instead of one object
// per request: on S3 a PUT and a GET per LLM call cost more than the Lambda time of the call
// itself (~$15 per 1M candidates measured). The shard's earlier parts are read once when it
// (re)starts; new responses are buffered and written as a new part every `flushMs` and when the
// shard's chunk ends. A crash loses at most the responses of the last `flushMs` (re-bought on the
// retry); everything flushed is never bought twice. Locally the per-request cache is used instead.
import { randomBytes } from 'node:crypto';
import type { BlobStore } from '../store/ports.ts';
import type { CacheEntry } from './request.ts';

export interface ResponseCacheLike {
  get(key: string): Promise<CacheEntry | null>;
  put(entry: CacheEntry): Promise<void>;
}

export class ShardResponseCache implements ResponseCacheLike {
  private readonly entries = new Map<string, CacheEntry>();
  private buffer: CacheEntry[] = [];
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();

  private constructor(
    private readonly blobs: BlobStore,
    private readonly prefix: string,
    private readonly flushMs: number,
  ) {}

  /** Opens the cache of `prefix` (e.g. `runs/<id>/llm-cache/backtranslate/g00003/`), reading its parts. */
  static async open(blobs: BlobStore, prefix: string, flushMs = 30_000): Promise<ShardResponseCache> {
    const cache = new ShardResponseCache(blobs, prefix, flushMs);
    for (const key of await blobs.list(prefix)) {
      const body = await blobs.get(key);
      if (!body) continue;
      for (const line of body.toString('utf8').split('\n')) {
        if (!line) continue;
        try {
          const e = JSON.parse(line) as CacheEntry;
          if (e.key && e.response) cache.entries.set(e.key, e);
        } catch {
          // A damaged part only means those responses are bought again.
        }
      }
    }
    return cache;
  }

  get size(): number {
    return this.entries.size;
  }

  async get(key: string): Promise<CacheEntry | null> {
    return this.entries.get(key) ?? null;
  }

  async put(entry: CacheEntry): Promise<void> {
    if (this.entries.has(entry.key)) return;
    this.entries.set(entry.key, entry);
    this.buffer.push(entry);
    if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), this.flushMs);
      this.timer.unref();
    }
  }

  /** Writes the buffered responses as one new part object (nothing when the buffer is empty). */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const batch = this.buffer;
    this.buffer = [];
    // Parts are written one after another; names sort by time and never collide.
    this.flushing = this.flushing.catch(() => {}).then(async () => {
      if (batch.length === 0) return;
      const name = `${Date.now().toString(36).padStart(9, '0')}-${randomBytes(4).toString('hex')}.jsonl`;
      await this.blobs.put(this.prefix + name, batch.map((e) => JSON.stringify(e) + '\n').join(''));
    });
    await this.flushing;
  }
}
