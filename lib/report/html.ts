// The report page's static part: every summary section rendered here as plain HTML (tables with
// numbers, SVG bars with patterns), so the page paints before any script runs, reads without
// colour and prints as is. The sample browser is the script's job (page/main.ts).
import type { ReportData } from './summary.ts';

const esc = (s: unknown) =>
  String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const n = (x: number) => x.toLocaleString('en-US');
const pct = (part: number, whole: number) => (whole > 0 ? `${((100 * part) / whole).toFixed(1)}%` : '–');
const usd = (x: number) => `$${x < 0.01 && x > 0 ? x.toFixed(6) : x.toFixed(4)}`;
const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);

/** Link into the sample browser with a filter (page/main.ts reads the same parameters). */
export function browseHref(filter: Record<string, string | number | undefined>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(filter)) if (v !== undefined && v !== '') p.set(k, String(v));
  return `#browse?${p.toString()}`;
}

/** A horizontal bar of segments; patterns (not colours alone) tell them apart. */
function bar(segments: { value: number; kind: 'kept' | 'rejected' | 'failed' | 'plain' }[], scale: number): string {
  let x = 0;
  const rects = segments
    .filter((s) => s.value > 0)
    .map((s) => {
      const w = scale > 0 ? (1000 * s.value) / scale : 0;
      const r = `<rect class="seg-${s.kind}" x="${x.toFixed(2)}" y="0" width="${w.toFixed(2)}" height="16"/>`;
      x += w;
      return r;
    })
    .join('');
  return `<svg class="bar" viewBox="0 0 1000 16" preserveAspectRatio="none" aria-hidden="true" focusable="false">${rects}</svg>`;
}

const PATTERNS = `<svg width="0" height="0" class="defs" aria-hidden="true" focusable="false"><defs>
<pattern id="pat-rejected" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#fff"/><rect width="3" height="6" fill="#b3261e"/></pattern>
<pattern id="pat-failed" width="5" height="5" patternUnits="userSpaceOnUse"><rect width="5" height="5" fill="#fff"/><circle cx="2.5" cy="2.5" r="1.6" fill="#6b4e00"/></pattern>
</defs></svg>`;

const LEGEND = `<p class="legend" aria-hidden="true"><span class="key"><svg viewBox="0 0 16 12"><rect class="seg-kept" width="16" height="12"/></svg> kept (solid)</span>
<span class="key"><svg viewBox="0 0 16 12"><rect class="seg-rejected" width="16" height="12"/></svg> rejected (stripes)</span>
<span class="key"><svg viewBox="0 0 16 12"><rect class="seg-failed" width="16" height="12"/></svg> failed (dots)</span></p>`;

function header(d: ReportData): string {
  const s = d.stats;
  const ok = s.conservation.ok
    ? '<strong>holds</strong> (in = kept + rejected + failed in every stage and between stages)'
    : `<strong>VIOLATED</strong>:<ul>${s.conservation.problems.map((p) => `<li>${esc(p)}</li>`).join('')}</ul>`;
  return `<header><h1>Caco run report</h1>
<dl class="facts">
<dt>Run</dt><dd><code>${esc(s.runId)}</code></dd>
<dt>Mode</dt><dd>${esc(s.mode)}</dd>
<dt>Input</dt><dd><code>${esc(s.input)}</code></dd>
<dt>Verified samples</dt><dd data-stat="samples">${n(s.samples)}</dd>
<dt>Code CoTs in the CodeGen set</dt><dd data-stat="codegen">${n(s.codegen)}</dd>
<dt>Models</dt><dd>${Object.entries(s.models).map(([r, m]) => `${esc(r)}: <code>${esc(m)}</code>`).join('; ') || '–'}</dd>
<dt>Conservation</dt><dd>${ok}</dd>
</dl>
<nav aria-label="Sections"><ul class="toc"><li><a href="#funnel">Funnel</a></li><li><a href="#reasons">Why records were dropped</a></li><li><a href="#sandbox">Sandbox</a></li><li><a href="#cost">Tokens and cost</a></li><li><a href="#decontam">Decontamination</a></li><li><a href="#clusters">Duplicates</a></li><li><a href="#shapes">Answer shapes</a></li><li><a href="#browse">Sample browser</a></li></ul></nav>
</header>`;
}

function funnel(d: ReportData): string {
  const scale = Math.max(1, ...d.stages.map((st) => d.stats.stages[st]!.in));
  const rows = d.stages
    .map((st) => {
      const s = d.stats.stages[st]!;
      const rej = sum(s.rejected);
      const fail = sum(s.failed);
      const drop = rej + fail > 0 ? `<a href="#reasons-${esc(st)}" data-funnel-link="${esc(st)}">${esc(st)}</a>` : esc(st);
      return `<tr data-stage="${esc(st)}"><th scope="row">${drop}</th><td data-col="in">${n(s.in)}</td><td data-col="kept">${n(s.kept)}</td><td data-col="rejected">${n(rej)}</td><td data-col="failed">${n(fail)}</td><td>${pct(s.kept, s.in)}</td><td class="barcell">${bar([{ value: s.kept, kind: 'kept' }, { value: rej, kind: 'rejected' }, { value: fail, kind: 'failed' }], scale)}</td></tr>`;
    })
    .join('\n');
  return `<section id="funnel" aria-labelledby="funnel-h"><h2 id="funnel-h">Funnel: what each stage took in and kept</h2>
<p>Each stage's records in = kept + rejected + failed. A stage name links to its reasons. Bars share one scale.</p>${LEGEND}
<table class="funnel"><thead><tr><th scope="col">stage</th><th scope="col">in</th><th scope="col">kept</th><th scope="col">rejected</th><th scope="col">failed</th><th scope="col">kept %</th><th scope="col"><span class="sr">bar</span></th></tr></thead>
<tbody>${rows}</tbody></table></section>`;
}

function reasons(d: ReportData): string {
  const blocks = d.stages
    .map((st) => {
      const s = d.stats.stages[st]!;
      const lines = [
        ...Object.entries(s.rejected).map(([reason, count]) => ({ reason, count, verdict: 'rejected' as const })),
        ...Object.entries(s.failed).map(([reason, count]) => ({ reason, count, verdict: 'failed' as const })),
      ].sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason));
      if (lines.length === 0) return '';
      const top = lines[0]!.count;
      const rows = lines
        .map(
          (l) =>
            `<tr data-reason="${esc(l.reason)}" data-verdict="${l.verdict}"><th scope="row"><a href="${esc(browseHref({ stage: st, verdict: l.verdict, reason: l.reason }))}">${esc(l.reason)}</a></th><td>${l.verdict}</td><td data-col="count">${n(l.count)}</td><td>${pct(l.count, s.in)}</td><td class="barcell">${bar([{ value: l.count, kind: l.verdict }], top)}</td></tr>`,
        )
        .join('\n');
      return `<section id="reasons-${esc(st)}" class="reasons" aria-labelledby="reasons-${esc(st)}-h" tabindex="-1"><h3 id="reasons-${esc(st)}-h">${esc(st)}: ${n(sum(s.rejected))} rejected, ${n(sum(s.failed))} failed of ${n(s.in)}</h3>
<table><thead><tr><th scope="col">reason (opens its records)</th><th scope="col">verdict</th><th scope="col">records</th><th scope="col">of stage's in</th><th scope="col"><span class="sr">bar</span></th></tr></thead><tbody>${rows}</tbody></table></section>`;
    })
    .filter(Boolean)
    .join('\n');
  return `<section id="reasons" aria-labelledby="reasons-h"><h2 id="reasons-h">Why records were dropped, per stage (largest first)</h2>
<p>Rejected: a decision about the record. Failed: something broke around it (an LLM outage after all retries, a sandbox crash).</p>${blocks || '<p>Nothing was dropped.</p>'}</section>`;
}

function sandbox(d: ReportData): string {
  const sb = d.sandbox;
  if (!d.stats.stages.execute) return `<section id="sandbox"><h2>Sandbox</h2><p>This run executed no programs.</p></section>`;
  const total = sb.statuses.reduce((a, s) => a + s.count, 0);
  const top = Math.max(1, ...sb.statuses.map((s) => s.count));
  const statuses = sb.statuses
    .map((s) => `<tr data-status="${esc(s.status)}"><th scope="row">${esc(s.status)}</th><td data-col="count">${n(s.count)}</td><td>${pct(s.count, total)}</td><td class="barcell">${bar([{ value: s.count, kind: 'plain' }], top)}</td></tr>`)
    .join('');
  const hTop = Math.max(1, ...sb.histogram.map((h) => h.count));
  const hist = sb.histogram.length
    ? `<table class="hist"><caption>Execution time of each program's first run${sb.totalMs !== null ? ` (mean ${(sb.totalMs / Math.max(1, sb.histogram.reduce((a, h) => a + h.count, 0))).toFixed(1)} ms)` : ''}</caption><thead><tr><th scope="col">time</th><th scope="col">programs</th><th scope="col"><span class="sr">bar</span></th></tr></thead><tbody>${sb.histogram
        .map((h) => `<tr><th scope="row">${esc(h.label)}</th><td>${n(h.count)}</td><td class="barcell">${bar([{ value: h.count, kind: 'plain' }], hTop)}</td></tr>`)
        .join('')}</tbody></table>`
    : '<p>Execution times were not recorded by the version that ran this run.</p>';
  return `<section id="sandbox" aria-labelledby="sandbox-h"><h2 id="sandbox-h">Sandbox: how programs ended, and how long they ran</h2>
<table><caption>Status of each program's first run</caption><thead><tr><th scope="col">status</th><th scope="col">programs</th><th scope="col">share</th><th scope="col"><span class="sr">bar</span></th></tr></thead><tbody>${statuses}</tbody></table>${hist}</section>`;
}

function cost(d: ReportData): string {
  const rows = d.llm
    .map(
      (u) =>
        `<tr data-role="${esc(u.role)}"><th scope="row">${esc(u.role)}</th><td><code>${esc(u.model)}</code></td><td>${n(u.requests)}</td><td>${n(u.cacheHits)}</td><td>${n(u.promptTokens)}</td><td>${n(u.completionTokens)}</td><td data-col="cached-tokens">${n(u.cachedPromptTokens + u.cachedCompletionTokens)}</td><td>${u.unpriced ? 'unknown (no price)' : usd(u.costUSD)}</td><td>${u.unpriced ? 'unknown' : usd(u.savedUSD)}</td></tr>`,
    )
    .join('');
  const t = d.llm.reduce(
    (a, u) => ({ req: a.req + u.requests, hit: a.hit + u.cacheHits, p: a.p + u.promptTokens, c: a.c + u.completionTokens, cached: a.cached + u.cachedPromptTokens + u.cachedCompletionTokens, usd: a.usd + u.costUSD, saved: a.saved + u.savedUSD }),
    { req: 0, hit: 0, p: 0, c: 0, cached: 0, usd: 0, saved: 0 },
  );
  const aws = d.aws
    ? `<table><caption>AWS cost of this run (${esc(d.aws.region)}, list prices of ${esc(d.aws.pricesAsOf)}; LLM tokens excluded)</caption><thead><tr><th scope="col">function</th><th scope="col">GB-s</th><th scope="col">Lambda</th><th scope="col">SQS</th><th scope="col">DynamoDB</th><th scope="col">S3</th><th scope="col">total</th></tr></thead><tbody>${d.aws.lines
        .map((l) => `<tr><th scope="row">${esc(l.function)}</th><td>${l.gbSeconds.toFixed(1)}</td><td>${usd(l.lambda)}</td><td>${usd(l.sqs)}</td><td>${usd(l.dynamodb)}</td><td>${usd(l.s3)}</td><td>${usd(l.total)}</td></tr>`)
        .join('')}</tbody><tfoot><tr><th scope="row">total</th><td colspan="5"></td><td data-aws-total>${usd(d.aws.total)}</td></tr></tfoot></table>`
    : '<p>AWS cost: not known here (a local run pays none; for an AWS run, <code>caco report &lt;runId&gt; --stack S</code> adds it from the cost ledger).</p>';
  return `<section id="cost" aria-labelledby="cost-h"><h2 id="cost-h">Tokens and cost per model and role</h2>
<table class="llm"><thead><tr><th scope="col">role</th><th scope="col">model</th><th scope="col">requests bought</th><th scope="col">answers from cache or cassette</th><th scope="col">prompt tokens bought</th><th scope="col">completion tokens bought</th><th scope="col">tokens from cache or cassette</th><th scope="col">cost</th><th scope="col">saved by cache</th></tr></thead>
<tbody>${rows || '<tr><td colspan="9">No LLM calls.</td></tr>'}</tbody>
<tfoot><tr><th scope="row">total</th><td></td><td>${n(t.req)}</td><td>${n(t.hit)}</td><td>${n(t.p)}</td><td>${n(t.c)}</td><td>${n(t.cached)}</td><td data-llm-total>${d.llm.some((u) => u.unpriced) ? (t.usd > 0 ? `${usd(t.usd)} + unknown` : 'unknown') : usd(t.usd)}</td><td>${usd(t.saved)}</td></tr></tfoot></table>${aws}</section>`;
}

function decontam(d: ReportData): string {
  const rows = d.decontam
    .map((h) => `<tr><th scope="row">${esc(h.benchmark)}</th><td>${esc(h.stage)}</td><td><a href="${esc(browseHref({ stage: h.stage, verdict: 'rejected', reason: `contaminated:${h.benchmark}` }))}">${n(h.count)}</a></td></tr>`)
    .join('');
  return `<section id="decontam" aria-labelledby="decontam-h"><h2 id="decontam-h">Decontamination hits per benchmark</h2>
${rows ? `<table><thead><tr><th scope="col">benchmark</th><th scope="col">stage (ingest: seeds; backtranslate: new problems)</th><th scope="col">records</th></tr></thead><tbody>${rows}</tbody></table>` : '<p>No record overlapped a benchmark test set.</p>'}</section>`;
}

function clusters(d: ReportData): string {
  const c = d.clusters;
  const table = (rows: { size: number; clusters: number }[], what: string) =>
    rows.length
      ? `<table><caption>${what}</caption><thead><tr><th scope="col">group size (survivor + copies)</th><th scope="col">groups</th></tr></thead><tbody>${rows.map((r) => `<tr><th scope="row">${r.size}</th><td>${n(r.clusters)}</td></tr>`).join('')}</tbody></table>`
      : `<p>${what}: none.</p>`;
  const largest = c.largest.length
    ? `<table><caption>Largest groups (the survivor is the earliest record; search its id to see the copies)</caption><thead><tr><th scope="col">survivor</th><th scope="col">kind</th><th scope="col">size</th></tr></thead><tbody>${c.largest
        .map((l) => `<tr><th scope="row"><a href="${esc(browseHref({ stage: 'dedup', reason: l.kind === 'near' ? 'near_duplicate' : 'duplicate', q: l.id }))}"><code>${esc(l.id)}</code></a></th><td>${l.kind}</td><td>${l.size}</td></tr>`)
        .join('')}</tbody></table>`
    : '';
  return `<section id="clusters" aria-labelledby="clusters-h"><h2 id="clusters-h">Duplicate groups</h2>${table(c.near, 'Near duplicates (MinHash, confirmed by Jaccard)')}${table(c.exact, 'Exact duplicates (normalized tokens)')}${largest}</section>`;
}

function shapes(d: ReportData): string {
  const top = Math.max(1, ...d.shapes.map((s) => s.all));
  const rows = d.shapes
    .map(
      (s) =>
        `<tr data-shape="${esc(s.shape)}"><th scope="row"><a href="${esc(browseHref({ shape: s.shape }))}">${esc(s.shape)}</a></th><td>${n(s.all)}</td><td><a href="${esc(browseHref({ shape: s.shape, verdict: 'kept' }))}">${n(s.kept)}</a></td><td class="barcell">${bar([{ value: s.kept, kind: 'kept' }, { value: s.all - s.kept, kind: 'rejected' }], top)}</td></tr>`,
    )
    .join('');
  return `<section id="shapes" aria-labelledby="shapes-h"><h2 id="shapes-h">Answer shapes</h2>
<p>The shape of each program's output (Python's <code>str()</code>; "no output" for records that never ran), over the browser's records: each candidate once, where it ended (the dataset, the CodeGen set, or the stage that dropped it).</p>
<table><thead><tr><th scope="col">shape</th><th scope="col">records</th><th scope="col">kept (dataset and CodeGen set)</th><th scope="col"><span class="sr">bar</span></th></tr></thead><tbody>${rows}</tbody></table></section>`;
}

const BROWSER = `<section id="browse" aria-labelledby="browse-h" tabindex="-1"><h2 id="browse-h">Sample browser</h2>
<p class="noscript-note">The browser needs JavaScript; every record is also in the dataset's JSONL files.</p>
<div id="browser"></div></section>`;

/** The browser's script, beside index.html: deferred, so the static summary paints first. */
export const PAGE_SCRIPT = 'page.js';

export function renderPage(d: ReportData, assets: { css: string }): string {
  // JSON inside <script>: "<" escaped so no text can close the element.
  const json = JSON.stringify({ ...d, stats: undefined }).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Caco run report: ${esc(d.stats.runId)}</title>
<style>${assets.css}</style></head>
<body><a class="skip" href="#browse">Skip to the sample browser</a>${PATTERNS}
<main>${header(d)}${funnel(d)}${reasons(d)}${sandbox(d)}${cost(d)}${decontam(d)}${clusters(d)}${shapes(d)}${BROWSER}</main>
<script id="caco-data" type="application/json">${json}</script>
<script defer src="${PAGE_SCRIPT}"></script>
</body></html>
`;
}
