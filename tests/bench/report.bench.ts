// npm run bench:report — the run report at scale. A synthetic run of N records (default 1,000,000;
// every stage's record shapes, realistic text sizes: tests/fixtures/report/synthetic-run.ts) is
// built into a folder, then opened from file:// in headless Chromium: time to first contentful
// paint, time until the sample browser shows its first record, and the time to jump to a
// reason, to filter by answer shape and to filter by seed. The same is measured in the same run
// for a 10,000-record baseline, and printed with the ratios, with the page's size; and the first
// paint of a one-heading page, the floor this browser and machine give any page.
// Env: N (default 1000000), BASELINE (default 10000), KEEP=1 keeps the built reports.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { pageAssets } from '../../lib/report/assets.ts';
import { buildReport } from '../../lib/report/build.ts';
import { launchChromium } from '../helpers/chromium.ts';
import { syntheticRun } from '../fixtures/report/synthetic-run.ts';

const N = Number(process.env.N ?? 1_000_000);
const BASELINE = Number(process.env.BASELINE ?? 10_000);
const mb = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;

function folderSize(dir: string): { bytes: number; files: number } {
  let bytes = 0;
  let files = 0;
  for (const f of readdirSync(dir, { recursive: true }) as string[]) {
    const s = statSync(join(dir, f));
    if (s.isFile()) {
      bytes += s.size;
      files++;
    }
  }
  return { bytes, files };
}

async function build(n: number, dir: string) {
  const t0 = performance.now();
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 200);
  const made = new Set<string>();
  const sink = {
    put: async (rel: string, body: string) => {
      const file = join(dir, rel);
      const d = dirname(file);
      if (!made.has(d)) mkdirSync(d, { recursive: true }), made.add(d);
      writeFileSync(file, body);
    },
  };
  const r = await buildReport(syntheticRun(n, 11).input, sink, { assets: await pageAssets() });
  clearInterval(timer);
  return { ...r, buildMs: performance.now() - t0, peakRss: peak, ...folderSize(dir) };
}

/** First contentful paint of a one-heading page: what the browser itself costs here. */
async function blankPaint(dir: string, rounds = 3): Promise<number> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'index.html'), '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>x</title></head><body><h1>Hello</h1></body></html>');
  const all: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const browser = await launchChromium();
    try {
      const page = await browser.context.newPage();
      await page.goto(pathToFileURL(join(dir, 'index.html')).href);
      await page.waitForFunction(() => performance.getEntriesByName('first-contentful-paint').length > 0);
      all.push(await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]!.startTime));
    } finally {
      await browser.close();
    }
  }
  return all.sort((a, b) => a - b)[1]!;
}

interface Timings {
  fcp: number;
  ready: number;
  reason: number;
  shape: number;
  seed: number;
}

/** One cold-browser measurement of a report folder. */
async function openOnce(dir: string): Promise<Timings> {
  const url = pathToFileURL(join(dir, 'index.html')).href;
  {
    const browser = await launchChromium(); // a cold profile each round: nothing cached
    try {
      const page = await browser.context.newPage();
      await page.goto(url);
      await page.waitForSelector('#record[data-id]', { timeout: 60_000 });
      const t = await page.evaluate(() => ({
        fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN,
        ready: performance.getEntriesByName('caco-first-record')[0]?.startTime ?? NaN,
      }));
      // Jump to the third-largest filter reason, then filter by a shape and by a seed.
      const timed = async (act: () => Promise<void>, done: string) => {
        const t0 = await page.evaluate(() => performance.now());
        await act();
        await page.waitForFunction(done, undefined, { timeout: 120_000 });
        return (await page.evaluate(() => performance.now())) - t0;
      };
      const reasonHref = await page.getAttribute('#reasons-filter tbody tr:nth-child(3) a', 'href');
      const reason = await timed(() => page.evaluate((h) => void (location.hash = h!), reasonHref), `document.querySelector('#browse-status')?.textContent?.includes('Record 1 of')`);
      await page.click('#f-clear');
      const shape = await timed(() => page.selectOption('#f-shape', 'fraction').then(() => undefined), `location.hash.includes('shape=fraction') && document.querySelector('#browse-status')?.textContent?.includes('Record 1 of')`);
      await page.click('#f-clear');
      const seedId = 'gsm8k-train-000007';
      const seed = await timed(async () => {
        await page.fill('#f-seed', seedId);
        await page.press('#f-seed', 'Enter');
      }, `location.hash.includes('seed=') && document.querySelector('#browse-status')?.textContent?.includes('Record 1 of')`);
      return { fcp: t.fcp, ready: t.ready, reason, shape, seed };
    } finally {
      await browser.close();
    }
  }
}

/** Median of `rounds` measurements of each folder, interleaved (a, b, a, b, ...) so that machine
 * load and the page cache weigh on both alike. */
async function openInterleaved(dirs: string[], rounds = 4): Promise<Timings[]> {
  const all: Timings[][] = dirs.map(() => []);
  for (let round = 0; round < rounds; round++) {
    const order = dirs.map((_, i) => i);
    if (round % 2) order.reverse(); // a, b, b, a, a, b: neither always goes first
    for (const i of order) all[i]!.push(await openOnce(dirs[i]!));
  }
  return all.map((runs) => {
    const median = (k: keyof Timings) => {
      const v = runs.map((x) => x[k]).sort((a, b) => a - b);
      return (v[(v.length - 1) >> 1]! + v[v.length >> 1]!) / 2;
    };
    return { fcp: median('fcp'), ready: median('ready'), reason: median('reason'), shape: median('shape'), seed: median('seed') };
  });
}

const root = mkdtempSync(join(tmpdir(), 'caco-report-bench-'));
try {
  console.log(`report bench: ${N.toLocaleString('en-US')} records, baseline ${BASELINE.toLocaleString('en-US')} (median of 4 cold browser launches each, in the order a b b a a b b a)`);
  const base = await build(BASELINE, join(root, 'base'));
  const big = await build(N, join(root, 'big'));
  const blank = await blankPaint(join(root, 'blank'));
  const [baseT, bigT] = await openInterleaved([join(root, 'base'), join(root, 'big')]);
  const row = (label: string, b: string, x: string, ratio: string) => console.log(`${label.padEnd(34)} ${b.padStart(14)} ${x.padStart(14)} ${ratio.padStart(8)}`);
  const ms = (v: number) => `${v.toFixed(0)} ms`;
  row('', `${BASELINE.toLocaleString('en-US')}`, `${N.toLocaleString('en-US')}`, 'ratio');
  const kib = (b: number) => `${(b / 1024).toFixed(1)} KiB`;
  row('index.html (all the first paint needs)', kib(base.indexBytes), kib(big.indexBytes), (big.indexBytes / base.indexBytes).toFixed(2));
  const script = statSync(join(root, 'big', 'page.js')).size;
  console.log(`  (plus page.js, the browser's script: ${(script / 1024).toFixed(1)} KiB, deferred; and one chunk per record shown)`);
  row('whole report folder', mb(base.bytes), mb(big.bytes), (big.bytes / base.bytes).toFixed(1));
  row('files', String(base.files), String(big.files), (big.files / base.files).toFixed(1));
  row('build time', ms(base.buildMs), ms(big.buildMs), (big.buildMs / base.buildMs).toFixed(1));
  row('build peak RSS', mb(base.peakRss), mb(big.peakRss), (big.peakRss / base.peakRss).toFixed(2));
  row('first contentful paint', ms(baseT.fcp), ms(bigT.fcp), (bigT.fcp / baseT.fcp).toFixed(2));
  console.log(`  (a one-heading page paints in ${ms(blank)} in the same browser: the browser's own floor here)`);
  row('browser shows its first record', ms(baseT.ready), ms(bigT.ready), (bigT.ready / baseT.ready).toFixed(2));
  row('jump to a rejection reason', ms(baseT.reason), ms(bigT.reason), (bigT.reason / baseT.reason).toFixed(2));
  row('filter by answer shape', ms(baseT.shape), ms(bigT.shape), (bigT.shape / baseT.shape).toFixed(2));
  row('filter by seed', ms(baseT.seed), ms(bigT.seed), (bigT.seed / baseT.seed).toFixed(2));
  if (process.env.KEEP) console.log(`kept: ${root}`);
} finally {
  if (!process.env.KEEP) rmSync(root, { recursive: true, force: true });
}
