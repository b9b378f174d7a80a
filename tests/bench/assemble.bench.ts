// npm run bench:assemble — assemble as a parallel stage (plan, a task per Parquet part, finish)
// against the single-invocation assemble it replaced (tests/helpers/assemble-single.ts), on one
// synthetic run (files + SQLite: no S3 latency), each step in a fresh child process so its time and
// peak RSS (getrusage maxRSS) are its own, as in a Lambda invocation. Prints per-task time and
// peak RSS, the plan's and the finish's, and an extrapolation to paper scale (53,000 shards:
// 1.3M samples, ~4M rejected records) with its assumptions.
//   npx tsx tests/bench/assemble.bench.ts [--samples 30000] [--shards 300] [--rejected 90000] [--part-rows 10000]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { keys } from '../../lib/pipeline/keys.ts';
import { HUB_LIMITS, type PartLimits } from '../../lib/pipeline/parquet-parts.ts';
import { assembleFinish, assembleTask, planAssemble } from '../../lib/pipeline/assemble.ts';
import { writeRunReport } from '../../lib/report/index.ts';
import { FileBlobStore } from '../../lib/store/file-blob-store.ts';
import type { BacktranslatedRecord } from '../../lib/stages/backtranslate.ts';
import { mulberry32 } from '../../lib/util/random.ts';
import { assembleRunSingle } from '../helpers/assemble-single.ts';
import { localDepsIn } from '../helpers/local-deps.ts';
import { cutParts, type Source } from '../../lib/pipeline/assemble-plan.ts';
import { computeStats } from '../../lib/pipeline/stats.ts';
import type { ShardState } from '../../lib/store/ports.ts';
import { createHash } from 'node:crypto';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const sarg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : '';
};
const RUN = 'run-bench-assemble';
const INFO = { mode: 'full', models: { generate: 'g', reverse: 'r', solve: 's' } };

// ---- child: one step, its time and peak RSS -------------------------------------------------
async function child(): Promise<void> {
  const dir = sarg('dir');
  const what = sarg('child');
  const limits = JSON.parse(sarg('limits') || 'null') as PartLimits | null;
  const { deps, db } = localDepsIn(dir);
  const t0 = performance.now();
  let extra: unknown = null;
  if (what === 'single') await assembleRunSingle(RUN, { ...INFO, limits: limits ?? undefined }, deps);
  else if (what === 'plan') extra = await planAssemble(RUN, { limits: limits ?? undefined }, deps).then((p) => ({ id: p.id, tasks: p.parts.length }));
  else if (what === 'task') extra = await assembleTask(RUN, sarg('plan'), arg('task', 0), deps).then((r) => ({ config: r.config, part: r.part, rows: r.rows }));
  else if (what === 'finish') await assembleFinish(RUN, sarg('plan'), INFO, deps);
  else if (what === 'report') await writeRunReport(RUN, deps.blobs);
  const ms = performance.now() - t0;
  db.close();
  process.stdout.write(JSON.stringify({ ms, rssMb: process.resourceUsage().maxRSS / 1024, extra }) + '\n');
}

// ---- parent: the synthetic run, then every step in a child ------------------------------------
const rand = mulberry32(11);
const vocab = Array.from({ length: 2000 }, () => Array.from({ length: 3 + Math.floor(rand() * 7) }, () => String.fromCharCode(97 + Math.floor(rand() * 26))).join(''));
const text = (n: number) => Array.from({ length: n }, () => (rand() < 0.1 ? String(Math.floor(rand() * 10000)) : vocab[Math.floor(rand() * vocab.length)])).join(' ');
const sample = (id: string, i: number): BacktranslatedRecord => ({
  id,
  instruction: `${text(60)} ${i}?`,
  output: `${text(250)}\nSo the answer is \\boxed{${i}}.`,
  answer: String(i),
  code: `input = {"a": ${i}}\n\ndef solve(input):\n    # ${text(20)}\n    return input["a"]\n\noutput = solve(input)\nprint(output)\n`,
  code_output: String(i),
  provenance: { source: 'generated', model: 'Qwen/Qwen2.5-72B-Instruct', sample: i % 100, variant: 0, examples: ['gsm8k-train-0001', 'gsm8k-train-0002'], models: { reverse: 'Qwen/Qwen3-8B', solve: 'Qwen/Qwen3-8B' } },
});
/** A rejected record as the stage received it: an executed Code CoT (~1 KB) with its reason. */
const rejection = (id: string, stage: string, i: number) => ({
  id,
  stage,
  reason: ['too_short', 'exec_error', 'duplicate', 'answer_mismatch'][i % 4],
  detail: `detail ${i}`,
  record: { id, code: `def f():\n    # ${text(80)}\n    return ${i}\nprint(f())\n`, stdout: String(i), provenance: { source: 'generated', sample: i } },
});

async function buildRun(dir: string, samples: number, shards: number, rejected: number): Promise<void> {
  const { deps, db } = localDepsIn(dir);
  await deps.state.createRun({ runId: RUN, createdAt: new Date(0).toISOString(), status: 'running', input: 'in.jsonl', mode: 'full', expected: { generate: shards, unify: 1 } });
  const jsonl = (rows: object[]) => rows.map((r) => JSON.stringify(r) + '\n').join('');
  const stages = ['execute', 'filter', 'dedup', 'backtranslate'];
  let n = 0;
  let r = 0;
  for (let s = 0; s < shards; s++) {
    const shard = `g${String(s).padStart(5, '0')}`;
    const k = Math.floor(((s + 1) * samples) / shards) - Math.floor((s * samples) / shards);
    await deps.blobs.put(keys.survivors(RUN, 'backtranslate', shard), jsonl(Array.from({ length: k }, () => sample(`gen-${shard}-${n}`, n++))));
    const rj = Math.floor(((s + 1) * rejected) / shards) - Math.floor((s * rejected) / shards);
    // The shard's rejections spread over its stages, each stage's count in its record.
    const per = stages.map((_, i) => Math.floor(((i + 1) * rj) / stages.length) - Math.floor((i * rj) / stages.length));
    // What a stage keeps is what the next one reads (the conservation check between stages).
    let kept = k;
    for (let i = stages.length - 1; i >= 0; i--) {
      const stage = stages[i]!;
      const list = Array.from({ length: per[i]! }, () => rejection(`rej-${r}`, stage, r++));
      if (list.length) await deps.blobs.put(keys.rejected(RUN, stage, shard), jsonl(list));
      const reasons: Record<string, number> = {};
      for (const x of list) reasons[x.reason!] = (reasons[x.reason!] ?? 0) + 1;
      await deps.state.recordShard({ runId: RUN, stage, shard, counts: { in: kept + list.length, kept, rejected: reasons, failed: {}, counters: {} }, next: [] });
      kept += list.length;
    }
  }
  await deps.blobs.put(keys.survivors(RUN, 'dedup', 'u00000'), jsonl(Array.from({ length: 100 }, (_, i) => ({ id: `u-${i}`, code: `print(${i})`, stdout: String(i) }))));
  await deps.state.recordShard({ runId: RUN, stage: 'dedup', shard: 'u00000', counts: { in: 100, kept: 100, rejected: {}, failed: {}, counters: {} }, next: [] });
  db.close();
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;

interface Step {
  ms: number;
  rssMb: number;
  extra: unknown;
}
/** The plan's and the finish's work that grows with the run, on synthetic inputs of paper size. */
function paperCpu(shards: number): { sources: number; records: number; cutMs: number; hashMs: number; statsMs: number } {
  const samples: Source[] = Array.from({ length: shards }, (_, i) => ({ key: `runs/x/backtranslate/g${String(i).padStart(5, '0')}.jsonl`, rows: 25, group: 'samples' }));
  const rejected: Source[] = Array.from({ length: shards * 4 }, (_, i) => ({ key: `runs/x/rejected/filter/g${String(i).padStart(6, '0')}.jsonl`, rows: 19, group: 'filter/rejected', outcome: 'rejected' }));
  let t0 = performance.now();
  let parts = 0;
  for (const c of ['default', 'sft', 'rlvr'] as const) parts += cutParts(c, samples, () => 3300, HUB_LIMITS).length;
  parts += cutParts('rejected', rejected, () => 1800, HUB_LIMITS).length;
  const cutMs = performance.now() - t0;
  const stages = ['generate', 'execute', 'filter', 'dedup', 'backtranslate', 'dedup:prepared:generate', 'ingest'];
  const states: ShardState[] = [];
  for (let i = 0; i < shards; i++) {
    for (const stage of stages) states.push({ runId: 'x', stage, shard: `g${String(i).padStart(5, '0')}`, counts: { in: 100, kept: 80, rejected: { too_short: 12, exec_error: 8 }, failed: {}, counters: { records: 100, 'tokens.in': 123456, 'tokens.out': 23456 } }, next: [] });
  }
  t0 = performance.now();
  const digest = createHash('sha256');
  for (const s of [...states].sort((a, b) => (a.stage + '/' + a.shard < b.stage + '/' + b.shard ? -1 : 1))) digest.update(JSON.stringify([s.stage, s.shard, s.counts]));
  digest.digest('hex');
  const hashMs = performance.now() - t0;
  t0 = performance.now();
  computeStats(states);
  const statsMs = performance.now() - t0;
  void parts;
  return { sources: samples.length * 3 + rejected.length, records: states.length, cutMs, hashMs, statsMs };
}

const self = fileURLToPath(import.meta.url);
function step(dir: string, what: string, more: string[] = [], limits?: PartLimits): Step {
  const out = execFileSync(process.execPath, ['--import', 'tsx', self, '--child', what, '--dir', dir, ...(limits ? ['--limits', JSON.stringify(limits)] : []), ...more], { encoding: 'utf8', maxBuffer: 1 << 24 });
  return JSON.parse(out.trim().split('\n').at(-1)!) as Step;
}

async function parent(): Promise<void> {
  const samples = arg('samples', 30_000);
  const shards = arg('shards', 300);
  const rejected = arg('rejected', 90_000);
  const partRows = arg('part-rows', 10_000);
  // Row groups of a quarter part, so the parts measured hold several (as a Hub-sized part's ten do).
  const limits: PartLimits = { ...HUB_LIMITS, maxRows: partRows, rowGroupRows: Math.max(1, Math.floor(partRows / 4)) };
  const load = () => loadavg().map((x) => x.toFixed(1)).join(' ');
  console.log(`bench:assemble: ${samples.toLocaleString()} samples (~3 KB) in ${shards} shards, ${rejected.toLocaleString()} rejected records (~1.5 KB) over 4 stages, parts of ${partRows.toLocaleString()} rows; load average ${load()}`);
  const dir = mkdtempSync(join(tmpdir(), 'bench-assemble-'));
  const dir2 = mkdtempSync(join(tmpdir(), 'bench-assemble-'));
  try {
    await buildRun(dir, samples, shards, rejected);
    await buildRun(dir2, samples, shards, rejected);
    const idle = step(dir, 'noop');
    console.log(`an idle child (node + tsx + the modules): peak RSS ${idle.rssMb.toFixed(0)} MiB (subtracted as "+" below)`);
    const single = step(dir2, 'single', [], limits);
    console.log(`single invocation (baseline, same run, same limits): ${(single.ms / 1000).toFixed(1)} s, peak RSS ${single.rssMb.toFixed(0)} MiB (+${(single.rssMb - idle.rssMb).toFixed(0)})`);

    const plan = step(dir, 'plan', [], limits);
    const { id, tasks: taskCount } = plan.extra as { id: string; tasks: number };
    console.log(`plan: ${(plan.ms / 1000).toFixed(2)} s, peak RSS ${plan.rssMb.toFixed(0)} MiB (+${(plan.rssMb - idle.rssMb).toFixed(0)})`);
    const tasks: (Step & { config: string; rows: number })[] = [];
    for (let i = 0; i < taskCount; i++) {
      const s = step(dir, 'task', ['--plan', id, '--task', String(i)], limits);
      const e = s.extra as { config: string; part: number; rows: number };
      tasks.push({ ...s, config: e.config, rows: e.rows });
      console.log(`  task ${String(i).padStart(2)} ${e.config.padEnd(8)} part ${e.part}: ${e.rows.toLocaleString()} rows, ${(s.ms / 1000).toFixed(2)} s, peak RSS ${s.rssMb.toFixed(0)} MiB (+${(s.rssMb - idle.rssMb).toFixed(0)})`);
    }
    // Memory against part size: the first part of each big config again, planned at twice the rows.
    const twice: PartLimits = { ...limits, maxRows: 2 * partRows };
    const plan2 = step(dir, 'plan', [], twice).extra as { id: string; tasks: number };
    const firstOf = new Map<string, number>();
    tasks.forEach((t, i) => firstOf.has(t.config) || firstOf.set(t.config, i));
    const summary2 = JSON.parse((await new FileBlobStore(join(dir, 'blobs')).get(keys.assemblePlan(RUN, plan2.id)))!.toString()) as { parts: { config: string; rows: number }[] };
    const slope = new Map<string, number>();
    for (const cfg of ['default', 'sft', 'rlvr', 'rejected']) {
      const j = summary2.parts.findIndex((p) => p.config === cfg);
      const i = firstOf.get(cfg);
      if (j < 0 || i === undefined || summary2.parts[j]!.rows !== 2 * partRows) continue;
      const s2 = step(dir, 'task', ['--plan', plan2.id, '--task', String(j)], twice);
      const per = (s2.rssMb - tasks[i]!.rssMb) / partRows;
      slope.set(cfg, per);
      console.log(`  ${cfg} part of ${(2 * partRows).toLocaleString()} rows: ${(s2.ms / 1000).toFixed(2)} s, peak RSS ${s2.rssMb.toFixed(0)} MiB: ${(per * 1024).toFixed(2)} KiB per extra row`);
    }
    const finish = step(dir, 'finish', ['--plan', id]);
    const report = step(dir, 'report');
    console.log(`finish: ${(finish.ms / 1000).toFixed(2)} s (of which the report page, rebuilt alone: ${(report.ms / 1000).toFixed(2)} s), peak RSS ${finish.rssMb.toFixed(0)} MiB (+${(finish.rssMb - idle.rssMb).toFixed(0)})`);
    const sumTasks = tasks.reduce((a, t) => a + t.ms, 0);
    const longest = Math.max(...tasks.map((t) => t.ms));
    const typical = median(tasks.map((t) => t.ms));
    const maxRss = Math.max(...tasks.map((t) => t.rssMb));
    console.log(
      `${tasks.length} tasks: sum ${(sumTasks / 1000).toFixed(1)} s (${(sumTasks / single.ms).toFixed(2)}x the single), median ${(typical / 1000).toFixed(2)} s, longest ${(longest / 1000).toFixed(2)} s; wall floor with every task in parallel ` +
        `(plan + longest task + finish) ${((plan.ms + longest + finish.ms) / 1000).toFixed(1)} s = ${((plan.ms + longest + finish.ms) / single.ms).toFixed(2)}x the single invocation; ` +
        `largest task peak RSS +${(maxRss - idle.rssMb).toFixed(0)} MiB vs the single's +${(single.rssMb - idle.rssMb).toFixed(0)} MiB; load average ${load()}`,
    );

    // ---- paper scale, extrapolated from the measured rates --------------------------------
    // Rows/s per config: the median task's (a task that shared the cores with a burst of other work is an outlier).
    const rate = (cfgs: string[]) => median(tasks.filter((t) => cfgs.includes(t.config)).map((t) => t.rows / (t.ms / 1000)));
    /** Peak RSS above the idle child of a part of `rows` rows: the measured part plus the slope per extra row. */
    const memAt = (cfg: string, rows: number) => {
      const t = tasks[firstOf.get(cfg)!]!;
      return t.rssMb - idle.rssMb + (slope.get(cfg) ?? NaN) * (rows - t.rows);
    };
    const P = { shards: 53_000, samples: 1_300_000, rejected: 4_000_000 };
    const sampleJson = 3_300; // bytes of a data row's JSON (~3 KB samples, as here and in bench:dataset)
    const dataRowsPerPart = Math.min(HUB_LIMITS.maxRows, Math.floor(HUB_LIMITS.maxBytes / sampleJson));
    const rows = (n: number, per: number) => Math.ceil(n / per);
    const parts = { data: rows(P.samples, dataRowsPerPart), sft: rows(P.samples, HUB_LIMITS.maxRows), rlvr: rows(P.samples, HUB_LIMITS.maxRows), rejected: rows(P.rejected, HUB_LIMITS.maxRows), codegen: 1 };
    const n = Object.values(parts).reduce((a, b) => a + b, 0);
    const getMs = 20;
    const inFlight = 16;
    const tData = dataRowsPerPart / rate(['default']) + (dataRowsPerPart / (P.samples / P.shards)) * getMs / inFlight / 1000;
    const tRej = HUB_LIMITS.maxRows / rate(['rejected']) + (HUB_LIMITS.maxRows / (P.rejected / (P.shards * 4))) * getMs / inFlight / 1000;
    const tSft = HUB_LIMITS.maxRows / rate(['sft', 'rlvr']) + (HUB_LIMITS.maxRows / (P.samples / P.shards)) * getMs / inFlight / 1000;
    const recordsHere = samples + rejected;
    console.log('paper scale (extrapolated; assumptions below):');
    console.log(`  tasks: ${n} (data ${parts.data} parts of ${dataRowsPerPart.toLocaleString()} rows, sft ${parts.sft}, rlvr ${parts.rlvr}, rejected ${parts.rejected}, codegen ${parts.codegen})`);
    console.log(`  time per task: data ${tData.toFixed(0)} s, sft/rlvr ${tSft.toFixed(0)} s, rejected ${tRej.toFixed(0)} s (15-minute limit: 900 s)`);
    console.log(`  memory per task (peak RSS above the runtime, linear in rows from the two part sizes): data ~${memAt('default', dataRowsPerPart).toFixed(0)} MiB, sft ~${memAt('sft', HUB_LIMITS.maxRows).toFixed(0)} MiB, rlvr ~${memAt('rlvr', HUB_LIMITS.maxRows).toFixed(0)} MiB, rejected ~${memAt('rejected', HUB_LIMITS.maxRows).toFixed(0)} MiB (function: 2,048 MB)`);
    // The plan's and the finish's CPU at paper scale, measured here on synthetic inputs of that size.
    const cpu = paperCpu(P.shards);
    const listS = ((P.shards * 5) / 1000) * 0.03;
    const ddbS = ((P.shards * 7 * 600) / 2 ** 20) * 0.05 / 16;
    console.log(`  plan: cutting ${cpu.sources.toLocaleString()} source blobs into parts ${(cpu.cutMs / 1000).toFixed(2)} s + hashing ${cpu.records.toLocaleString()} shard records ${(cpu.hashMs / 1000).toFixed(2)} s (measured) + S3 listings ~${listS.toFixed(0)} s + shard records from DynamoDB ~${ddbS.toFixed(0)} s + ${n + 1} plan PUTs`);
    console.log(`  finish without the report: computeStats over ${cpu.records.toLocaleString()} shard records ${(cpu.statsMs / 1000).toFixed(2)} s (measured) + the shard records again ~${ddbS.toFixed(0)} s + a few PUTs`);
    console.log(`  the report page (reads every record): ${((report.ms / recordsHere) * (P.samples + P.rejected) / 1000 / 60).toFixed(0)} min at this rate: not bounded by the part size: on Lambda the finish skips it past 1M dataset rows (caco report builds it)`);
    console.log(`  wall time with every task in parallel (assemble's maxConcurrency 20): ~${Math.ceil(n / 20)} waves x ~${Math.max(tData, tRej, tSft).toFixed(0)} s`);
    console.log(`  assumptions: DynamoDB query pages of 1 MB at 50 ms over 16 partition keys, ~600 B a shard record; S3 LIST 1,000 keys at 30 ms; S3 GET ${getMs} ms, ${inFlight} in flight per task; ~25 samples and ~19 rejected records per blob (53,000 shards, rejections over 4 stages); rows/s as measured here per config; memory linear in rows per part; data parts cut at 256 MB / ${sampleJson} B per row`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(dir2, { recursive: true, force: true });
  }
}

if (process.argv.includes('--child')) await child();
else await parent();
