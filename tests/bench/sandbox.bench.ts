// `npm run bench:sandbox`: the corpus (tests/bench/corpus/sandbox-corpus.jsonl, 230 Caco-format
// programs) through our Pyodide pool and, in the same run, through CPython spawned per program
// (`python3 -I`) and CPython fork-per-program from a warm parent (the paper's executor model).
// Prints programs/s, the ratios, agreement of `repr(output)` with CPython, pool cold start and
// idle memory per worker. Options: --workers N (default: cores), --passes P (pool passes, 3).
import { spawn, spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createSandboxPool } from '../../lib/sandbox/index.ts';
import type { ExecutionResult } from '../../lib/schema.ts';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const CORPUS = here('./corpus/sandbox-corpus.jsonl');
const WARMUP = here('./corpus/sandbox-warmup.jsonl');
const DRIVER = here('./corpus/cpython_exec.py');
const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const WORKERS = arg('--workers', availableParallelism());
const PASSES = arg('--passes', 3);

interface Program {
  id: string;
  kind: string;
  code: string;
}
interface CResult {
  id?: string;
  status: string;
  error: string | null;
  repr: string | null;
  ms?: number;
}

const programs: Program[] = readFileSync(CORPUS, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const rate = (n: number, ms: number) => n / (ms / 1000);
const fmt = (x: number) => x.toFixed(1).padStart(8);

function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

// ---- our pool --------------------------------------------------------------------------------
const tCold = performance.now();
const pool = await createSandboxPool({ workers: WORKERS });
const coldMs = performance.now() - tCold;
await new Promise((r) => setTimeout(r, 300));
const idleRss = pool.stats().pids.map(rssMb);

// Cold workers: the corpus first thing after start. Warm workers: after the warm-up corpus (same
// templates, other parameters), so SymPy's lazy imports are done but no result is cached. Repeat:
// the same corpus again (SymPy's cache hits; an upper bound, not a fair figure).
const warmup: Program[] = readFileSync(WARMUP, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
let ours: ExecutionResult[] = [];
const passMs: number[] = [];
for (let p = 0; p < PASSES; p++) {
  if (p === 1) await pool.runMany(warmup.map((x) => ({ id: x.id, code: x.code })));
  const t = performance.now();
  ours = await pool.runMany(programs.map((x) => ({ id: x.id, code: x.code })));
  passMs.push(performance.now() - t);
}
const poolStats = pool.stats();
const busyRss = poolStats.pids.map(rssMb);

// The programs without SymPy, three copies each (fresh ids): the regime where the executor's own
// overhead matters, since SymPy's compute costs about the same in Pyodide and CPython.
const simple = programs.filter((p) => !p.kind.startsWith('sympy'));
const simple3 = [0, 1, 2].flatMap((k) => simple.map((p) => ({ ...p, id: `${p.id}#${k}` })));
const tSimple = performance.now();
await pool.runMany(simple3.map((x) => ({ id: x.id, code: x.code })));
const simpleMs = performance.now() - tSimple;

// Tiny programs: the per-program overhead of the sandbox itself.
const tiny = Array.from({ length: 2000 }, (_, i) => ({ id: `t${i}`, code: `output = ${i} * 2` }));
const tTiny = performance.now();
await pool.runMany(tiny);
const tinyMs = performance.now() - tTiny;
await pool.close();

// ---- CPython, one process per program ----------------------------------------------------------
function runSpawn(code: string): Promise<CResult> {
  return new Promise((resolve) => {
    const p = spawn('python3', ['-I', DRIVER, 'one'], { stdio: ['pipe', 'pipe', 'ignore'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.on('close', () => {
      try {
        resolve(JSON.parse(out));
      } catch {
        resolve({ status: 'error', error: 'driver', repr: null });
      }
    });
    p.stdin.end(code);
  });
}
const tSpawn = performance.now();
const spawned: CResult[] = new Array(programs.length);
let next = 0;
await Promise.all(
  Array.from({ length: WORKERS }, async () => {
    while (next < programs.length) {
      const i = next++;
      spawned[i] = await runSpawn(programs[i]!.code);
    }
  }),
);
const spawnMs = performance.now() - tSpawn;

// ---- CPython, fork per program from a warm parent ------------------------------------------------
const tFork = performance.now();
const fork = spawnSync('python3', ['-I', DRIVER, 'fork', String(WORKERS)], {
  input: programs.map((p) => JSON.stringify(p)).join('\n'),
  encoding: 'utf8',
  maxBuffer: 256 * 1024 * 1024,
});
const forkMs = performance.now() - tFork;
const forked: CResult[] = fork.stdout.trim().split('\n').map((l) => JSON.parse(l));
const tForkSimple = performance.now();
spawnSync('python3', ['-I', DRIVER, 'fork', String(WORKERS)], {
  input: simple3.map((p) => JSON.stringify(p)).join('\n'),
  encoding: 'utf8',
  maxBuffer: 256 * 1024 * 1024,
});
const forkSimpleMs = performance.now() - tForkSimple;
// The fork figure includes the parent's own start (python, SymPy import and warm-up): measured
// with an empty corpus and excluded; both figures are printed.
const tStart = performance.now();
spawnSync('python3', ['-I', DRIVER, 'fork', String(WORKERS)], { input: '' });
const parentStartMs = performance.now() - tStart;

// ---- agreement -------------------------------------------------------------------------------
const cls = (s: string) => (s === 'ok' ? 'ok' : s === 'missing_module' ? 'missing_module' : 'error');
let compared = 0;
let agree = 0;
let excluded = 0;
const disagreements: string[] = [];
programs.forEach((p, i) => {
  const o = ours[i]!;
  const c = forked[i]!;
  if (o.status === 'missing_module' || c.status === 'missing_module') {
    excluded++;
    return;
  }
  compared++;
  const same = cls(o.status) === cls(c.status) && (o.status !== 'ok' || o.output?.repr === c.repr);
  if (same) agree++;
  else disagreements.push(`${p.id}: ours ${o.status} ${o.output?.repr?.slice(0, 60)} | cpython ${c.status} ${c.repr?.slice(0, 60)}`);
});
const spawnAgree = programs.filter((_, i) => cls(spawned[i]!.status) === cls(forked[i]!.status) && spawned[i]!.repr === forked[i]!.repr).length;

// ---- report ----------------------------------------------------------------------------------
const poolRate = rate(programs.length, passMs[1] ?? passMs[0]!);
const repeatRate = rate(programs.length, passMs[2] ?? passMs[0]!);
const forkRate = rate(programs.length, forkMs - parentStartMs);
const spawnRate = rate(programs.length, spawnMs);
const statusCounts: Record<string, number> = {};
for (const r of ours) statusCounts[r.status] = (statusCounts[r.status] ?? 0) + 1;

console.log(`sandbox bench: ${programs.length} programs, ${WORKERS} workers, node ${process.versions.node}, load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
console.log(`statuses (pool): ${JSON.stringify(statusCounts)}`);
console.log('');
console.log('executor                               programs/s   vs fork   vs spawn');
console.log(`Pyodide pool, cold workers          ${fmt(rate(programs.length, passMs[0]!))}  ${fmt(rate(programs.length, passMs[0]!) / forkRate)}x ${fmt(rate(programs.length, passMs[0]!) / spawnRate)}x`);
console.log(`Pyodide pool, warm workers          ${fmt(poolRate)}  ${fmt(poolRate / forkRate)}x ${fmt(poolRate / spawnRate)}x`);
console.log(`Pyodide pool, same corpus repeated  ${fmt(repeatRate)}  ${fmt(repeatRate / forkRate)}x ${fmt(repeatRate / spawnRate)}x   (SymPy cache hits: upper bound)`);
console.log(`CPython fork per program (warm)     ${fmt(forkRate)}  ${fmt(1)}x ${fmt(forkRate / spawnRate)}x   (parent start ${parentStartMs.toFixed(0)} ms excluded; with it ${rate(programs.length, forkMs).toFixed(1)}/s)`);
console.log(`CPython spawn per program (-I)      ${fmt(spawnRate)}  ${fmt(spawnRate / forkRate)}x ${fmt(1)}x`);
console.log(`Pyodide pool, 2000 tiny programs    ${fmt(rate(tiny.length, tinyMs))}`);
const simplePool = rate(simple3.length, simpleMs);
const simpleFork = rate(simple3.length, forkSimpleMs - parentStartMs);
console.log(`without SymPy (${simple3.length} programs): Pyodide pool ${simplePool.toFixed(1)}/s, CPython fork ${simpleFork.toFixed(1)}/s: ${(simplePool / simpleFork).toFixed(1)}x`);
console.log('');
console.log(`agreement with CPython (repr of output, status class): ${agree}/${compared} = ${((100 * agree) / compared).toFixed(1)}% (${excluded} excluded: module missing in one of them)`);
console.log(`CPython spawn vs CPython fork agreement: ${spawnAgree}/${programs.length}`);
for (const d of disagreements.slice(0, 10)) console.log(`  differs: ${d}`);
console.log('');
console.log(`pool cold start (${WORKERS} workers ready, SymPy imported): ${coldMs.toFixed(0)} ms`);
console.log(`RSS per worker process: idle ${idleRss.map((x) => x.toFixed(0)).join(', ')} MB; after the corpus ${busyRss.map((x) => x.toFixed(0)).join(', ')} MB`);
console.log(`interpreter recycles during the run: ${poolStats.recycles}; child restarts: ${poolStats.restarts}`);
const kinds = [...new Set(programs.map((p) => p.kind))];
console.log('mean in-interpreter ms per program by kind (Pyodide, last pass | CPython forked child):');
for (const k of kinds) {
  const idx = programs.map((p, i) => (p.kind === k ? i : -1)).filter((i) => i >= 0);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  console.log(`  ${k.padEnd(16)} ${mean(idx.map((i) => ours[i]!.durationMs)).toFixed(2).padStart(8)} | ${mean(idx.map((i) => forked[i]!.ms ?? NaN)).toFixed(2).padStart(8)}`);
}
console.log(`pool passes (ms): ${passMs.map((x) => x.toFixed(0)).join(', ')}`);
