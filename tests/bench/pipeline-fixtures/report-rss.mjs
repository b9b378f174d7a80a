// Preloaded into the CLI process by the pipeline bench (`node --import <this>`): at exit, writes
// the process's own peak RSS (getrusage maxRSS, and VmHWM from /proc) and its final heap to the
// file named by CACO_BENCH_RSS_FILE. With CACO_BENCH_MEM_TRACE set, it also appends one line of
// process.memoryUsage() per second to that file (where growth is: JS heap, external buffers or
// native memory outside both). Sandbox workers are separate processes; the bench samples them
// from outside.
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';

const file = process.env.CACO_BENCH_RSS_FILE;
const trace = process.env.CACO_BENCH_MEM_TRACE;
const t0 = performance.now();
const MB = 1024 * 1024;

if (trace) {
  setInterval(() => {
    const m = process.memoryUsage();
    const row = { t: Math.round(performance.now() - t0), rss: m.rss / MB, heapTotal: m.heapTotal / MB, heapUsed: m.heapUsed / MB, external: m.external / MB, arrayBuffers: m.arrayBuffers / MB };
    appendFileSync(trace, JSON.stringify(row, (_, v) => (typeof v === 'number' ? Math.round(v) : v)) + '\n');
  }, 1000).unref();
}

if (file) {
  process.on('exit', () => {
    let hwmKb = null;
    try {
      hwmKb = Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? NaN);
    } catch {}
    const m = process.memoryUsage();
    writeFileSync(file, JSON.stringify({ maxRssKb: process.resourceUsage().maxRSS, hwmKb, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers }));
  });
}
