// Builds the run report: report/index.html (the summary rendered as static HTML, the style and
// the small index of record groups inlined: no server, no CDN), report/page.js (the browser's
// script, deferred so the summary paints first) and report/data/*.js (records in chunks, facets), streaming record by record so a 1M-record run needs memory
// for one chunk per group and the facet lists only. Deterministic: the same run gives the same
// bytes (assemble is idempotent).
import { files, encodeDeltas, LOAD_FN, seedBucketOf } from './facets.ts';
import { PAGE_SCRIPT, renderPage } from './html.ts';
import { fromCodegen, fromRejection, fromSample, type ReportRecord, type Verdict } from './record.ts';
import { ANSWER_SHAPES, type AnswerShape } from './shape.ts';
import { ClusterCounter, decontamSummary, llmSummary, sandboxSummary, type AwsCostSummary, type RecordGroup, type ReportData, type StatsJson } from './summary.ts';

export interface ReportSink {
  put(relPath: string, body: string): Promise<void>;
}

export interface RejectionLine {
  rej: Record<string, unknown>;
  verdict: 'rejected' | 'failed';
  /** The stage whose rejected/ (or failed/) folder holds it. */
  stage: string;
}

export interface ReportInput {
  stats: StatsJson;
  samples: AsyncIterable<Record<string, unknown>>;
  /** The CodeGen set: verified unified Code CoTs. */
  codegen: AsyncIterable<Record<string, unknown>>;
  rejections: AsyncIterable<RejectionLine>;
  aws?: AwsCostSummary | null;
}

export interface ReportOptions {
  chunkSize?: number;
  /** The page's script and style (lib/report/assets.ts). */
  assets: { js: string; css: string };
}

export interface ReportResult {
  records: number;
  files: number;
  /** Bytes of index.html alone (what the first paint needs). */
  indexBytes: number;
  /** Bytes of everything written. */
  bytes: number;
}

interface Group {
  file: number;
  stage: string;
  verdict: Verdict;
  reason: string;
  count: number;
  chunks: number;
  buf: ReportRecord[];
}

const PARALLEL_PUTS = 8;

/** A position before groups are ordered: group file id * 2^32 + index inside the group. */
const pack = (file: number, local: number) => file * 2 ** 32 + local;

export async function buildReport(input: ReportInput, sink: ReportSink, opts: ReportOptions): Promise<ReportResult> {
  const chunkSize = opts.chunkSize ?? 250;
  const groups = new Map<string, Group>();
  const shapePostings = new Map<AnswerShape, number[]>();
  const seedPostings = new Map<string, number[]>();
  const clusters = new ClusterCounter();
  const shapeKept = new Map<AnswerShape, number>();
  let written = 0;
  let bytes = 0;
  // Writes go out a few at a time (S3 PUTs take tens of ms each); the first failure fails the build.
  const inFlight = new Set<Promise<void>>();
  let failure: Error | null = null;
  const settle = async () => {
    await Promise.all(inFlight);
    if (failure) throw failure;
  };
  const put = async (rel: string, body: string) => {
    while (inFlight.size >= PARALLEL_PUTS) await Promise.race(inFlight);
    if (failure) throw failure;
    const p: Promise<void> = sink.put(rel, body).then(
      () => void inFlight.delete(p),
      (err: Error) => {
        inFlight.delete(p);
        failure ??= err;
      },
    );
    inFlight.add(p);
    written++;
    bytes += Buffer.byteLength(body);
  };
  const flush = async (g: Group) => {
    if (g.buf.length === 0) return;
    const name = files.chunk(g.file, g.chunks);
    await put(name, `${LOAD_FN}(${JSON.stringify(name)},${JSON.stringify(g.buf)});\n`);
    g.chunks++;
    g.buf = [];
  };

  const add = async (r: ReportRecord) => {
    const key = `${r.stage}\0${r.verdict}\0${r.reason}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { file: groups.size, stage: r.stage, verdict: r.verdict, reason: r.reason, count: 0, chunks: 0, buf: [] }));
    const at = pack(g.file, g.count++);
    let sp = shapePostings.get(r.shape);
    if (!sp) shapePostings.set(r.shape, (sp = []));
    sp.push(at);
    if (r.verdict === 'kept') shapeKept.set(r.shape, (shapeKept.get(r.shape) ?? 0) + 1);
    for (const s of new Set(r.seeds ?? [])) {
      let p = seedPostings.get(s);
      if (!p) seedPostings.set(s, (p = []));
      p.push(at);
    }
    g.buf.push(r);
    if (g.buf.length >= chunkSize) await flush(g);
  };

  for await (const s of input.samples) await add(fromSample(s));
  for await (const c of input.codegen) await add(fromCodegen(c));
  for await (const line of input.rejections) {
    const r = fromRejection(line.rej, line.verdict, line.stage);
    if (r.stage === 'dedup' || r.reason === 'duplicate' || r.reason === 'near_duplicate') clusters.add(r.reason, r.detail);
    await add(r);
  }
  for (const g of groups.values()) await flush(g);

  // Display order: the kept samples, the CodeGen set, then each stage in the pipeline's order (as stats.json lists
  // it), rejections before failures, largest reason first.
  const stages = Object.keys(input.stats.stages);
  const rank = (s: string) => (s === 'dataset' ? -2 : s === 'codegen' ? -1 : stages.includes(s) ? stages.indexOf(s) : stages.length);
  const ordered = [...groups.values()].sort(
    (a, b) => rank(a.stage) - rank(b.stage) || a.stage.localeCompare(b.stage) || (a.verdict === b.verdict ? 0 : a.verdict === 'rejected' ? -1 : 1) || b.count - a.count || a.reason.localeCompare(b.reason),
  );
  const startOf = new Map<number, number>();
  let total = 0;
  const recordGroups: (RecordGroup & { file: number })[] = ordered.map((g) => {
    startOf.set(g.file, total);
    const rg = { stage: g.stage, verdict: g.verdict, reason: g.reason, count: g.count, start: total, chunks: g.chunks, file: g.file };
    total += g.count;
    return rg;
  });
  const globalSorted = (packed: number[]): Float64Array => {
    const out = new Float64Array(packed.length);
    packed.forEach((p, i) => (out[i] = startOf.get(Math.floor(p / 2 ** 32))! + (p % 2 ** 32)));
    return out.sort();
  };

  const shapes: ReportData['shapes'] = [];
  for (const shape of ANSWER_SHAPES) {
    const p = shapePostings.get(shape);
    if (!p) continue;
    const index = shapes.length;
    shapes.push({ shape, all: p.length, kept: shapeKept.get(shape) ?? 0, index });
    await put(files.shape(index), `${LOAD_FN}(${JSON.stringify(files.shape(index))},${JSON.stringify(encodeDeltas(globalSorted(p)))});\n`);
  }
  // Seeds: one file per bucket of ~500 seeds, loaded only when the browser filters by a seed.
  const seedBuckets = Math.max(1, Math.min(4096, Math.ceil(seedPostings.size / 500)));
  const buckets: Record<string, string>[] = Array.from({ length: seedBuckets }, () => ({}));
  for (const seed of [...seedPostings.keys()].sort()) buckets[seedBucketOf(seed, seedBuckets)]![seed] = encodeDeltas(globalSorted(seedPostings.get(seed)!));
  if (seedPostings.size > 0) {
    for (let b = 0; b < seedBuckets; b++) await put(files.seeds(b), `${LOAD_FN}(${JSON.stringify(files.seeds(b))},${JSON.stringify(buckets[b])});\n`);
  }

  const data: ReportData = {
    format: 'caco-report/1',
    stats: input.stats,
    stages,
    llm: llmSummary(input.stats),
    aws: input.aws ?? null,
    sandbox: sandboxSummary(input.stats),
    decontam: decontamSummary(input.stats),
    clusters: clusters.summary(),
    shapes,
    groups: recordGroups,
    chunkSize,
    total,
    seedBuckets,
    seeds: seedPostings.size,
  };
  await put(PAGE_SCRIPT, opts.assets.js);
  const html = renderPage(data, opts.assets);
  // index.html last, once every file it points at is written.
  await settle();
  await put('index.html', html);
  await settle();
  return { records: total, files: written, indexBytes: Buffer.byteLength(html), bytes };
}
