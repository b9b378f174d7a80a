// The demo's report page in a real browser (Debian's chromium through playwright-core): the
// numbers on the page are stats.json's, a click goes from the funnel to a rejection reason to one
// of its records, the browser filters, searches and moves with the keyboard, nothing is fetched
// from outside the report folder, and `caco report <out>` rebuilds the same page. Screenshots go
// to test-artifacts/report/.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Page } from 'playwright-core';
import { DEMO_CONFIG, DEMO_INPUT } from '../../lib/cli/demo.ts';
import { loadConfigFile, runLocal } from '../../lib/local/run-local.ts';
import { launchChromium, type Browser } from '../helpers/chromium.ts';
import { REPO_ROOT, runCli } from '../helpers/run-cli.ts';
import { readConfig, type Row } from '../helpers/dataset.ts';

const SHOTS = join(REPO_ROOT, 'test-artifacts', 'report');
const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);
const num = (s: string | null) => Number((s ?? '').replace(/[,$\s]/g, ''));

interface Stage {
  in: number;
  kept: number;
  rejected: Record<string, number>;
  failed: Record<string, number>;
  counters: Record<string, number>;
}

let out: string;
let dataset: string;
let stats: { samples: number; codegen: number; stages: Record<string, Stage> };
/** The dataset's samples and rejected records, as its Parquet parts hold them. */
let samples: Row[];
let rejected: Row[];
let browser: Browser;
let page: Page;
const requests: string[] = [];
const errors: string[] = [];

before(async () => {
  out = mkdtempSync(join(tmpdir(), 'caco-report-'));
  const r = await runLocal({ input: DEMO_INPUT, config: loadConfigFile(DEMO_CONFIG), configDir: dirname(DEMO_CONFIG), out, progress: 'quiet' });
  assert.equal(r.status, 'done', JSON.stringify(r.deadLetters));
  dataset = r.datasetDir!;
  stats = JSON.parse(readFileSync(join(dataset, 'stats.json'), 'utf8'));
  samples = await readConfig(dataset, 'default');
  rejected = await readConfig(dataset, 'rejected');
  rmSync(SHOTS, { recursive: true, force: true });
  mkdirSync(SHOTS, { recursive: true });
  browser = await launchChromium(); // fails (does not skip) when chromium is missing
  page = await browser.context.newPage();
  page.on('request', (req) => requests.push(req.url()));
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  await page.goto(pathToFileURL(join(dataset, 'report', 'index.html')).href);
  await page.waitForSelector('#record[data-id]');
});

after(async () => {
  await browser?.close();
  if (out) rmSync(out, { recursive: true, force: true });
});

const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`) });

test('the page shows stats.json: funnel, reasons, sandbox, tokens, decontamination, totals', async () => {
  await shot('1-overview');
  assert.equal(num(await page.textContent('[data-stat="samples"]')), stats.samples);
  assert.equal(num(await page.textContent('[data-stat="codegen"]')), stats.codegen);
  const shownStages = await page.$$eval('table.funnel tbody tr', (rows) => rows.map((r) => r.getAttribute('data-stage')));
  assert.deepEqual(shownStages, Object.keys(stats.stages), 'the funnel lists the stages of stats.json, in its order');
  for (const [name, s] of Object.entries(stats.stages)) {
    const cell = async (col: string) => num(await page.textContent(`table.funnel tr[data-stage="${name}"] td[data-col="${col}"]`));
    assert.deepEqual([await cell('in'), await cell('kept'), await cell('rejected'), await cell('failed')], [s.in, s.kept, sum(s.rejected), sum(s.failed)], name);
    for (const [verdict, reasons] of [['rejected', s.rejected], ['failed', s.failed]] as const) {
      for (const [reason, count] of Object.entries(reasons)) {
        const shown = await page.textContent(`#reasons-${name} tr[data-reason="${reason}"][data-verdict="${verdict}"] td[data-col="count"]`);
        assert.equal(num(shown), count, `${name} ${verdict} ${reason}`);
      }
    }
    const rows = await page.$$eval(`#reasons-${name} tbody tr td[data-col="count"]`, (tds) => tds.map((t) => Number(t.textContent!.replace(/,/g, ''))));
    assert.deepEqual(rows, [...rows].sort((a, b) => b - a), `${name}: largest reason first`);
  }
  // Sandbox status mix and execution-time histogram: the execute stage's counters.
  const ex = stats.stages.execute!.counters;
  for (const [k, v] of Object.entries(ex)) {
    if (k.startsWith('status_')) assert.equal(num(await page.textContent(`#sandbox tr[data-status="${k.slice(7)}"] td[data-col="count"]`)), v, k);
  }
  const hist = await page.$$eval('#sandbox table.hist tbody td:nth-of-type(1)', (tds) => tds.map((t) => Number(t.textContent!.replace(/,/g, ''))));
  assert.equal(hist.reduce((a, b) => a + b, 0), ex.executed, 'every executed program is in the histogram');
  // LLM usage: cache hits per role are the stages' llm| counters.
  for (const role of ['unify', 'generate', 'reverse', 'solve']) {
    const hits = Object.values(stats.stages).reduce((a, s) => a + Object.entries(s.counters).filter(([k]) => k.startsWith(`llm|${role}|`) && k.endsWith('|cache_hits')).reduce((x, [, v]) => x + v, 0), 0);
    assert.equal(num(await page.textContent(`#cost tr[data-role="${role}"] td:nth-of-type(3)`)), hits, role);
    const cached = Object.values(stats.stages).reduce((a, s) => a + Object.entries(s.counters).filter(([k]) => k.startsWith(`llm|${role}|`) && /\|cached_(prompt|completion)_tokens$/.test(k)).reduce((x, [, v]) => x + v, 0), 0);
    assert.ok(cached > 0, `${role}: the cassette's answers carry their token counts`);
    assert.equal(num(await page.textContent(`#cost tr[data-role="${role}"] td[data-col="cached-tokens"]`)), cached, role);
  }
  // Decontamination: the contaminated:<benchmark> rejections.
  const decon = await page.$$eval('#decontam tbody tr', (rows) => rows.map((r) => [r.querySelector('th')!.textContent, r.querySelectorAll('td')[0]!.textContent, Number(r.querySelectorAll('td')[1]!.textContent)]));
  const want = Object.entries(stats.stages).flatMap(([st, s]) => Object.entries(s.rejected).filter(([k]) => k.startsWith('contaminated:')).map(([k, v]) => [k.slice(13), st, v]));
  assert.deepEqual(decon.sort(), want.sort());
  // The browser holds every sample, CodeGen record and rejected or failed record once.
  const rejectedLines = rejected.length;
  const shapes = await page.$$eval('#shapes tbody tr td:nth-of-type(1)', (tds) => tds.map((t) => Number(t.textContent!.replace(/,/g, ''))));
  assert.equal(shapes.reduce((a, b) => a + b, 0), stats.samples + stats.codegen + rejectedLines);
});

test('funnel -> rejection reason -> record', async () => {
  await page.click('table.funnel a[data-funnel-link="filter"]');
  assert.equal(new URL(page.url()).hash, '#reasons-filter');
  assert.ok(await page.locator('#reasons-filter').isVisible());
  await shot('2-reasons-filter');
  const first = page.locator('#reasons-filter tbody tr').first();
  const reason = (await first.getAttribute('data-reason'))!;
  await first.locator('a').click();
  await page.waitForFunction((r) => document.querySelector('#record')?.getAttribute('data-reason') === r, reason);
  const id = (await page.getAttribute('#record', 'data-id'))!;
  const inFile = rejected.filter((x) => x.stage === 'filter' && x.reason === reason).map((x) => x.id);
  assert.ok(inFile.includes(id), `${id} is a filter rejection with reason ${reason}`);
  assert.match((await page.textContent('#browse-status'))!, new RegExp(`^${stats.stages.filter!.rejected[reason]} records? match`));
  assert.equal(await page.textContent('#record-reason'), reason);
  assert.ok(await page.locator('#record pre.code .hljs-keyword').count(), 'the Code CoT is highlighted');
  await shot('3-record-rejected');
});

test('a kept sample shows problem, Code CoT, output, NL solution and extracted answer; keys move between records', async () => {
  await page.click('#f-clear');
  await page.selectOption('#f-stage', 'dataset');
  await page.waitForFunction(() => document.querySelector('#record')?.getAttribute('data-stage') === 'dataset');
  const sample = samples[0];
  assert.equal(await page.getAttribute('#record', 'data-id'), sample.id);
  const text = (await page.textContent('#record'))!;
  for (const part of [sample.instruction, sample.code_output, sample.answer]) assert.ok(text.includes(part), `shows ${part.slice(0, 40)}`);
  for (const h of ['Problem', 'Code CoT', 'Program output', 'Natural-language solution', 'Extracted answer']) assert.ok(text.includes(h), h);
  await shot('4-record-kept');
  await page.locator('body').click({ position: { x: 5, y: 5 } });
  await page.keyboard.press('j');
  await page.waitForFunction((id) => document.querySelector('#record')?.getAttribute('data-id') !== id, sample.id);
  assert.equal(await page.getAttribute('#record', 'data-id'), samples[1].id);
  await page.keyboard.press('ArrowLeft');
  await page.waitForFunction((id) => document.querySelector('#record')?.getAttribute('data-id') === id, sample.id);
});

test('filters by answer shape and seed, and searches', async () => {
  await page.click('#f-clear');
  const shape = 'fraction';
  const count = num(await page.textContent(`#shapes tr[data-shape="${shape}"] td:nth-of-type(1)`));
  await page.selectOption('#f-shape', shape);
  await page.waitForFunction((n) => document.querySelector('#browse-status')?.textContent?.startsWith(`${n} record`), count);
  // Walk the whole selection: every record shown has that shape.
  for (let i = 0; i < count; i++) {
    assert.match((await page.textContent('#record dl.facts'))!, /Answer shape\s*fraction/);
    if (i < count - 1) {
      const id = await page.getAttribute('#record', 'data-id');
      await page.click('#nav-next');
      await page.waitForFunction((prev) => document.querySelector('#record')?.getAttribute('data-id') !== prev, id);
    }
  }
  // Seed: records derived from a seed (its unified Code CoT, samples that used it as an example).
  await page.click('#f-clear');
  await page.selectOption('#f-stage', 'dataset');
  await page.waitForFunction(() => document.querySelector('#record')?.getAttribute('data-stage') === 'dataset');
  const seed = samples[0].provenance.examples[0];
  const derived = samples.filter((d) => d.provenance.examples?.includes(seed)).length;
  await page.fill('#f-seed', seed);
  await page.click('.filters button[type="submit"]');
  await page.waitForFunction((n) => document.querySelector('#browse-status')?.textContent?.startsWith(`${n} record`), derived);
  // Search across every record.
  await page.click('#f-clear');
  const target = rejected.filter((x) => x.stage === 'backtranslate')[0];
  await page.fill('#f-q', target.id);
  await page.press('#f-q', 'Enter');
  await page.waitForFunction((id) => document.querySelector('#record')?.getAttribute('data-id') === id, target.id);
  await shot('5-search');
});

test('nothing is loaded from outside the report folder; no script errors; no web fonts; prints', async () => {
  const base = pathToFileURL(join(dataset, 'report')).href;
  const outside = requests.filter((u) => !u.startsWith(base));
  assert.deepEqual(outside, [], 'every request stays in the report folder');
  assert.deepEqual(errors, []);
  const html = readFileSync(join(dataset, 'report', 'index.html'), 'utf8');
  const external = /@font-face|url\(\s*['"]?(https?:)?\/\/|<link\b|\bsrc="(https?:)?\/\//.exec(html);
  assert.equal(external, null, `no web fonts, stylesheets or scripts from elsewhere: ${external?.[0]}`);
  await page.goto(pathToFileURL(join(dataset, 'report', 'index.html')).href);
  await page.emulateMedia({ media: 'print' });
  assert.equal(await page.locator('.filters').isVisible(), false, 'controls are hidden in print');
  await page.screenshot({ path: join(SHOTS, '6-print.png'), fullPage: true });
  await page.emulateMedia({ media: 'screen' });
});

test('caco report <out-dir> rebuilds the same page', { timeout: 120_000 }, async () => {
  const before = readFileSync(join(dataset, 'report', 'index.html'), 'utf8');
  rmSync(join(dataset, 'report'), { recursive: true });
  const r = await runCli(['report', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /report: .*index\.html/);
  assert.equal(readFileSync(join(dataset, 'report', 'index.html'), 'utf8'), before);
  const bad = await runCli(['report', tmpdir()]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /not a caco output folder/);
});
