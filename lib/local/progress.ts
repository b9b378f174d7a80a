// Progress of a local run on the terminal: one bar per stage (records done / available so far,
// kept, rejected, rate, ETA) plus tokens and cost. Off a TTY it prints a status line every few
// seconds instead; `json` mode prints one JSON line per finished shard for scripts.
import cliProgress from 'cli-progress';
import type { ShardState, StageName } from '../store/ports.ts';
import { usageFromCounters } from '../pipeline/llm-adapter.ts';
import { BRANCHES, CACO, sourceStage, type PipelineSpec } from '../pipeline/spec.ts';
import type { EndpointHealth } from '../llm/circuit-breaker.ts';
import { formatUSD } from '../util/money.ts';

export type ProgressMode = 'bars' | 'lines' | 'json' | 'quiet';

export interface StageProgress {
  stage: StageName;
  done: number;
  total: number;
  kept: number;
  rejected: number;
  failed: number;
}

/**
 * Records done per stage, and what is available to each so far: on every branch a stage runs on,
 * what its predecessor kept of that branch's shards (the first stage: the seeds ingest kept, or
 * the samples to generate). Shard stages only, in pipeline order.
 */
export function summarize(
  shards: readonly ShardState[],
  plan: { seeds: number; samples: number; mode: string },
  spec: PipelineSpec = CACO,
): {
  stages: StageProgress[];
  tokens: number;
  costUSD: number;
  /** Models whose answers have no price in the config (their cost is unknown). */
  unpriced: string[];
} {
  const agg = new Map<StageName, StageProgress>();
  let tokens = 0;
  let costUSD = 0;
  const order = spec.stages.filter((s) => s.kind !== 'fanIn').map((s) => s.name);
  for (const stage of order) agg.set(stage, { stage, done: 0, total: 0, kept: 0, rejected: 0, failed: 0 });
  for (const s of shards) {
    const a = agg.get(s.stage);
    if (!a) continue;
    a.done += s.counts.counters.records ?? s.counts.in;
    a.kept += s.counts.kept;
    a.rejected += Object.values(s.counts.rejected).reduce((x, y) => x + y, 0);
    a.failed += Object.values(s.counts.failed).reduce((x, y) => x + y, 0);
  }
  const unpriced: string[] = [];
  for (const u of usageFromCounters(shards.map((s) => s.counts.counters))) {
    tokens += u.promptTokens + u.completionTokens;
    costUSD += u.costUSD;
    if (u.unpriced > 0) unpriced.push(u.model);
  }
  const source = sourceStage(spec);
  const g = (s: StageName) => agg.get(s)!;
  const keptOn = (stage: StageName, prefix: string) =>
    shards.filter((s) => s.stage === stage && s.shard.startsWith(prefix)).reduce((a, s) => a + s.counts.kept, 0);
  for (const b of BRANCHES) {
    if ((b === 'unify' && plan.mode === 'synthesize') || (b === 'generate' && plan.mode === 'unify')) continue;
    const { prefix, stages } = spec.branches[b];
    stages.forEach((stage, i) => {
      g(stage).total += i > 0 ? keptOn(stages[i - 1]!, prefix) : b === 'generate' ? plan.samples : g(source).kept;
    });
  }
  return { stages: order.filter((s) => s !== source && g(s).total > 0).map(g), tokens, costUSD, unpriced };
}

/** Seconds left at the current rate, or '-' when done or not started. */
function eta(done: number, total: number, perSecond: number): string {
  if (done >= total || perSecond <= 0) return '-';
  const s = Math.round((total - done) / perSecond);
  return s < 90 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

/** An LLM endpoint as the display shows it: which roles use it, and its health. */
export type EndpointView = EndpointHealth & { roles: string[]; baseURL: string };

/** One line per endpoint that is failing ('' when all are fine): breaker, last error, next try. */
export function endpointLines(endpoints: readonly EndpointView[], now = Date.now()): string[] {
  return endpoints
    .filter((e) => e.failingSince !== null)
    .map((e) => {
      const next = e.nextTryAt !== null ? `, next try in ${Math.max(0, Math.ceil((e.nextTryAt - now) / 1000))} s` : '';
      const breaker = e.state === 'closed' ? 'calls failing' : e.state === 'open' ? 'breaker OPEN' : 'breaker half-open (probing)';
      const err = (e.lastError ?? '').split('\n')[0]!.slice(0, 120);
      return `LLM ${e.roles.join('/')} ${e.baseURL}: ${breaker}, failing for ${Math.round((now - e.failingSince!) / 1000)} s (${e.failuresSinceSuccess} failed attempts), last error: ${err}${next}`;
    });
}

/**
 * Records per second per stage, measured from when the stage first had work: a stage that starts
 * late is not averaged over the whole run (its rate would climb from near zero), and the rate is
 * held between two shard completions instead of decaying with the clock.
 */
class StageRates {
  private readonly firstWork = new Map<string, number>();
  private readonly last = new Map<string, { done: number; rate: number }>();
  rate(p: StageProgress, now: number): number {
    if (!this.firstWork.has(p.stage)) this.firstWork.set(p.stage, now);
    const prev = this.last.get(p.stage);
    if (prev && prev.done === p.done) return prev.rate;
    const secs = Math.max(1, (now - this.firstWork.get(p.stage)!) / 1000);
    const rate = p.done / secs;
    this.last.set(p.stage, { done: p.done, rate });
    return rate;
  }
}

export interface ProgressView {
  update(shards: readonly ShardState[], endpoints?: readonly EndpointView[]): void;
  shard(event: Record<string, unknown>): void;
  /** A message printed above the bars (never between two redraws, so no ghost lines). */
  log(line: string): void;
  stop(): void;
}

export function createProgress(mode: ProgressMode, plan: { seeds: number; samples: number; mode: string }): ProgressView {
  const started = Date.now();
  if (mode === 'quiet') return { update() {}, shard() {}, log() {}, stop() {} };
  if (mode === 'json') {
    return {
      update() {},
      shard(event) {
        process.stdout.write(JSON.stringify({ event: 'shard', t: Date.now() - started, ...event }) + '\n');
      },
      log(line) {
        process.stderr.write(line + '\n');
      },
      stop() {},
    };
  }
  if (mode === 'lines') {
    let last = 0;
    let latest: readonly ShardState[] = [];
    let health: readonly EndpointView[] = [];
    let shownHealth = '';
    let printed = '';
    const print = (onlyIfChanged = false) => {
      const s = summarize(latest, plan);
      const parts = s.stages.map((p) => `${p.stage} ${p.done}/${p.total} (kept ${p.kept}, rejected ${p.rejected}${p.failed ? `, failed ${p.failed}` : ''})`);
      const body = `${parts.join(' | ')} | ${s.tokens} tokens ${formatUSD(s.costUSD, s.unpriced)}`;
      if (onlyIfChanged && body === printed) return;
      printed = body;
      process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0)}s] ${body}\n`);
      for (const l of endpointLines(health)) process.stderr.write(`  ${l}\n`);
    };
    return {
      update(shards, endpoints = []) {
        latest = shards;
        health = endpoints;
        // A change of an endpoint's state is printed at once, not at the next 5 s tick.
        const state = endpoints.map((e) => `${e.state}${e.failingSince !== null}`).join();
        if (Date.now() - last > 5000 || state !== shownHealth) {
          last = Date.now();
          shownHealth = state;
          print();
        }
      },
      shard() {},
      log(line) {
        process.stderr.write(line + '\n');
      },
      stop() {
        print(true); // the final state, unless the last line already showed it
      },
    };
  }
  const multi = new cliProgress.MultiBar(
    {
      format: ' {stage} |{bar}| {value}/{total} kept {kept} rejected {rejected}{failedText} | {rate}/s ETA {etaText}',
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      fps: 5,
      stream: process.stderr,
    },
    cliProgress.Presets.shades_grey,
  );
  const rates = new StageRates();
  const bars = new Map<StageName, cliProgress.SingleBar>();
  // Text lines under the bars; every placeholder has a value from the start (no literal `{text}`).
  const footer = multi.create(1, 0, { text: 'starting...' }, { format: ' {text}' });
  let llmLine: cliProgress.SingleBar | null = null;
  return {
    update(shards, endpoints = []) {
      const s = summarize(shards, plan);
      const now = Date.now();
      const secs = Math.max(0.001, (now - started) / 1000);
      for (const p of s.stages) {
        let bar = bars.get(p.stage);
        const rate = rates.rate(p, now);
        const payload = {
          stage: p.stage.padEnd(13),
          kept: p.kept,
          rejected: p.rejected,
          failedText: p.failed ? ` failed ${p.failed}` : '',
          rate: rate.toFixed(1),
          etaText: eta(p.done, p.total, rate),
        };
        if (!bar) {
          bar = multi.create(Math.max(p.total, 1), p.done, payload);
          bars.set(p.stage, bar);
        }
        bar.setTotal(Math.max(p.total, 1));
        bar.update(p.done, payload);
      }
      footer.update(0, { text: `${s.tokens.toLocaleString('en-US')} tokens bought, ${formatUSD(s.costUSD, s.unpriced)}, ${secs.toFixed(0)} s` });
      const lines = endpointLines(endpoints, now);
      if (lines.length || llmLine) {
        llmLine ??= multi.create(1, 0, { text: '' }, { format: ' {text}' });
        llmLine.update(0, { text: lines.length ? lines.join(' | ') : 'LLM endpoints: answering again' });
      }
    },
    shard() {},
    log(line) {
      multi.log(line + '\n');
      multi.update(); // draw now: the layer build may hold the event loop right after this line
    },
    stop() {
      multi.stop();
    },
  };
}
