// `npm run bench:execute-start [-- --runs N --workers N --baseline-cli PATH]`: how long `caco execute` of one program
// takes to print its first result, spawning the real CLI (bin/caco.js) as a user would. Each run
// prints the wall time from spawn to the first result line on stdout and to exit, and the phases
// `--timings` reports (the CLI's own, and the first sandbox child's: process start, wasm compiled,
// interpreter restored, runner and guard set up...). In the same run, interleaved, the baselines:
// the same command with the sandbox started only once the CLI has loaded (CACO_SANDBOX_PRESTART=0,
// the order before issue 12), a bare `node -e 0` start and, with --baseline-cli, the bin/caco.js
// of another checkout (e.g. the code before this change, with its own layer). Prints medians,
// ratios and the load average.
import { spawn } from 'node:child_process';
import { loadavg, tmpdir } from 'node:os';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../bin/caco.js', import.meta.url));
const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const RUNS = arg('--runs', 5);
const WORKERS = arg('--workers', 0);
const TARGET_MS = 1500;
const BASELINE_CLI = process.argv.includes('--baseline-cli') ? process.argv[process.argv.indexOf('--baseline-cli') + 1] : null;

const dir = mkdtempSync(join(tmpdir(), 'caco-exec-start-'));
const input = join(dir, 'one.jsonl');
// A Code CoT shape: collections with Counter.most_common (the issue's example).
writeFileSync(input, JSON.stringify({ id: 'one', code: 'from collections import Counter\nc = Counter("abracadabra")\nprint(c.most_common(2))' }) + '\n');

interface Run {
  firstMs: number;
  exitMs: number;
  phases: string;
  ok: boolean;
}

function runCli(env: Record<string, string>, cli = CLI): Promise<Run> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    let firstMs = 0;
    let out = '';
    let err = '';
    const args = [cli, 'execute', input, '--timings', ...(WORKERS ? ['--workers', String(WORKERS)] : [])];
    const p = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    p.stdout.on('data', (d) => {
      out += d;
      if (!firstMs && out.includes('\n')) firstMs = performance.now() - t0;
    });
    p.stderr.on('data', (d) => (err += d));
    p.on('close', () => {
      const phases = /execute timings \(ms since process start\): (.*)/.exec(err)?.[1] ?? err.trim().slice(-300);
      resolve({ firstMs, exitMs: performance.now() - t0, phases, ok: /"status":"ok"/.test(out) });
    });
  });
}

function bareNode(): Promise<number> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' }).on('close', () => resolve(performance.now() - t0));
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');

console.log(`caco execute, one program, ${RUNS} interleaved rounds${WORKERS ? `, --workers ${WORKERS}` : ' (workers: cores)'}; load average before: ${load()}`);
const fast: Run[] = [];
const late: Run[] = [];
const bare: number[] = [];
const other: Run[] = [];
for (let i = 0; i < RUNS; i++) {
  const a = await runCli({});
  const b = await runCli({ CACO_SANDBOX_PRESTART: '0' });
  const c = BASELINE_CLI ? await runCli({}, BASELINE_CLI) : null;
  bare.push(await bareNode());
  if (!a.ok || !b.ok || (c && !c.ok)) throw new Error(`a run failed: ${a.phases} / ${b.phases} / ${c?.phases}`);
  fast.push(a);
  late.push(b);
  if (c) other.push(c);
  console.log(`round ${i + 1}: first result ${a.firstMs.toFixed(0)} ms (exit ${a.exitMs.toFixed(0)}); sandbox started after the CLI: ${b.firstMs.toFixed(0)} ms; ` +
    `${c ? `baseline CLI ${c.firstMs.toFixed(0)} ms; ` : ''}bare node ${bare[i].toFixed(0)} ms; load ${load()}`);
  console.log(`  phases (ms since the CLI process started): ${a.phases}`);
  if (c) console.log(`  baseline CLI phases: ${c.phases}`);
}
const f = median(fast.map((r) => r.firstMs));
const l = median(late.map((r) => r.firstMs));
const n = median(bare);
console.log(`median first result: ${f.toFixed(0)} ms (target ~${TARGET_MS} ms on an idle machine: ${f <= TARGET_MS ? 'met' : 'not met'} here); ` +
  `sandbox started after the CLI ${l.toFixed(0)} ms (${(l / f).toFixed(2)}x); ` +
  `${other.length ? `baseline CLI ${median(other.map((r) => r.firstMs)).toFixed(0)} ms (${(median(other.map((r) => r.firstMs)) / f).toFixed(2)}x); ` : ''}bare node start ${n.toFixed(0)} ms (first result = ${(f / n).toFixed(1)}x a bare node start); load average after: ${load()}`);
rmSync(dir, { recursive: true, force: true });
