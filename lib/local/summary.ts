// The end-of-run summary: a table per stage (in, kept, rejected by reason, failed), tokens and
// cost per model, wall time, and the conservation verdict.
import Table from 'cli-table3';
import type { RunStats } from '../pipeline/stats.ts';
import { usageFromCounters, type ModelUsage } from '../pipeline/llm-adapter.ts';
import { formatUSD } from '../util/money.ts';

export function usageByModel(stats: RunStats): ModelUsage[] {
  return usageFromCounters(Object.values(stats.stages).map((s) => s!.counters));
}

export function formatSummary(stats: RunStats, wallMs: number): string {
  const stages = new Table({ head: ['stage', 'in', 'kept', 'rejected (by reason)', 'failed'], style: { head: [], border: [] }, wordWrap: true, colWidths: [15, 8, 8, 60, 10] });
  for (const [stage, s] of Object.entries(stats.stages)) {
    const rej = Object.entries(s!.rejected)
      .sort((a, b) => b[1] - a[1])
      .map(([r, n]) => `${r} ${n}`)
      .join(', ');
    const failed = Object.entries(s!.failed)
      .map(([r, n]) => `${r} ${n}`)
      .join(', ');
    stages.push([stage, s!.in, s!.kept, rej || '-', failed || '0']);
  }
  const usage = usageByModel(stats);
  const models = new Table({ head: ['role', 'model', 'requests', 'cache hits', 'prompt tok', 'completion tok', 'cost $'], style: { head: [], border: [] } });
  // Batch mode: how many of the requests went through the Batch API (at the batch price).
  for (const u of usage) models.push([u.role, u.model, u.batchRequests ? `${u.requests} (${u.batchRequests} batch)` : u.requests, u.cacheHits, u.promptTokens, u.completionTokens, u.unpriced ? 'unknown (no price)' : u.costUSD.toFixed(4)]);
  const total = usage.reduce((a, u) => a + u.costUSD, 0);
  const saved = usage.reduce((a, u) => a + u.savedUSD, 0);
  const unpriced = usage.filter((u) => u.unpriced > 0).map((u) => u.model);
  const lines = [
    stages.toString(),
    usage.length ? models.toString() : '(no LLM calls)',
    `LLM cost: ${formatUSD(total, unpriced)}${saved > 0 ? ` (cache and cassette hits saved ${formatUSD(saved, unpriced)})` : ''}   wall time: ${(wallMs / 1000).toFixed(1)} s`,
    stats.conservation.ok
      ? 'Conservation: in = kept + rejected + failed holds for every stage and shard.'
      : `CONSERVATION VIOLATED:\n  ${stats.conservation.problems.join('\n  ')}`,
  ];
  return lines.join('\n');
}
