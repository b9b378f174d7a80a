// npm run bench:pipeline [-- --sizes 500,2000] [--keep] [--trace]
// (--keep leaves the run folders in the temp dir; --trace writes the CLI's memoryUsage() once a
// second to <tmp>/mem-<size>.jsonl and prints where it was at its RSS peak.)
// N candidate programs (default 5,000 and 20,000) through generate -> execute -> filter ->
// backtranslate -> assemble in `synthesize` mode, with the fake LLM at zero latency serving
// templated, varied Caco programs (tests/bench/pipeline-fixtures/synth-rule.ts: ~8% of them bad
// in scheduled ways, some problems and answers rejected downstream). Each size runs the real CLI
// in a fresh child process, so peak RSS is per size: the orchestrator's own peak (getrusage
// maxRSS, reported by a preload at exit) and the sandbox workers' (sampled from /proc). Prints
// records/s end to end and per stage, and the 20k/5k ratio of peak RSS.
// Target: orchestrator peak RSS under 1 GB, growing at most 1.3x from 5k to 20k (it streams).
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFakeServer } from '../helpers/fake-openai-server.ts';
import { spawnCli } from '../helpers/run-cli.ts';
import { benchRule, exampleRecords } from './pipeline-fixtures/synth-rule.ts';

const args = process.argv.slice(2);
const sizesArg = args.indexOf('--sizes');
const SIZES = (sizesArg >= 0 ? args[sizesArg + 1] : '5000,20000').split(',').map(Number);
if (SIZES.some((n) => !Number.isInteger(n) || n <= 0)) throw new Error(`--sizes takes positive integers, e.g. --sizes 500,2000`);
const keep = args.includes('--keep');
const traceMem = args.includes('--trace');
const SEED_BASE = 1000;
const RSS_REPORTER = fileURLToPath(new URL('./pipeline-fixtures/report-rss.mjs', import.meta.url));
const MB = 1024 * 1024;

interface ProcSample {
  rssKb: number;
  hwmKb: number;
}

/** VmRSS/VmHWM of every live process in the group `pgid`, by pid. */
function sampleGroup(pgid: number): Map<number, ProcSample> {
  const out = new Map<number, ProcSample>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) !== pgid) continue; // field 5 (pgrp), after pid, comm, state
      const status = readFileSync(`/proc/${name}/status`, 'utf8');
      const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
      out.set(Number(name), { rssKb: kb('VmRSS'), hwmKb: kb('VmHWM') });
    } catch {
      // the process exited while we read it
    }
  }
  return out;
}

interface SizeResult {
  size: number;
  wallS: number;
  pipelineS: number;
  rate: number;
  orchestratorPeakMb: number;
  orchestratorHeapMb: number;
  workerPeakMb: number;
  workersPeakSumMb: number;
  workers: number;
  stages: { stage: string; in: number; kept: number; windowS: number; rate: number }[];
  samples: number;
  served: number;
  repeated: number;
  rejected: Record<string, number>;
}

async function runSize(size: number, dir: string): Promise<SizeResult> {
  const server = await startFakeServer({ latencyMs: 0, respond: benchRule({ seedBase: SEED_BASE }) });
  const input = join(dir, 'examples.jsonl');
  writeFileSync(input, exampleRecords().map((r) => JSON.stringify(r)).join('\n') + '\n');
  const config = {
    mode: 'synthesize',
    seed: 0,
    shardSize: 100,
    generate: { mode: 'fewshot', samples: size, k: 2 },
    backtranslate: { variants: 1, judge: false },
    sandbox: { timeoutMs: 5000 },
    llm: {
      default: { baseURL: server.baseURL, model: 'bench/coder', concurrency: 16 },
      generate: { seed: SEED_BASE },
      reverse: { model: 'bench/writer' },
      solve: { model: 'bench/solver' },
      cassette: { mode: 'live' },
    },
    local: { llmShards: 4, executeShards: 2 },
  };
  const configFile = join(dir, `run-${size}.json`);
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  const rssFile = join(dir, `rss-${size}.json`);
  const out = join(dir, `out-${size}`);

  const p = spawnCli(['run', input, '-c', configFile, '-o', out, '--json'], {
    nodeFlags: ['--import', RSS_REPORTER],
    env: { CACO_BENCH_RSS_FILE: rssFile, CACO_BENCH_MEM_TRACE: traceMem ? join(dir, `mem-${size}.jsonl`) : undefined },
  });
  // Sandbox workers: peak RSS of any one, and peak of their sum, sampled every 250 ms.
  const workerHwm = new Map<number, number>();
  let workersPeakSumKb = 0;
  const timer = setInterval(() => {
    let sum = 0;
    for (const [pid, s] of sampleGroup(p.pid)) {
      if (pid === p.pid) continue;
      workerHwm.set(pid, Math.max(workerHwm.get(pid) ?? 0, s.hwmKb));
      sum += s.rssKb;
    }
    workersPeakSumKb = Math.max(workersPeakSumKb, sum);
  }, 250);
  const exit = await p.exited;
  clearInterval(timer);
  await server.close();
  if (exit.code !== 0) throw new Error(`size ${size}: caco run exited ${exit.code ?? exit.signal}:\n${exit.stderr.slice(-3000)}`);

  const lines = exit.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const summary = lines.find((l) => l.event === 'summary');
  if (!summary?.stats) throw new Error(`size ${size}: no summary in the output`);
  if (!summary.stats.conservation.ok) throw new Error(`size ${size}: conservation failed: ${summary.stats.conservation.problems.join('; ')}`);
  const rss = JSON.parse(readFileSync(rssFile, 'utf8'));

  // Per stage: records in over the window from the first to the last finished shard of the
  // stage, widened by one mean shard time (a shard's start is not reported). Stages overlap,
  // so these are each stage's own pace, not shares of the wall time.
  const stages = Object.entries(summary.stats.stages as Record<string, { in: number; kept: number; shards: number }>)
    .filter(([st]) => ['generate', 'execute', 'filter', 'dedup', 'backtranslate'].includes(st))
    .map(([stage, st]) => {
      const ts = lines.filter((l) => l.event === 'shard' && l.stage === stage && l.outcome === 'done').map((l) => l.t as number);
      const span = ts.length ? (Math.max(...ts) - Math.min(...ts)) * (ts.length / Math.max(1, ts.length - 1)) : 0;
      const windowS = Math.max(span, 1) / 1000;
      return { stage, in: st.in, kept: st.kept, windowS, rate: st.in / windowS };
    });
  const rejected: Record<string, number> = {};
  for (const st of Object.values(summary.stats.stages as Record<string, { rejected: Record<string, number>; failed: Record<string, number> }>)) {
    for (const [k, v] of Object.entries({ ...st.rejected, ...st.failed })) rejected[k] = (rejected[k] ?? 0) + v;
  }
  const hwms = [...workerHwm.values()];
  if (traceMem) {
    const rows = readFileSync(join(dir, `mem-${size}.jsonl`), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const peak = rows.reduce((a, b) => (b.rss > a.rss ? b : a), rows[0]);
    const at = (f: number) => rows[Math.min(rows.length - 1, Math.floor(rows.length * f))];
    const fmt = (r: Record<string, number>) => `t=${(r.t / 1000).toFixed(0)}s rss ${r.rss} heap ${r.heapUsed}/${r.heapTotal} external ${r.external} (arrayBuffers ${r.arrayBuffers}) MB`;
    console.log(`  memory trace: 25% ${fmt(at(0.25))}\n                50% ${fmt(at(0.5))}\n                75% ${fmt(at(0.75))}\n              peak ${fmt(peak)}`);
  }
  if (!keep) rmSync(out, { recursive: true, force: true });
  return {
    size,
    wallS: exit.ms / 1000,
    pipelineS: summary.wallMs / 1000,
    rate: size / (exit.ms / 1000),
    orchestratorPeakMb: (rss.maxRssKb * 1024) / MB,
    orchestratorHeapMb: rss.heapUsed / MB,
    workerPeakMb: hwms.length ? Math.max(...hwms) / 1024 : 0,
    workersPeakSumMb: workersPeakSumKb / 1024,
    workers: hwms.length,
    stages,
    samples: summary.stats.samples,
    served: server.stats.served,
    repeated: server.repeatedKeys().length,
    rejected,
  };
}

const dir = mkdtempSync(join(tmpdir(), 'caco-bench-pipeline-'));
const results: SizeResult[] = [];
try {
  for (const size of SIZES) {
    process.stderr.write(`running ${size} candidate programs...\n`);
    const r = await runSize(size, dir);
    results.push(r);
    console.log(
      `\n${size} candidates: ${r.wallS.toFixed(1)} s wall (pipeline ${r.pipelineS.toFixed(1)} s), ${r.rate.toFixed(0)} candidates/s end to end; ` +
        `${r.samples} verified samples; ${r.served} LLM responses served, ${r.repeated} bought twice`,
    );
    console.log(
      `  peak RSS: orchestrator ${r.orchestratorPeakMb.toFixed(0)} MB (heap at exit ${r.orchestratorHeapMb.toFixed(0)} MB); ` +
        `sandbox workers ${r.workers} seen, largest ${r.workerPeakMb.toFixed(0)} MB, sum at peak ${r.workersPeakSumMb.toFixed(0)} MB`,
    );
    for (const s of r.stages) console.log(`  ${s.stage.padEnd(14)} in ${String(s.in).padStart(6)}  kept ${String(s.kept).padStart(6)}  ${s.rate.toFixed(0).padStart(6)} records/s over ${s.windowS.toFixed(1)} s`);
    console.log(`  rejected/failed: ${Object.entries(r.rejected).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  }
  if (results.length >= 2) {
    const a = results[0];
    const b = results[results.length - 1];
    const ratio = b.orchestratorPeakMb / a.orchestratorPeakMb;
    const worst = Math.max(...results.map((r) => r.orchestratorPeakMb));
    console.log(
      `\npeak RSS ${b.size}/${a.size}: orchestrator ${ratio.toFixed(2)}x (target <= 1.3x), workers ${(b.workersPeakSumMb / a.workersPeakSumMb).toFixed(2)}x; ` +
        `largest orchestrator peak ${worst.toFixed(0)} MB (target < 1024 MB); throughput ${b.size}/${a.size}: ${(b.rate / a.rate).toFixed(2)}x`,
    );
    console.log(ratio <= 1.3 && worst < 1024 ? 'target met' : 'TARGET MISSED');
  }
} finally {
  if (!keep) rmSync(dir, { recursive: true, force: true });
}
