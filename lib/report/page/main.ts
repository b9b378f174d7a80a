// The report's sample browser (bundled by esbuild into index.html; runs from file:// or S3).
// Records are in chunk files grouped by (stage, verdict, reason), so a stage or reason filter is a
// set of index ranges; shape and seed filters intersect those with facet lists loaded on demand;
// search scans the selected chunks progressively. Only the chunks shown are ever loaded.
import hljs from 'highlight.js/lib/core';
import python from 'highlight.js/lib/languages/python';
import { decodeDeltas, files, LOAD_FN, seedBucketOf } from '../facets.ts';
import { searchText, type ReportRecord } from '../record.ts';
import type { RecordGroup, ReportData } from '../summary.ts';

hljs.registerLanguage('python', python);

const data = JSON.parse(document.getElementById('caco-data')!.textContent!) as ReportData;
const groupsByStart = [...data.groups].sort((a, b) => a.start - b.start);

// ---- data files: <script> tags calling __caco_load(name, payload), so file:// works too ----
const waiting = new Map<string, (payload: unknown) => void>();
(window as unknown as Record<string, unknown>)[LOAD_FN] = (name: string, payload: unknown) => waiting.get(name)?.(payload);
const loaded = new Map<string, Promise<unknown>>();
const CHUNK_CACHE = 24;

function load<T>(name: string): Promise<T> {
  let p = loaded.get(name);
  if (p) {
    loaded.delete(name); // most recently used last
    loaded.set(name, p);
    return p as Promise<T>;
  }
  p = new Promise((resolve, reject) => {
    const s = document.createElement('script');
    waiting.set(name, (payload) => {
      waiting.delete(name);
      s.remove();
      resolve(payload);
    });
    s.onerror = () => {
      waiting.delete(name);
      loaded.delete(name);
      s.remove();
      reject(new Error(`could not load ${name} (is the report's data/ folder next to index.html?)`));
    };
    s.src = name;
    document.head.appendChild(s);
  });
  loaded.set(name, p);
  // Chunks are evicted oldest first; facet lists stay.
  const chunks = [...loaded.keys()].filter((k) => /\/g\d+-\d+\.js$/.test(k));
  if (chunks.length > CHUNK_CACHE) loaded.delete(chunks[0]!);
  return p as Promise<T>;
}

function groupOf(index: number): RecordGroup {
  let lo = 0;
  let hi = groupsByStart.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (groupsByStart[mid]!.start <= index) lo = mid;
    else hi = mid - 1;
  }
  return groupsByStart[lo]!;
}

function chunkOf(index: number): { name: string; offset: number } {
  const g = groupOf(index);
  const local = index - g.start;
  return { name: files.chunk(g.file, Math.floor(local / data.chunkSize)), offset: local % data.chunkSize };
}

async function recordAt(index: number): Promise<ReportRecord> {
  const { name, offset } = chunkOf(index);
  return (await load<ReportRecord[]>(name))[offset]!;
}

// ---- selections: sorted record indexes, as ranges or as an explicit list ----
interface Selection {
  size: number;
  at(i: number): number;
}

function rangeSelection(ranges: [number, number][]): Selection & { ranges: [number, number][] } {
  const before: number[] = [];
  let size = 0;
  for (const [a, b] of ranges) {
    before.push(size);
    size += b - a;
  }
  return {
    ranges,
    size,
    at(i) {
      let lo = 0;
      let hi = ranges.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (before[mid]! <= i) lo = mid;
        else hi = mid - 1;
      }
      return ranges[lo]![0] + (i - before[lo]!);
    },
  };
}

const listSelection = (list: Int32Array): Selection => ({ size: list.length, at: (i) => list[i]! });

function intersect(ranges: [number, number][], list: Int32Array): Int32Array {
  const out: number[] = [];
  let r = 0;
  for (const v of list) {
    while (r < ranges.length && ranges[r]![1] <= v) r++;
    if (r === ranges.length) break;
    if (v >= ranges[r]![0]) out.push(v);
  }
  return Int32Array.from(out);
}

function intersectLists(a: Int32Array, b: Int32Array): Int32Array {
  const out: number[] = [];
  let j = 0;
  for (const v of a) {
    while (j < b.length && b[j]! < v) j++;
    if (b[j] === v) out.push(v);
  }
  return Int32Array.from(out);
}

interface Filter {
  stage: string;
  verdict: string;
  reason: string;
  shape: string;
  seed: string;
  q: string;
  i: number;
}

const FIELDS = ['stage', 'verdict', 'reason', 'shape', 'seed', 'q'] as const;

function parseHash(): Filter | null {
  const h = decodeURIComponent(location.hash.slice(1)).startsWith('browse') ? location.hash.slice(1) : null;
  if (h === null) return null;
  const p = new URLSearchParams(h.includes('?') ? h.slice(h.indexOf('?') + 1) : '');
  const f = { i: Math.max(0, Number(p.get('i') ?? 0) || 0) } as Filter;
  for (const k of FIELDS) f[k] = p.get(k) ?? '';
  return f;
}

function hashOf(f: Filter): string {
  const p = new URLSearchParams();
  for (const k of FIELDS) if (f[k]) p.set(k, f[k]);
  if (f.i) p.set('i', String(f.i));
  return `#browse?${p.toString()}`;
}

const SEARCH_LIMIT = 1000;

async function select(f: Filter, progress: (msg: string) => void, stillWanted: () => boolean): Promise<Selection> {
  const ranges = data.groups
    .filter((g) => (!f.stage || g.stage === f.stage) && (!f.verdict || g.verdict === f.verdict) && (!f.reason || g.reason === f.reason))
    .map((g) => [g.start, g.start + g.count] as [number, number])
    .sort((a, b) => a[0] - b[0]);
  let list: Int32Array | null = null;
  if (f.shape) {
    const s = data.shapes.find((x) => x.shape === f.shape);
    list = s ? intersect(ranges, decodeDeltas(await load<string>(files.shape(s.index)))) : new Int32Array(0);
  }
  if (f.seed) {
    const bucket = data.seeds > 0 ? await load<Record<string, string>>(files.seeds(seedBucketOf(f.seed, data.seedBuckets))) : {};
    const seeded = intersect(ranges, decodeDeltas(bucket[f.seed] ?? ''));
    list = list ? intersectLists(list, seeded) : seeded;
  }
  let sel: Selection = list ? listSelection(list) : rangeSelection(ranges);
  if (f.q) {
    const q = f.q.toLowerCase();
    const hits: number[] = [];
    for (let i = 0; i < sel.size && hits.length < SEARCH_LIMIT; i++) {
      if (!stillWanted()) break;
      const index = sel.at(i);
      if (searchText(await recordAt(index)).includes(q)) hits.push(index);
      if (i % data.chunkSize === 0) progress(`Searching: ${i.toLocaleString('en-US')} of ${sel.size.toLocaleString('en-US')} records read, ${hits.length} matches so far…`);
    }
    const capped = hits.length >= SEARCH_LIMIT;
    sel = listSelection(Int32Array.from(hits));
    if (capped) progress(`Search stopped at the first ${SEARCH_LIMIT} matches; narrow it with more words or filters.`);
  }
  return sel;
}

// ---- the DOM ----
function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...kids: (Node | string | null)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const k of kids) if (k !== null) e.append(k);
  return e;
}

function options(select: HTMLSelectElement, values: { value: string; label: string }[], current: string): void {
  select.replaceChildren(...values.map((v) => el('option', { value: v.value }, v.label)));
  select.value = values.some((v) => v.value === current) ? current : '';
}

const root = document.getElementById('browser')!;
document.querySelector('.noscript-note')?.remove();
const stageSel = el('select', { name: 'stage', id: 'f-stage' });
const verdictSel = el('select', { name: 'verdict', id: 'f-verdict' });
const reasonSel = el('select', { name: 'reason', id: 'f-reason' });
const shapeSel = el('select', { name: 'shape', id: 'f-shape' });
const seedIn = el('input', { name: 'seed', id: 'f-seed', type: 'text', autocomplete: 'off', spellcheck: 'false', placeholder: 'seed id' });
const qIn = el('input', { name: 'q', id: 'f-q', type: 'search', placeholder: 'words in any field' });
const labelled = (text: string, control: HTMLElement) => el('label', { for: control.id }, text, control);
const form = el(
  'form',
  { role: 'search', 'aria-label': 'Filter records', class: 'filters' },
  labelled('Stage', stageSel),
  labelled('Verdict', verdictSel),
  labelled('Reason', reasonSel),
  labelled('Answer shape', shapeSel),
  labelled('Seed', seedIn),
  labelled('Search', qIn),
  el('button', { type: 'submit' }, 'Apply'),
  el('button', { type: 'button', id: 'f-clear' }, 'Clear'),
);
const status = el('p', { id: 'browse-status', role: 'status', 'aria-live': 'polite' });
const btn = (id: string, label: string, title: string) => el('button', { type: 'button', id, title }, label);
const first = btn('nav-first', '⇤ First', 'first record');
const prev = btn('nav-prev', '← Previous', 'previous record (k or ←)');
const next = btn('nav-next', 'Next →', 'next record (j or →)');
const last = btn('nav-last', 'Last ⇥', 'last record');
const nav = el('div', { class: 'nav', role: 'group', 'aria-label': 'Move between records' }, first, prev, next, last, el('span', { class: 'hint' }, 'Keys: j / → next, k / ← previous, / search'));
const pageList = el('ol', { id: 'page-list', class: 'page-list', 'aria-label': 'Records near this one' });
const view = el('article', { id: 'record', 'aria-live': 'polite' });
root.append(form, status, nav, el('div', { class: 'browser-body' }, el('nav', { 'aria-label': 'Records on this page' }, pageList), view));

const label = (g: { stage: string }) => (g.stage === 'dataset' ? 'dataset (kept samples)' : g.stage === 'codegen' ? 'codegen (verified seed Code CoTs)' : g.stage);
options(stageSel, [{ value: '', label: 'all stages' }, ...[...new Set(data.groups.map((g) => g.stage))].map((s) => ({ value: s, label: label({ stage: s }) }))], '');
options(verdictSel, [{ value: '', label: 'any' }, ...['kept', 'rejected', 'failed'].map((v) => ({ value: v, label: v }))], '');
options(shapeSel, [{ value: '', label: 'any' }, ...data.shapes.map((s) => ({ value: s.shape, label: `${s.shape} (${s.all.toLocaleString('en-US')})` }))], '');

function reasonOptions(stage: string, verdict: string, current: string): void {
  const counts = new Map<string, number>();
  for (const g of data.groups) if ((!stage || g.stage === stage) && (!verdict || g.verdict === verdict)) counts.set(g.reason, (counts.get(g.reason) ?? 0) + g.count);
  const sorted = [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  options(reasonSel, [{ value: '', label: 'any' }, ...sorted.map(([r, c]) => ({ value: r, label: `${r} (${c.toLocaleString('en-US')})` }))], current);
}

function formFilter(): Filter {
  return { stage: stageSel.value, verdict: verdictSel.value, reason: reasonSel.value, shape: shapeSel.value, seed: seedIn.value.trim(), q: qIn.value.trim(), i: 0 };
}

const go = (f: Filter) => {
  const h = hashOf(f);
  if (location.hash === h) void route();
  else location.hash = h;
};
form.addEventListener('submit', (e) => {
  e.preventDefault();
  go(formFilter());
});
for (const s of [stageSel, verdictSel, reasonSel, shapeSel]) {
  s.addEventListener('change', () => {
    if (s !== reasonSel) reasonOptions(stageSel.value, verdictSel.value, reasonSel.value);
    go(formFilter());
  });
}
document.getElementById('f-clear')!.addEventListener('click', () => go({ stage: '', verdict: '', reason: '', shape: '', seed: '', q: '', i: 0 }));

let current: { key: string; sel: Selection } | null = null;
let filter: Filter = { stage: '', verdict: '', reason: '', shape: '', seed: '', q: '', i: 0 };
let generation = 0;

const move = (to: number) => {
  if (!current || current.sel.size === 0) return;
  go({ ...filter, i: Math.max(0, Math.min(current.sel.size - 1, to)) });
};
first.addEventListener('click', () => move(0));
prev.addEventListener('click', () => move(filter.i - 1));
next.addEventListener('click', () => move(filter.i + 1));
last.addEventListener('click', () => move(Infinity));
document.addEventListener('keydown', (e) => {
  const t = e.target as HTMLElement;
  if (e.altKey || e.ctrlKey || e.metaKey || ['INPUT', 'SELECT', 'TEXTAREA'].includes(t.tagName)) return;
  if (e.key === 'j' || e.key === 'ArrowRight') move(filter.i + 1);
  else if (e.key === 'k' || e.key === 'ArrowLeft') move(filter.i - 1);
  else if (e.key === '/') {
    e.preventDefault();
    qIn.focus();
  } else return;
});

function section(title: string, body: Node | null, cls = ''): HTMLElement | null {
  if (!body) return null;
  return el('section', { class: `field ${cls}` }, el('h4', {}, title), body);
}

const pre = (text: string | undefined, cls = 'text') => (text === undefined ? null : el('pre', { class: cls }, text));

function codeBlock(code: string | undefined): HTMLElement | null {
  if (code === undefined) return null;
  const c = el('code', { class: 'hljs language-python' });
  c.innerHTML = hljs.highlight(code, { language: 'python', ignoreIllegals: true }).value; // hljs escapes the text
  return el('pre', { class: 'code' }, c);
}

function seedLinks(seeds: string[] | undefined): Node {
  if (!seeds?.length) return document.createTextNode('–');
  const span = el('span');
  seeds.forEach((s, i) => {
    if (i) span.append(', ');
    span.append(el('a', { href: hashOf({ stage: '', verdict: '', reason: '', shape: '', seed: s, q: '', i: 0 }) }, s));
  });
  return span;
}

function renderRecord(r: ReportRecord, index: number): void {
  const where = r.verdict === 'kept' ? (r.stage === 'dataset' ? ' in the dataset' : r.stage === 'codegen' ? ' in the CodeGen set' : ` by ${r.stage}`) : ` at ${r.stage}: `;
  const verdict = el('p', { class: `verdict verdict-${r.verdict}`, id: 'record-verdict' }, el('strong', {}, r.verdict.toUpperCase()), where);
  if (r.verdict !== 'kept') verdict.append(el('span', { class: 'reason', id: 'record-reason' }, r.reason));
  if (r.detail) verdict.append(' — ', el('span', { class: 'detail' }, r.detail));
  const facts = el(
    'dl',
    { class: 'facts' },
    el('dt', {}, 'Stage'),
    el('dd', { id: 'record-stage' }, r.stage),
    el('dt', {}, 'Seeds'),
    el('dd', {}, seedLinks(r.seeds)),
    el('dt', {}, 'Answer shape'),
    el('dd', {}, r.shape),
    el('dt', {}, 'Sandbox'),
    el('dd', {}, r.status ? `${r.status}${r.ms !== undefined ? `, ${r.ms} ms` : ''}` : '–'),
    el('dt', {}, 'Position'),
    el('dd', {}, `${(index + 1).toLocaleString('en-US')} of all ${data.total.toLocaleString('en-US')} records`),
  );
  view.dataset.id = r.id;
  view.dataset.reason = r.reason;
  view.dataset.stage = r.stage;
  view.replaceChildren(
    el('h3', { id: 'record-id' }, 'Record ', el('code', {}, r.id)),
    verdict,
    facts,
    ...[
      section('Problem', pre(r.problem)),
      section('Code CoT', codeBlock(r.code)),
      section('Program output', pre(r.output, 'output')),
      section('Program error', pre(r.error, 'output')),
      section('Natural-language solution', pre(r.solution)),
      section('Extracted answer', pre(r.answer, 'answer')),
      section('Gold answer (seed)', pre(r.gold, 'answer')),
      section('LLM reply', pre(r.reply)),
    ].filter((x): x is HTMLElement => x !== null),
  );
}

const PAGE = 20;

async function renderPageList(sel: Selection, at: number, wanted: () => boolean): Promise<void> {
  const from = Math.max(0, Math.min(at - Math.floor(PAGE / 2), sel.size - PAGE));
  const items: HTMLElement[] = [];
  for (let i = from; i < Math.min(sel.size, from + PAGE); i++) {
    const r = await recordAt(sel.at(i));
    if (!wanted()) return;
    const a = el('a', { href: hashOf({ ...filter, i }) }, el('code', {}, r.id), ` ${r.verdict === 'kept' ? 'kept' : r.reason}`);
    if (i === at) a.setAttribute('aria-current', 'true');
    items.push(el('li', { value: String(i + 1) }, a));
  }
  pageList.replaceChildren(...items);
}

async function route(): Promise<void> {
  const f = parseHash() ?? { ...filter, i: filter.i };
  const mine = ++generation;
  const wanted = () => mine === generation;
  const fromHash = parseHash() !== null;
  filter = f;
  stageSel.value = f.stage;
  verdictSel.value = f.verdict;
  reasonOptions(f.stage, f.verdict, f.reason);
  shapeSel.value = f.shape;
  seedIn.value = f.seed;
  qIn.value = f.q;
  const key = JSON.stringify({ ...f, i: 0 });
  try {
    if (current?.key !== key) {
      status.textContent = 'Selecting…';
      const sel = await select(f, (m) => wanted() && (status.textContent = m), wanted);
      if (!wanted()) return;
      current = { key, sel };
    }
    const sel = current.sel;
    if (sel.size === 0) {
      status.textContent = 'No record matches these filters.';
      view.replaceChildren();
      delete view.dataset.id;
      pageList.replaceChildren();
      return;
    }
    const i = Math.min(f.i, sel.size - 1);
    filter.i = i;
    const index = sel.at(i);
    const r = await recordAt(index);
    if (!wanted()) return;
    renderRecord(r, index);
    if (performance.getEntriesByName('caco-first-record').length === 0) performance.mark('caco-first-record'); // read by the bench
    status.textContent = `${sel.size.toLocaleString('en-US')} ${sel.size === 1 ? 'record matches' : 'records match'}. Record ${(i + 1).toLocaleString('en-US')} of ${sel.size.toLocaleString('en-US')}.`;
    prev.disabled = i === 0;
    first.disabled = i === 0;
    next.disabled = i >= sel.size - 1;
    last.disabled = i >= sel.size - 1;
    if (fromHash) document.getElementById('browse')!.scrollIntoView({ block: 'start' });
    await renderPageList(sel, i, wanted);
  } catch (err) {
    if (wanted()) status.textContent = `Error: ${(err as Error).message}`;
  }
}

window.addEventListener('hashchange', () => {
  if (parseHash()) void route();
});
// The summary is static HTML and paints first; the browser's first record loads after it.
if (parseHash()) void route();
else setTimeout(() => void route(), 0);
