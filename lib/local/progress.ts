// Progress of a local run on the terminal: one bar per stage (records done / available so far,
// kept, rejected, rate, ETA) plus tokens and cost. Off a TTY it prints a status line every few
// seconds instead; `json` mode prints one JSON line per finished shard for scripts.
import cliProgress from 'cli-progress';
import type { ShardState, StageName } from '../store/ports.ts';
import { usageFromCounters } from '../pipeline/llm-adapter.ts';
import { BRANCHES, CACO, sourceStage, type PipelineSpec } from '../pipeline/spec.ts';

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
  for (const u of usageFromCounters(shards.map((s) => s.counts.counters))) {
    tokens += u.promptTokens + u.completionTokens;
    costUSD += u.costUSD;
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
  return { stages: order.filter((s) => s !== source && g(s).total > 0).map(g), tokens, costUSD };
}

/** Seconds left at the current rate, or '-' when done or not started. */
function eta(done: number, total: number, perSecond: number): string {
  if (done >= total || perSecond <= 0) return '-';
  const s = Math.round((total - done) / perSecond);
  return s < 90 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

export interface ProgressView {
  update(shards: readonly ShardState[]): void;
  shard(event: Record<string, unknown>): void;
  stop(): void;
}

export function createProgress(mode: ProgressMode, plan: { seeds: number; samples: number; mode: string }): ProgressView {
  const started = Date.now();
  if (mode === 'quiet') return { update() {}, shard() {}, stop() {} };
  if (mode === 'json') {
    return {
      update() {},
      shard(event) {
        process.stdout.write(JSON.stringify({ event: 'shard', t: Date.now() - started, ...event }) + '\n');
      },
      stop() {},
    };
  }
  if (mode === 'lines') {
    let last = 0;
    let latest: readonly ShardState[] = [];
    const print = () => {
      const s = summarize(latest, plan);
      const parts = s.stages.map((p) => `${p.stage} ${p.done}/${p.total} (kept ${p.kept}, rejected ${p.rejected}${p.failed ? `, failed ${p.failed}` : ''})`);
      process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0)}s] ${parts.join(' | ')} | ${s.tokens} tokens $${s.costUSD.toFixed(4)}\n`);
    };
    return {
      update(shards) {
        latest = shards;
        if (Date.now() - last > 5000) {
          last = Date.now();
          print();
        }
      },
      shard() {},
      stop() {
        print();
      },
    };
  }
  const multi = new cliProgress.MultiBar(
    {
      format: ' {stage} |{bar}| {value}/{total} kept {kept} rejected {rejected}{failedText} | {rate}/s ETA {etaText}',
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      etaBuffer: 50,
      fps: 5,
      stream: process.stderr,
    },
    cliProgress.Presets.shades_grey,
  );
  const bars = new Map<StageName, cliProgress.SingleBar>();
  const footer = multi.create(1, 0, {}, { format: ' {text}' });
  return {
    update(shards) {
      const s = summarize(shards, plan);
      const secs = Math.max(0.001, (Date.now() - started) / 1000);
      for (const p of s.stages) {
        let bar = bars.get(p.stage);
        const payload = {
          stage: p.stage.padEnd(13),
          kept: p.kept,
          rejected: p.rejected,
          failedText: p.failed ? ` failed ${p.failed}` : '',
          rate: (p.done / secs).toFixed(1),
          etaText: eta(p.done, p.total, p.done / secs),
        };
        if (!bar) {
          bar = multi.create(p.total, p.done, payload);
          bars.set(p.stage, bar);
        }
        bar.setTotal(Math.max(p.total, 1));
        bar.update(p.done, payload);
      }
      footer.update(0, { text: `${s.tokens.toLocaleString('en-US')} tokens bought, $${s.costUSD.toFixed(4)}, ${secs.toFixed(0)} s` });
    },
    shard() {},
    stop() {
      multi.stop();
    },
  };
}
