// A cassette: real responses recorded to a JSONL file (one line per request key, with the
// request and the response) and replayed with no network. A request missing from the cassette
// in replay mode is an error that names the stage and shows where the nearest recorded request
// differs, which is almost always a changed prompt or sampling setting.
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { CacheEntry, WireRequest } from './request.ts';
import { canonicalJson } from './request.ts';

export type LlmMode = 'live' | 'record' | 'replay';

export class CassetteMissError extends Error {
  constructor(
    readonly stage: string,
    readonly key: string,
    readonly hint: string,
  ) {
    super(`cassette has no response for a '${stage}' request (key ${key.slice(0, 12)}); ${hint}`);
    this.name = 'CassetteMissError';
  }
}

export class Cassette {
  private readonly entries = new Map<string, CacheEntry>();

  /** Loads `path` if it exists (a missing file is an empty cassette, ready to record). */
  constructor(readonly path: string) {
    if (!existsSync(path)) return;
    const lines = readFileSync(path, 'utf8').split('\n');
    lines.forEach((line, i) => {
      if (!line.trim()) return;
      let e: CacheEntry;
      try {
        e = JSON.parse(line) as CacheEntry;
      } catch (err) {
        throw new Error(`cassette ${path} line ${i + 1} is not JSON: ${(err as Error).message}`);
      }
      if (!e.key || !e.request || !e.response) throw new Error(`cassette ${path} line ${i + 1} lacks key, request or response`);
      this.entries.set(e.key, e);
    });
  }

  get size(): number {
    return this.entries.size;
  }

  all(): CacheEntry[] {
    return [...this.entries.values()];
  }

  get(key: string): CacheEntry | undefined {
    return this.entries.get(key);
  }

  /** Appends an entry (once per key); synchronous so concurrent callers never interleave lines. */
  record(entry: CacheEntry): void {
    if (this.entries.has(entry.key)) return;
    this.entries.set(entry.key, entry);
    mkdirSync(dirname(this.path), { recursive: true });
    appendFileSync(this.path, JSON.stringify(entry) + '\n');
  }

  miss(stage: string, key: string, request: WireRequest): CassetteMissError {
    return new CassetteMissError(stage, key, nearestHint(request, this.all(), stage));
  }
}

/** Field-by-field differences between two requests, as short human-readable lines. */
export function requestDiff(want: WireRequest, have: WireRequest): string[] {
  const out: string[] = [];
  const show = (v: unknown) => {
    const s = v === undefined ? 'absent' : JSON.stringify(v);
    return s.length > 60 ? s.slice(0, 57) + '...' : s;
  };
  for (const k of ['baseURL', 'api', 'model', 'temperature', 'top_p', 'max_tokens', 'stop', 'seed', 'sample', 'prompt'] as const) {
    if (canonicalJson(want[k]) !== canonicalJson(have[k])) out.push(`${k}: recorded ${show(have[k])}, requested ${show(want[k])}`);
  }
  const a = want.messages ?? [];
  const b = have.messages ?? [];
  if (a.length !== b.length) out.push(`messages: recorded ${b.length}, requested ${a.length}`);
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i].role !== b[i].role) out.push(`messages[${i}].role: recorded ${b[i].role}, requested ${a[i].role}`);
    if (a[i].content !== b[i].content) {
      let c = 0;
      while (c < a[i].content.length && a[i].content[c] === b[i].content[c]) c++;
      out.push(
        `messages[${i}].content differs at char ${c}: recorded ${show(b[i].content.slice(c, c + 40))}, requested ${show(a[i].content.slice(c, c + 40))}`,
      );
      break; // the first differing message is the useful hint
    }
  }
  return out;
}

function nearestHint(want: WireRequest, entries: CacheEntry[], stage: string): string {
  if (entries.length === 0) return 'the cassette is empty (record it first with mode "record")';
  const pool = entries.filter((e) => e.stage === stage);
  let best: { e: CacheEntry; d: string[] } | null = null;
  for (const e of pool.length ? pool : entries) {
    const d = requestDiff(want, e.request);
    if (!best || d.length < best.d.length) best = { e, d };
  }
  return `nearest recorded request (${best!.e.stage}, key ${best!.e.key.slice(0, 12)}) differs in ${best!.d.slice(0, 3).join('; ')}`;
}
