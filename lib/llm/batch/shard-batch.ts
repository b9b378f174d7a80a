// One shard's batch work, in rounds. The stage runs as usual over an LlmPort that answers from the
// shard's collected batch results and DEFERS every other request (port.ts); after the run, the
// deferred requests become the next round's batches and the shard waits (nothing runs meanwhile).
// When the round's batches end, the shard message comes back (the poller sends it), the results
// are collected into blobs and the stage runs again: records whose answers arrived move on, the
// next wave of requests (backtranslate's solve after reverse) is deferred, and so on until a run
// defers nothing: that run's output is the shard's output. Per request: a failed line is retried
// once in the next round, then the record fails with the provider's reason; a line that did not
// run before its batch expired is submitted again (at most 3 times); a cancelled batch's unrun
// lines count as failures.
import { randomUUID } from 'node:crypto';
import type { BlobStore } from '../../store/ports.ts';
import { estimateTokens, type StoredResponse, type WireRequest } from '../request.ts';
import { endpointOf, inputLine, parseResultLine, splitIntoFiles, BATCH_LIMITS, type LineResult } from './lines.ts';
import { isTerminal, type BatchProvider } from './provider.ts';
import { RELEASED, roundName, type BatchPart, type BatchRound, type BatchStore, type RoundKey } from './store.ts';

export interface BatchEndpointRef {
  baseURL: string;
  apiKeyEnv: string;
  /** The provider's enqueued-token limit for this endpoint's model (0 or absent: none). */
  queueTokens?: number;
}

export interface BatchServices {
  store: BatchStore;
  /** The provider of an endpoint for a run (the run's cassette when it replays). */
  provider(endpoint: BatchEndpointRef, runId: string): BatchProvider;
  /**
   * The worker (a Lambda invocation's id; locally 'local': one runner per folder). Each claim is
   * `<owner>#<nonce>`; a claim of this owner that no submission in this process holds is from a
   * dead process (or a thrown one) and is taken over at once; others only after `staleMs`.
   */
  owner: string;
  /** A claim older than this belongs to a dead worker (AWS: the function timeout). */
  staleMs: number;
  limits?: { maxRequests: number; maxBytes: number };
  now?: () => number;
}

/** Attempts per request: line errors (a failed line is retried once), expiries (resubmitted). */
export const MAX_LINE_ERRORS = 2;
export const MAX_EXPIRIES = 3;

export type Lookup =
  | { kind: 'answer'; response: StoredResponse }
  | { kind: 'exhausted'; reason: 'llm_batch_error' | 'llm_batch_expired'; detail: string }
  | { kind: 'deferred' };

interface Deferred {
  key: string;
  wire: WireRequest;
  endpoint: BatchEndpointRef;
}

/** Claims this process is submitting right now (a duplicate delivery must wait for them). */
const live = new Set<string>();

const prefix = (k: Omit<RoundKey, 'round'>) => `runs/${k.runId}/llm-batch/${k.stage}/${k.shard}/`;
/** The requests of one part ({key, wire, endpoint} per line): written before its batch is created. */
export const planKey = (k: RoundKey, part: number) => `${prefix(k)}r${String(k.round).padStart(3, '0')}-p${String(part).padStart(3, '0')}-requests.jsonl`;
/** What came back for one part (LineResult per line). */
export const resultsKey = (k: RoundKey, part: number) => `${prefix(k)}r${String(k.round).padStart(3, '0')}-p${String(part).padStart(3, '0')}-results.jsonl`;

export class ShardBatch {
  /** True when the shard must wait for a batch (or another worker's submission): do not run the stage. */
  waiting = false;
  readonly answers = new Map<string, StoredResponse>();
  private readonly errors = new Map<string, { count: number; last: string }>();
  private readonly expiries = new Map<string, number>();
  private readonly deferred = new Map<string, Deferred>();
  private rounds: BatchRound[] = [];

  private constructor(
    private readonly svc: BatchServices,
    private readonly blobs: BlobStore,
    private readonly shard: Omit<RoundKey, 'round'>,
  ) {}

  private now(): number {
    return this.svc.now?.() ?? Date.now();
  }

  /** Claims a round with a fresh token (live until `release`). */
  private async claim(key: RoundKey): Promise<BatchRound | null> {
    const token = `${this.svc.owner}#${randomUUID().slice(0, 8)}`;
    live.add(token);
    const mine = this.svc.owner + '#';
    const r = await this.svc.store.claim(key, token, this.now(), this.svc.staleMs, (holder) => holder === RELEASED || (holder.startsWith(mine) && !live.has(holder)));
    if (!r) live.delete(token);
    return r;
  }

  private release(round: BatchRound): void {
    live.delete(round.owner);
  }

  /** Loads the shard's rounds: polls an open one, collects an ended one, recovers an interrupted submission. */
  static async open(svc: BatchServices, blobs: BlobStore, shard: Omit<RoundKey, 'round'>): Promise<ShardBatch> {
    const b = new ShardBatch(svc, blobs, shard);
    b.rounds = await svc.store.rounds(shard.runId, shard.stage, shard.shard);
    let last = b.rounds.at(-1);
    if (last?.state === 'claimed') {
      const mine = await b.claim(last);
      if (!mine) {
        b.waiting = true; // another worker is submitting this round
        return b;
      }
      try {
        // Interrupted before anything was planned: the round is empty; the run plans a new one.
        if (mine.planned === 0) {
          last = { ...mine, state: 'collected' };
          await svc.store.transition(last, ['claimed']);
        } else last = await b.submit(mine, true);
      } finally {
        b.release(mine);
      }
      b.rounds[b.rounds.length - 1] = last;
      if (last.state === 'claimed') {
        b.waiting = true; // still waiting for room in the provider's queue
        return b;
      }
    }
    if (last?.state === 'submitted') {
      const r = await refreshRound(last, svc);
      if (!r.ended) {
        await svc.store.transition(r.round, ['submitted']);
        b.waiting = true;
        return b;
      }
      last = r.round;
    }
    if (last && (last.state === 'submitted' || last.state === 'ended')) {
      b.rounds[b.rounds.length - 1] = await b.collect(last);
    }
    await b.loadResults();
    return b;
  }

  /** What the port does with a request: its answer, its failure, or defer it to the next round. */
  lookup(key: string, wire: WireRequest, endpoint: BatchEndpointRef): Lookup {
    const answer = this.answers.get(key);
    if (answer) return { kind: 'answer', response: answer };
    const err = this.errors.get(key);
    if (err && err.count >= MAX_LINE_ERRORS) return { kind: 'exhausted', reason: 'llm_batch_error', detail: `failed in ${err.count} batches: ${err.last}` };
    const exp = this.expiries.get(key) ?? 0;
    if (exp >= MAX_EXPIRIES) return { kind: 'exhausted', reason: 'llm_batch_expired', detail: `not run before its batch expired, ${exp} times` };
    this.deferred.set(key, { key, wire, endpoint });
    return { kind: 'deferred' };
  }

  get pending(): number {
    return this.deferred.size;
  }

  /** After a stage run: submits the deferred requests as the next round. False when nothing was deferred. */
  async suspend(): Promise<boolean> {
    if (this.deferred.size === 0) return false;
    const next: RoundKey = { ...this.shard, round: (this.rounds.at(-1)?.round ?? 0) + 1 };
    const claimed = await this.claim(next);
    if (!claimed) return true; // a duplicate delivery got there first: its batch is the one
    try {
      await this.plan(claimed);
    } finally {
      this.release(claimed);
    }
    return true;
  }

  /** Writes the round's request files and creates its batches. */
  private async plan(claimed: BatchRound): Promise<void> {
    let round = claimed;
    // Parts: one per endpoint and model, split at the file limits; requests sorted, so the same
    // deferred set always gives the same files.
    const groups = new Map<string, Deferred[]>();
    for (const d of [...this.deferred.values()].sort((a, b) => (a.key < b.key ? -1 : 1))) {
      const g = [d.endpoint.baseURL, d.endpoint.apiKeyEnv, d.wire.api, d.wire.model].join('\0');
      groups.set(g, [...(groups.get(g) ?? []), d]);
    }
    let part = 0;
    for (const [, list] of [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const byLine = new Map(list.map((d) => [inputLine(d.key, d.wire), d]));
      const limits = { ...(this.svc.limits ?? BATCH_LIMITS), maxTokens: list[0]!.endpoint.queueTokens };
      for (const file of splitIntoFiles([...byLine.keys()], limits, (l) => estimateTokens(byLine.get(l)!.wire))) {
        const plan = file.map((line) => JSON.stringify(byLine.get(line)!)).join('\n') + '\n';
        await this.blobs.put(planKey(round, part++), plan);
      }
    }
    round = { ...round, planned: part };
    if (!(await this.svc.store.transition(round, ['claimed']))) return;
    await this.submit(round, false);
  }

  /**
   * Creates the round's missing batches, recording each id at once; on a takeover, finds one first.
   * A part that does not fit the provider's enqueued-token limit waits: the round stays claimed,
   * released to whoever comes next (the poller sends the shard every tick until it fits).
   */
  private async submit(round: BatchRound, takeover: boolean): Promise<BatchRound> {
    let r = round;
    for (let part = 0; part < r.planned; part++) {
      if (r.parts.some((p) => p.part === part)) continue;
      const plan = await this.readPlan(r, part);
      const first = plan[0]!;
      const provider = this.svc.provider(first.endpoint, r.runId);
      const tokens = plan.reduce((n, d) => n + estimateTokens(d.wire), 0);
      if (first.endpoint.queueTokens && !(await this.fits(r, first, tokens))) {
        r = { ...r, owner: RELEASED };
        await this.svc.store.transition(r, ['claimed']);
        return r;
      }
      const metadata = { caco_run: r.runId, caco_stage: r.stage, caco_shard: r.shard, caco_round: String(r.round), caco_part: String(part) };
      // Crashed between creating this batch and recording it? The provider knows it by metadata.
      const found = takeover ? await provider.find(metadata, Math.floor(r.claimedAt / 1000) - 24 * 3600) : null;
      const info = found ?? (await provider.create(plan.map((d) => inputLine(d.key, d.wire)).join('\n') + '\n', endpointOf(first.wire), metadata));
      const p: BatchPart = {
        part,
        batchId: info.id,
        baseURL: first.endpoint.baseURL,
        apiKeyEnv: first.endpoint.apiKeyEnv,
        requests: plan.length,
        model: first.wire.model,
        tokens,
        status: info.status,
        counts: info.counts,
        createdAt: info.createdAt,
      };
      r = { ...r, parts: [...r.parts, p] };
      if (!(await this.svc.store.transition(r, ['claimed']))) throw new Error(`batch round ${roundName(r)} was taken over while submitting`);
    }
    r = { ...r, state: 'submitted' };
    await this.svc.store.transition(r, ['claimed']);
    return r;
  }

  /** Room in the provider's queue for `tokens` more of this endpoint's model (open batches of every run in this store). */
  private async fits(round: BatchRound, first: Deferred, tokens: number): Promise<boolean> {
    const same = (p: BatchPart) => p.baseURL === first.endpoint.baseURL && p.model === first.wire.model && !isTerminal(p.status);
    // This round's own parts are not polled by anyone while it is claimed: look at them here.
    const mine = (await refreshRound(round, this.svc)).round.parts;
    const others = (await this.svc.store.listOpen()).filter((o) => roundName(o) !== roundName(round)).flatMap((o) => o.parts);
    const enqueued = [...mine, ...others].filter(same).reduce((n, p) => n + (p.tokens ?? 0), 0);
    // An empty queue always takes a part (each part fits the limit on its own: files are split by it).
    return enqueued === 0 || enqueued + tokens <= first.endpoint.queueTokens!;
  }

  private async readPlan(k: RoundKey, part: number): Promise<Deferred[]> {
    const body = await this.blobs.get(planKey(k, part));
    if (!body) throw new Error(`batch requests of ${roundName(k)} part ${part} are missing (${planKey(k, part)})`);
    return body.toString('utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Deferred);
  }

  /** Reads every part's output and error files into a results blob; a request with no line is expired or failed. */
  private async collect(round: BatchRound): Promise<BatchRound> {
    const parts: BatchPart[] = [];
    for (const p of round.parts) {
      const provider = this.svc.provider(p, round.runId);
      const info = await provider.retrieve(p.batchId);
      const plan = await this.readPlan(round, p.part);
      const wires = new Map(plan.map((d) => [d.key, d.wire]));
      const seen = new Map<string, LineResult>();
      for (const fileId of [info.outputFileId, info.errorFileId]) {
        if (!fileId) continue;
        for (const text of (await provider.fileText(fileId)).split('\n')) {
          const r = text.trim() ? parseResultLine(text, (k) => wires.get(k)) : null;
          if (r && !seen.has(r.key)) seen.set(r.key, r);
        }
      }
      for (const d of plan) {
        if (seen.has(d.key)) continue;
        // Not run before the 24 h window closed: submitted again. Cancelled (on purpose, by someone):
        // counted as a failure, so it is retried once and not forever.
        if (info.status === 'expired') seen.set(d.key, { key: d.key, expired: true });
        else seen.set(d.key, { key: d.key, error: { code: `batch_${info.status}`, message: info.errors ?? `no result line in a ${info.status} batch` } });
      }
      await this.blobs.put(resultsKey(round, p.part), [...seen.values()].map((r) => JSON.stringify(r)).join('\n') + '\n');
      parts.push({ ...p, status: info.status, counts: info.counts });
    }
    const done: BatchRound = { ...round, state: 'collected', parts };
    await this.svc.store.transition(done, ['submitted', 'ended']);
    return done;
  }

  private async loadResults(): Promise<void> {
    for (const round of this.rounds) {
      if (round.state !== 'collected') continue;
      for (const p of round.parts) {
        const body = await this.blobs.get(resultsKey(round, p.part));
        if (!body) throw new Error(`batch results of ${roundName(round)} part ${p.part} are missing`);
        for (const line of body.toString('utf8').split('\n')) {
          if (!line) continue;
          const r = JSON.parse(line) as LineResult;
          if ('response' in r) this.answers.set(r.key, r.response);
          else if ('error' in r) {
            const e = this.errors.get(r.key);
            this.errors.set(r.key, { count: (e?.count ?? 0) + 1, last: `${r.error.code}: ${r.error.message}` });
          } else this.expiries.set(r.key, (this.expiries.get(r.key) ?? 0) + 1);
        }
      }
    }
  }
}

/** Retrieves the round's open parts; `ended` when every part is terminal. */
export async function refreshRound(round: BatchRound, svc: Pick<BatchServices, 'provider'>): Promise<{ round: BatchRound; ended: boolean }> {
  const parts: BatchPart[] = [];
  for (const p of round.parts) {
    if (isTerminal(p.status)) {
      parts.push(p);
      continue;
    }
    const info = await svc.provider(p, round.runId).retrieve(p.batchId);
    parts.push({ ...p, status: info.status, counts: info.counts });
  }
  return { round: { ...round, parts }, ended: parts.every((p) => isTerminal(p.status)) };
}
