// npm run bench:dedup — 200,000 synthetic Caco-style programs with planted exact duplicates
// (renamed, recommented, reformatted copies) and near duplicates (one or two steps changed),
// through normalization + MinHash + the SQLite dedup index, as the filter stage does it.
// Prints throughput, peak RSS, the index's size, memory growth against index growth, exact-copy
// recall, and near-duplicate recall/precision against exact Jaccard on samples; and, in the same
// run, an in-memory Map index over the first 50,000 records as the baseline for ratios.
// Env: N (default 200000), SAMPLE (default 2000).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { SqliteDedupIndex } from '../../lib/store/sqlite-dedup-index.ts';
import { normalizeTokens, hashTokens } from '../../lib/dedup/normalize.ts';
import { MinHasher, bandKeys, estimateJaccard, exactJaccard, shingleSet } from '../../lib/dedup/minhash.ts';
import { shingleArray } from '../../lib/dedup/claims.ts';
import type { DedupClaim } from '../../lib/store/ports.ts';
import { mulberry32 } from '../../lib/util/random.ts';

const N = Number(process.env.N ?? 200_000);
const SAMPLE = Number(process.env.SAMPLE ?? 2000);
const BASELINE_N = Math.min(50_000, N);
const THRESHOLD = 0.85;
const NUM_PERM = 128;
const BANDS = 16;
const SHINGLE = 5;
const SHARD = 500; // records per claimMany transaction, like one filter shard

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

// ---------- deterministic generator: program i is a pure function of i ----------
const rng = (seed: number) => mulberry32((seed * 2654435761) >>> 0 || 1);
type R = () => number;
const pick = <T,>(r: R, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
const int = (r: R, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));

// A step defines variable n from earlier variables a, b and constants c1, c2.
const STEPS: ((n: string, a: string, b: string, c1: string, c2: string) => string[])[] = [
  (n, a, b) => [`${n} = ${a} + ${b}`],
  (n, a, _b, c1) => [`${n} = ${a} * ${c1}`],
  (n, a, _b, c1) => [`${n} = round(${a} / ${c1}, 2)`],
  (n, a, b, c1) => [`${n} = max(${a}, ${b}) - ${c1}`],
  (n, a, b, c1) => [`${n} = abs(${a} - ${b}) * ${c1}`],
  (n, a, _b, c1, c2) => [`${n} = (${a} + ${c1}) // ${c2}`],
  (n, a, b, c1) => [`${n} = ${a} % ${c1} + ${b}`],
  (n, a, b) => [`${n} = ${a} ** 2 - ${b}`],
  (n, a, b, c1) => [`${n} = min(${a}, ${b}, ${c1})`],
  (n, a, _b, c1) => [`${n} = sum(range(int(${c1}))) + ${a}`],
  (n, a, _b, c1) => [`${n} = math.sqrt(abs(${a})) + ${c1}`],
  (n, a, b, c1) => [`if ${a} > ${c1}:`, `    ${n} = ${a} - ${c1}`, `else:`, `    ${n} = ${c1} - ${a} + ${b}`],
  (n, a, _b, c1) => [`${n} = sum([${a} * k for k in range(${c1})])`],
  (n, a, _b, c1, c2) => [`${n} = 0`, `for k in range(${c1}):`, `    ${n} += ${a} * k - ${c2}`],
  (n, a, _b, c1, c2) => [`${n} = ${a}`, `while ${n} > ${c1}:`, `    ${n} = ${n} - ${c2}`],
  (n, a, _b, c1) => [`${n} = math.gcd(int(${a}), ${c1})`],
  (n, a, _b, c1, c2) => [`${n} = Fraction(int(${a}), ${c1}) + ${c2}`],
  (n, a, b, c1) => [`${n} = ${a} * ${b} / ${c1}`],
  (n, a, b, c1) => [`${n} = (${a} - ${b}) * (${a} + ${c1})`],
  (n, a, _b, c1) => [`${n} = int(${a} * ${c1} / 100)`],
  (n, a, b, c1) => [`${n} = ${a} if ${a} % 2 == 0 else ${b} + ${c1}`],
  (n, a, b, c1) => [`${n} = sorted([${a}, ${b}, ${c1}])[1]`],
  (n, a, _b, c1, c2) => [`${n} = ${a} * (1 + ${c1} / 100) ** ${c2}`],
  (n, a, _b, c1) => [`${n} = math.factorial(${c1} % 10) + ${a}`],
  (n, a, _b, c1) => [`${n} = divmod(int(${a}), ${c1})[0]`],
  (n, a, b, c1) => [`${n} = sum(x * x for x in [${a}, ${b}, ${c1}])`],
];
const WORDS = ('price count total rate speed time distance width height area volume cost profit share ' +
  'apples books coins days hours minutes pages people rows seats steps tickets trees weeks items boxes ' +
  'balance interest principal discount tax tip weight mass length radius score points level age salary').split(' ');
const QUAL = ['', 'new', 'old', 'final', 'base', 'extra', 'per', 'avg', 'max', 'min', 'first', 'second'];
const FUNCS = ['solve', 'compute', 'calculate', 'find_answer', 'get_result', 'main_logic', 'evaluate'];

interface Step { tpl: number; a: number; b: number; c1: number; c2: number }
interface Spec { params: number; steps: Step[]; inputs: number[] }
type Kind = 'fresh' | 'exact' | 'near';

function freshStep(r: R, varsSoFar: number): Step {
  return { tpl: int(r, 0, STEPS.length - 1), a: int(r, 0, varsSoFar - 1), b: int(r, 0, varsSoFar - 1), c1: int(r, 2, 999), c2: int(r, 1, 12) };
}
function freshSpec(r: R): Spec {
  const params = int(r, 2, 4);
  const steps: Step[] = [];
  const n = int(r, 4, 11);
  for (let k = 0; k < n; k++) steps.push(freshStep(r, params + k));
  return { params, steps, inputs: Array.from({ length: params }, () => int(r, 1, 5000)) };
}

/** What program i is: fresh, an exact copy of an earlier one, or a near copy (1-2 steps changed). */
function plan(i: number): { kind: Kind; source: number; r: R } {
  const r = rng(i + 1);
  const u = r();
  if (i >= 100 && u < 0.1) return { kind: 'exact', source: Math.floor(r() * i), r };
  if (i >= 100 && u < 0.2) return { kind: 'near', source: Math.floor(r() * i), r };
  return { kind: 'fresh', source: -1, r };
}

function specOf(i: number): Spec {
  const p = plan(i);
  if (p.kind === 'fresh') return freshSpec(p.r);
  const src = specOf(p.source);
  if (p.kind === 'exact') return src;
  const steps = src.steps.map((s) => ({ ...s }));
  const changes = int(p.r, 1, 2);
  for (let c = 0; c < changes; c++) {
    const k = int(p.r, 0, steps.length - 1);
    if (p.r() < 0.5) steps[k].c1 = int(p.r, 2, 999); // a constant changes
    else steps[k] = freshStep(p.r, src.params + k); // the step is rewritten
  }
  return { ...src, steps };
}

function render(spec: Spec, seed: number): string {
  const r = rng(seed * 7 + 3);
  const used = new Set<string>();
  const name = () => {
    for (;;) {
      const q = pick(r, QUAL);
      const w = pick(r, WORDS);
      const n = q ? `${q}_${w}` : w;
      if (!used.has(n)) {
        used.add(n);
        return n;
      }
    }
  };
  const vars = Array.from({ length: spec.params + spec.steps.length }, name);
  const fn = pick(r, FUNCS);
  const sp = () => (r() < 0.3 ? '  ' : ' ');
  const lines: string[] = [];
  lines.push('import math', 'from fractions import Fraction');
  if (r() < 0.7) lines.push('');
  lines.push(`def ${fn}(${vars.slice(0, spec.params).join(',' + sp())}):`);
  if (r() < 0.3) lines.push(`    """Compute the answer step by step."""`);
  spec.steps.forEach((s, k) => {
    if (r() < 0.5) lines.push(`    # step ${k + 1}`);
    for (const l of STEPS[s.tpl](vars[spec.params + k], vars[s.a], vars[s.b], String(s.c1), String(s.c2))) lines.push('    ' + l.replace(/ = /, `${sp()}=${sp()}`));
    if (r() < 0.15) lines.push('');
  });
  lines.push(`    return ${vars[vars.length - 1]}`, '');
  const q = r() < 0.5 ? '"' : "'";
  lines.push(`input = {${vars.slice(0, spec.params).map((v, k) => `${q}${v}${q}: ${spec.inputs[k]}`).join(', ')}}`);
  lines.push(`output = ${fn}(**input)`, 'print(output)', '');
  return lines.join('\n');
}

const codeOf = (i: number) => render(specOf(i), i);

// ---------- measurement helpers ----------
const mb = (b: number) => (b / 2 ** 20).toFixed(1);
function peakRss(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}
function settledRss(): number {
  gc();
  gc();
  return process.memoryUsage().rss;
}

// ---------- the main run: SQLite index ----------
const dir = mkdtempSync(join(tmpdir(), 'dedup-bench-'));
const ix = new SqliteDedupIndex(join(dir, 'dedup.sqlite'), { threshold: THRESHOLD, bands: BANDS });
const hasher = new MinHasher(NUM_PERM);
const KEPT = -1;
const target = new Int32Array(N).fill(KEPT); // survivor index for rejected records
const kind = new Uint8Array(N); // 0 kept, 1 exact duplicate, 2 near duplicate
const phase = { generate: 0, normalize: 0, minhash: 0, index: 0 };
const marks: { n: number; rss: number; index: number; heap: number }[] = [];
const markAt = new Set([Math.floor(N / 4), Math.floor(N / 2), N]);
const rss0 = settledRss();

console.log(`dedup bench: ${N} programs, MinHash ${NUM_PERM} perms, ${BANDS} bands x ${NUM_PERM / BANDS} rows, ${SHINGLE}-token shingles, threshold ${THRESHOLD}, shards of ${SHARD}, exact confirmation`);
const t0 = performance.now();
for (let start = 0; start < N; start += SHARD) {
  const claims: DedupClaim[] = [];
  for (let i = start; i < Math.min(N, start + SHARD); i++) {
    let t = performance.now();
    const code = codeOf(i);
    let t2 = performance.now();
    phase.generate += t2 - t;
    t = t2;
    const tokens = normalizeTokens(code);
    const hash = hashTokens(tokens);
    t2 = performance.now();
    phase.normalize += t2 - t;
    t = t2;
    const shingles = shingleSet(tokens, SHINGLE);
    claims.push({ id: `p${i}`, hash, signature: hasher.signature(shingles), shingles: shingleArray(shingles) });
    phase.minhash += performance.now() - t;
  }
  const t = performance.now();
  const decisions = ix.claimSync('bench', claims);
  phase.index += performance.now() - t;
  decisions.forEach((d, k) => {
    if (d.kind === 'kept') return;
    const i = start + k;
    target[i] = Number(d.of.slice(1));
    kind[i] = d.kind === 'duplicate' ? 1 : 2;
  });
  const done = Math.min(N, start + SHARD);
  if (markAt.has(done)) {
    ix.checkpoint();
    marks.push({ n: done, rss: settledRss(), index: ix.sizeBytes(), heap: process.memoryUsage().heapUsed });
  }
}
const elapsed = (performance.now() - t0) / 1000;
const dedupSeconds = (phase.normalize + phase.minhash + phase.index) / 1000;

let nExact = 0;
let nNear = 0;
for (let i = 0; i < N; i++) (kind[i] === 1 ? nExact++ : kind[i] === 2 ? nNear++ : 0);
console.log(`\nSQLite index: ${N} records in ${elapsed.toFixed(1)} s wall (${(N / elapsed).toFixed(0)} records/s incl. generating the programs)`);
console.log(`  dedup work only (normalize + MinHash + index): ${(N / dedupSeconds).toFixed(0)} records/s` +
  `  [normalize ${(phase.normalize / 1000).toFixed(1)} s, shingles+MinHash ${(phase.minhash / 1000).toFixed(1)} s, SQLite claimMany ${(phase.index / 1000).toFixed(1)} s, generate ${(phase.generate / 1000).toFixed(1)} s]`);
console.log(`  rejected: ${nExact} exact duplicates, ${nNear} near duplicates; kept ${N - nExact - nNear}`);
console.log(`  peak RSS ${mb(peakRss())} MiB (start ${mb(rss0)} MiB); index file ${mb(ix.sizeBytes())} MiB`);
console.log('  memory vs index size:');
for (const m of marks) console.log(`    at ${String(m.n).padStart(6)}: RSS ${mb(m.rss)} MiB, heap ${mb(m.heap)} MiB, index ${mb(m.index)} MiB`);
const first = marks[0];
const last = marks[marks.length - 1];
const dRss = last.rss - first.rss;
const dIndex = last.index - first.index;
console.log(`    growth ${first.n}->${last.n}: RSS +${mb(dRss)} MiB vs index +${mb(dIndex)} MiB (ratio ${(dRss / dIndex).toFixed(3)}; <= 1 means memory grows no faster than the index)`);

// ---------- quality: exact copies, near-duplicate recall and precision against exact Jaccard ----------
const shinglesOf = (i: number) => shingleSet(normalizeTokens(codeOf(i)), SHINGLE);
const sr = rng(424242);
// Exact copies whose source is in the run are always caught.
let exactPlanted = 0;
let exactCaught = 0;
let exactAsExact = 0;
for (let i = 0; i < N; i++) if (plan(i).kind === 'exact') (exactPlanted++, kind[i] !== 0 && exactCaught++, kind[i] === 1 && exactAsExact++);
console.log(`\nplanted exact copies (renamed/reformatted): ${exactCaught}/${exactPlanted} rejected (${((100 * exactCaught) / exactPlanted).toFixed(2)}%), ${exactAsExact} of them by the exact hash`);

// Recall: planted near copies whose source survived; positive when exact J >= threshold.
let pos = 0;
let found = 0;
let tried = 0;
const jHist = [0, 0, 0, 0, 0]; // <0.75, <0.8, <0.85, <0.9, >=0.9
while (pos < SAMPLE && tried < N * 2) {
  tried++;
  const i = Math.floor(sr() * N);
  const p = plan(i);
  if (p.kind !== 'near' || kind[p.source] !== 0) continue;
  const j = exactJaccard(shinglesOf(i), shinglesOf(p.source));
  jHist[j < 0.75 ? 0 : j < 0.8 ? 1 : j < 0.85 ? 2 : j < 0.9 ? 3 : 4]++;
  if (j < THRESHOLD) continue;
  pos++;
  if (kind[i] !== 0) found++;
}
// Recall over naturally occurring pairs too: brute force all pairs among the first W records.
const W = Math.min(2500, N);
const win = Array.from({ length: W }, (_, i) => shinglesOf(i));
let wPos = 0;
let wFound = 0;
for (let i = 1; i < W; i++) {
  for (let j = 0; j < i; j++) {
    if (kind[j] !== 0) continue;
    if (exactJaccard(win[i], win[j]) >= THRESHOLD) {
      wPos++;
      if (kind[i] !== 0) wFound++;
      break;
    }
  }
}
// Precision: records rejected as near duplicates, exact J with the survivor they were matched to.
const nearIds: number[] = [];
for (let i = 0; i < N; i++) if (kind[i] === 2) nearIds.push(i);
let precTrue = 0;
let precWithin = 0;
const precN = Math.min(SAMPLE, nearIds.length);
for (let s = 0; s < precN; s++) {
  const i = nearIds[Math.floor(sr() * nearIds.length)];
  const j = exactJaccard(shinglesOf(i), shinglesOf(target[i]));
  if (j >= THRESHOLD) precTrue++;
  if (j >= THRESHOLD - 0.05) precWithin++;
}
console.log(`planted near copies with a surviving source, exact J: <0.75 ${jHist[0]}, 0.75-0.8 ${jHist[1]}, 0.8-0.85 ${jHist[2]}, 0.85-0.9 ${jHist[3]}, >=0.9 ${jHist[4]}`);
console.log(`near-dup recall (planted pairs with exact J >= ${THRESHOLD}): ${found}/${pos} = ${(found / pos).toFixed(4)}   (target >= 0.95)`);
console.log(`near-dup recall (all pairs among the first ${W}, brute force): ${wFound}/${wPos} = ${wPos ? (wFound / wPos).toFixed(4) : 'n/a'}`);
console.log(`near-dup precision (sample of ${precN} rejections, exact J with the survivor >= ${THRESHOLD}): ${(precTrue / precN).toFixed(4)}   (target >= 0.99); within 0.05 of the threshold: ${(precWithin / precN).toFixed(4)}`);
ix.close();

// ---------- baseline in the same run: the same LSH in JS Maps, estimate confirmation, first BASELINE_N records ----------
// This is the textbook design (everything in memory, MinHash estimate decides): it gives the
// throughput ratio on this machine and shows what exact confirmation buys in precision.
class MapNearIndex {
  private readonly bands = Array.from({ length: BANDS }, () => new Map<number, number[]>());
  private readonly sigs: Uint32Array[] = [];
  private readonly exact = new Map<string, number>();
  claimExact(hash: string, i: number): number {
    const o = this.exact.get(hash);
    if (o !== undefined) return o;
    this.exact.set(hash, i);
    return i;
  }
  claimNear(i: number, sig: Uint32Array): number | null {
    const keys = bandKeys(sig, BANDS);
    let best: number | null = null;
    let bestJ = 0;
    for (let b = 0; b < BANDS; b++) {
      for (const k of this.bands[b].get(keys[b]) ?? []) {
        const j = estimateJaccard(sig, this.sigs[k]);
        if (j >= THRESHOLD && j > bestJ) (best = k, bestJ = j);
      }
    }
    if (best !== null) return best;
    this.sigs[i] = sig;
    for (let b = 0; b < BANDS; b++) {
      const l = this.bands[b].get(keys[b]);
      if (l) l.push(i);
      else this.bands[b].set(keys[b], [i]);
    }
    return null;
  }
}
{
  const heap0 = (gc(), process.memoryUsage().heapUsed);
  const mem = new MapNearIndex();
  (globalThis as { keepAlive?: unknown }).keepAlive = mem;
  const bKind = new Uint8Array(BASELINE_N);
  const bTarget = new Int32Array(BASELINE_N).fill(KEPT);
  let work = 0;
  for (let i = 0; i < BASELINE_N; i++) {
    const code = codeOf(i);
    const t = performance.now();
    const tokens = normalizeTokens(code);
    const owner = mem.claimExact(hashTokens(tokens), i);
    if (owner !== i) (bKind[i] = 1, bTarget[i] = owner);
    else {
      const dup = mem.claimNear(i, hasher.signature(shingleSet(tokens, SHINGLE)));
      if (dup !== null) (bKind[i] = 2, bTarget[i] = dup);
    }
    work += performance.now() - t;
  }
  const heap1 = (gc(), process.memoryUsage().heapUsed);
  const memRate = BASELINE_N / (work / 1000);
  const sqlRate = N / dedupSeconds;
  let agree = 0;
  for (let i = 0; i < BASELINE_N; i++) if (bKind[i] === kind[i]) agree++;
  // The baseline's precision on a sample of its near-duplicate rejections.
  const bNear: number[] = [];
  for (let i = 0; i < BASELINE_N; i++) if (bKind[i] === 2) bNear.push(i);
  let bTrue = 0;
  const bN = Math.min(SAMPLE, bNear.length);
  for (let s = 0; s < bN; s++) {
    const i = bNear[Math.floor(sr() * bNear.length)];
    if (exactJaccard(shinglesOf(i), shinglesOf(bTarget[i])) >= THRESHOLD) bTrue++;
  }
  console.log(`\nbaseline, in-memory Map index with estimate confirmation, first ${BASELINE_N} records: ${memRate.toFixed(0)} records/s (dedup work only), heap +${mb(heap1 - heap0)} MiB held by the index (${((heap1 - heap0) / BASELINE_N).toFixed(0)} B/record, grows with the run)`);
  console.log(`  SQLite (200k, exact confirmation) / in-memory (estimate) throughput ratio: ${(sqlRate / memRate).toFixed(2)}`);
  console.log(`  baseline near-dup precision (sample of ${bN}): ${(bTrue / bN).toFixed(4)}; same decision as the SQLite run on ${agree}/${BASELINE_N} records`);
  console.log(`  SQLite file bytes per record: ${(last.index / N).toFixed(0)} (on disk, not in RSS)`);
}
rmSync(dir, { recursive: true, force: true });
