// bench:dataset — assemble's writing side at scale: N synthetic samples (~3 KB each, like the
// demo's) through the data, sft and rlvr part writers (Parquet, the Hub's part and row-group
// limits), against a same-run baseline that writes the same rows as JSONL parts only (what the
// old layout cost). Prints rows/s, the ratio, parts, bytes and peak RSS.
//   npx tsx tests/bench/dataset.bench.ts [--rows 200000] [--only parquet|jsonl]
// Without --only both run in one process, the Parquet run second (its peak RSS then includes
// what the baseline left on the heap).
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileBlobStore } from '../../lib/store/file-blob-store.ts';
import { PartWriter } from '../../lib/pipeline/parquet-parts.ts';
import { FIELDS, dataRow, rlvrRow, sftRow, type ConfigName } from '../../lib/pipeline/dataset-layout.ts';
import type { BacktranslatedRecord } from '../../lib/stages/backtranslate.ts';
import { mulberry32 } from '../../lib/util/random.ts';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const N = arg('rows', 200_000);

// Text of random words from a 2,000-word vocabulary with random numbers: compresses about like
// prose (snappy ~2-3x), not like a repeated sentence.
const rand = mulberry32(7);
const vocab = Array.from({ length: 2000 }, () => Array.from({ length: 3 + Math.floor(rand() * 7) }, () => String.fromCharCode(97 + Math.floor(rand() * 26))).join(''));
const text = (_i: number, n: number) => Array.from({ length: n }, () => (rand() < 0.1 ? String(Math.floor(rand() * 10000)) : vocab[Math.floor(rand() * vocab.length)])).join(' ');
const sample = (i: number): BacktranslatedRecord => ({
  id: `gen-g${String(Math.floor(i / 100)).padStart(5, '0')}-${i % 100}`,
  instruction: `${text(i, 60)} ${i}?`,
  output: `${text(i + 1, 250)}\nSo the answer is \\boxed{${i}}.`,
  answer: String(i),
  code: `input = {"a": ${i}}\n\ndef solve(input):\n    # ${text(i + 2, 20)}\n    return input["a"]\n\noutput = solve(input)\nprint(output)\n`,
  code_output: String(i),
  provenance: { source: 'generated', model: 'Qwen/Qwen2.5-72B-Instruct', sample: i % 100, variant: 0, examples: ['gsm8k-train-0001', 'gsm8k-train-0002', 'gsm8k-train-0003'], models: { reverse: 'Qwen/Qwen3-8B', solve: 'Qwen/Qwen3-8B' } },
});

let peak = 0;
const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);

/** The cost of making the synthetic rows alone (subtracted from both runs below). */
function runGenerate() {
  const t0 = performance.now();
  let n = 0;
  for (let i = 0; i < N; i++) {
    const row = dataRow(sample(i), 'run-bench');
    n += sftRow(row).messages.length + rlvrRow(row, i).prompt.length;
  }
  return { ms: performance.now() - t0, n };
}

/** Baseline: the same rows as JSONL parts of 100k lines (serialize and write, no Parquet encoding). */
async function runJsonl() {
  const root = mkdtempSync(join(tmpdir(), 'bench-dataset-'));
  const blobs = new FileBlobStore(root);
  const lines: Record<string, string[]> = { default: [], sft: [], rlvr: [] };
  let bytes = 0;
  let part = 0;
  const flush = async () => {
    for (const [c, ls] of Object.entries(lines)) {
      const body = ls.join('');
      bytes += Buffer.byteLength(body);
      await blobs.put(`${c}/train-${part}.jsonl`, body);
      lines[c] = [];
    }
    part++;
  };
  peak = 0;
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    const row = dataRow(sample(i), 'run-bench');
    lines.default!.push(JSON.stringify(row) + '\n');
    lines.sft!.push(JSON.stringify(sftRow(row)) + '\n');
    lines.rlvr!.push(JSON.stringify(rlvrRow(row, i)) + '\n');
    if ((i + 1) % 100_000 === 0) await flush();
  }
  await flush();
  const ms = performance.now() - t0;
  rmSync(root, { recursive: true, force: true });
  return { ms, bytes, peakMb: Math.round(peak / 2 ** 20) };
}

async function runParquet() {
  const root = mkdtempSync(join(tmpdir(), 'bench-dataset-'));
  const blobs = new FileBlobStore(root);
  const configs: ConfigName[] = ['default', 'sft', 'rlvr'];
  const writers = Object.fromEntries(configs.map((c) => [c, new PartWriter<object>(blobs, (f) => `${c}/${f}`, c, FIELDS[c], { jsonl: false })]));
  peak = 0;
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    const row = dataRow(sample(i), 'run-bench');
    await writers.default!.add(row);
    await writers.sft!.add(sftRow(row));
    await writers.rlvr!.add(rlvrRow(row, i));
  }
  const files = [];
  for (const c of configs) files.push(...(await writers[c]!.close()).files);
  const ms = performance.now() - t0;
  let bytes = 0;
  for (const f of files) bytes += statSync(join(root, f.path)).size;
  rmSync(root, { recursive: true, force: true });
  return { ms, files, bytes, peakMb: Math.round(peak / 2 ** 20) };
}

// Each writer in a fresh process gives a clean peak RSS: `--only parquet` or `--only jsonl`.
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : '';
const gen = runGenerate();
const base = only === 'parquet' ? { ms: NaN, bytes: NaN, peakMb: NaN } : await runJsonl();
const pq = only === 'jsonl' ? { ms: NaN, files: [], bytes: NaN, peakMb: NaN } : await runParquet();
clearInterval(sampler);
const rate = (ms: number) => Math.round(N / (ms / 1000));
const net = (ms: number) => Math.max(1, ms - gen.ms);
console.log(`rows: ${N.toLocaleString()} samples x 3 configs (data, sft, rlvr); making the synthetic rows took ${(gen.ms / 1000).toFixed(1)} s, subtracted below`);
console.log(`baseline (the same rows as JSONL parts): ${rate(net(base.ms)).toLocaleString()} samples/s, ${(base.bytes / 2 ** 20).toFixed(0)} MiB, peak RSS ${base.peakMb} MiB`);
console.log(`Parquet parts: ${rate(net(pq.ms)).toLocaleString()} samples/s (${(net(pq.ms) / net(base.ms)).toFixed(1)}x the baseline's time), ${pq.files.length} files, ${(pq.bytes / 2 ** 20).toFixed(0)} MiB (${(pq.bytes / base.bytes).toFixed(2)}x the JSONL), peak RSS ${pq.peakMb} MiB`);
for (const f of pq.files) console.log(`  ${f.path}: ${f.rows.toLocaleString()} rows`);
