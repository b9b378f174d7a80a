// The response cache on the BlobStore port: `cache/llm/<sha256>.json`, one object per request
// key, so a re-run or a retried shard never pays twice (files locally, S3 on AWS).
import type { BlobStore } from '../store/ports.ts';
import type { CacheEntry } from './request.ts';

export class ResponseCache {
  constructor(
    private readonly store: BlobStore,
    private readonly prefix = 'cache/llm/',
  ) {}

  keyFor(key: string): string {
    return `${this.prefix}${key}.json`;
  }

  /** The stored entry, or null when absent or unreadable (an unreadable entry is simply re-bought). */
  async get(key: string): Promise<CacheEntry | null> {
    const buf = await this.store.get(this.keyFor(key));
    if (!buf) return null;
    try {
      const entry = JSON.parse(buf.toString('utf8')) as CacheEntry;
      return entry.key === key && entry.response ? entry : null;
    } catch {
      return null;
    }
  }

  async put(entry: CacheEntry): Promise<void> {
    await this.store.put(this.keyFor(entry.key), JSON.stringify(entry));
  }
}
