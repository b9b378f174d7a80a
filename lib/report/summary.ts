// What the report's charts show, derived from stats.json (the run's own numbers: the page never
// recounts what stats.json already says) plus what only the records tell (clusters, shapes).
import { usageFromCounters, type ModelUsage } from '../pipeline/llm-adapter.ts';
import type { StageStats } from '../pipeline/stats.ts';
import { EXEC_MS_BOUNDS } from '../stages/execute.ts';
import type { AnswerShape } from './shape.ts';
import type { Verdict } from './record.ts';

/** stats.json as assemble writes it (lib/pipeline/assemble.ts). */
export interface StatsJson {
  runId: string;
  mode: string;
  input: string;
  samples: number;
  codegen: number;
  models: Record<string, string>;
  stages: Record<string, StageStats>;
  conservation: { ok: boolean; problems: string[] };
}

/** Records of one (stage, verdict, reason): a contiguous range of the browser's record order. */
export interface RecordGroup {
  stage: string;
  verdict: Verdict;
  reason: string;
  count: number;
  /** Index of the group's first record in the whole order. */
  start: number;
  /** Chunk files `data/g<file>-<k>.js`, each `chunkSize` records (the last one fewer). */
  chunks: number;
  file: number;
}

export interface AwsCostSummary {
  region: string;
  pricesAsOf: string;
  total: number;
  lines: { function: string; gbSeconds: number; lambda: number; sqs: number; dynamodb: number; s3: number; total: number }[];
}

export interface ReportData {
  format: 'caco-report/1';
  stats: StatsJson;
  /** Stage order as stats.json lists it (the pipeline's own order). */
  stages: string[];
  llm: ModelUsage[];
  aws: AwsCostSummary | null;
  sandbox: { statuses: { status: string; count: number }[]; histogram: { label: string; count: number }[]; totalMs: number | null };
  decontam: { benchmark: string; stage: string; count: number }[];
  clusters: {
    near: { size: number; clusters: number }[];
    exact: { size: number; clusters: number }[];
    largest: { id: string; kind: 'near' | 'exact'; size: number }[];
  };
  shapes: { shape: AnswerShape; all: number; kept: number; index: number }[];
  groups: RecordGroup[];
  chunkSize: number;
  total: number;
  seedBuckets: number;
  seeds: number;
}


export function sandboxSummary(stats: StatsJson): ReportData['sandbox'] {
  const c = stats.stages.execute?.counters ?? {};
  const statuses = Object.entries(c)
    .filter(([k]) => k.startsWith('status_'))
    .map(([k, count]) => ({ status: k.slice('status_'.length), count }))
    .sort((a, b) => b.count - a.count);
  const failed = stats.stages.execute?.failed ?? {};
  for (const [reason, count] of Object.entries(failed)) statuses.push({ status: `failed: ${reason}`, count });
  const recorded = Object.keys(c).some((k) => k.startsWith('exec_ms_'));
  const histogram = recorded
    ? [
        ...EXEC_MS_BOUNDS.map((b, i) => ({ label: `${i === 0 ? 0 : EXEC_MS_BOUNDS[i - 1]}–${b} ms`, count: c[`exec_ms_le_${b}`] ?? 0 })),
        { label: `> ${EXEC_MS_BOUNDS[EXEC_MS_BOUNDS.length - 1]} ms`, count: c[`exec_ms_over_${EXEC_MS_BOUNDS[EXEC_MS_BOUNDS.length - 1]}`] ?? 0 },
      ]
    : [];
  return { statuses, histogram, totalMs: recorded ? (c.exec_ms_total ?? null) : null };
}

/** Rejections named `contaminated:<benchmark>` (lib/decontam), per benchmark and stage. */
export function decontamSummary(stats: StatsJson): ReportData['decontam'] {
  const out: ReportData['decontam'] = [];
  for (const [stage, st] of Object.entries(stats.stages)) {
    for (const [reason, count] of Object.entries(st.rejected)) {
      if (reason.startsWith('contaminated:')) out.push({ benchmark: reason.slice('contaminated:'.length), stage, count });
    }
  }
  return out.sort((a, b) => b.count - a.count || a.benchmark.localeCompare(b.benchmark));
}

export function llmSummary(stats: StatsJson): ModelUsage[] {
  return usageFromCounters(Object.values(stats.stages).map((s) => s.counters));
}

/** Duplicate groups from the dedup stage's rejections (detail = the survivor's id). */
export class ClusterCounter {
  private near = new Map<string, number>();
  private exact = new Map<string, number>();

  add(reason: string, survivor: string | undefined): void {
    const m = reason === 'near_duplicate' ? this.near : reason === 'duplicate' ? this.exact : null;
    if (!m || !survivor) return;
    m.set(survivor, (m.get(survivor) ?? 0) + 1);
  }

  summary(): ReportData['clusters'] {
    const hist = (m: Map<string, number>) => {
      const h = new Map<number, number>();
      for (const n of m.values()) h.set(n + 1, (h.get(n + 1) ?? 0) + 1);
      return [...h].map(([size, clusters]) => ({ size, clusters })).sort((a, b) => a.size - b.size);
    };
    const largest = [
      ...[...this.near].map(([id, n]) => ({ id, kind: 'near' as const, size: n + 1 })),
      ...[...this.exact].map(([id, n]) => ({ id, kind: 'exact' as const, size: n + 1 })),
    ]
      .sort((a, b) => b.size - a.size || a.id.localeCompare(b.id))
      .slice(0, 20);
    return { near: hist(this.near), exact: hist(this.exact), largest };
  }
}
