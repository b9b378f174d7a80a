// The sandbox child process's main thread. It owns one worker thread running Pyodide, times every
// program, interrupts the one that overruns (interrupt buffer), terminates the worker when the
// interrupt is not honoured (loops in C, time.sleep), and replaces the worker after a crash, a
// memory-ceiling hit or a program that changed interpreter state. It talks to the pool over IPC.
import { Worker } from 'node:worker_threads';

const cfg = JSON.parse(process.argv[2]);
const GRACE_MS = 500;

let worker = null;
let workerReady = false;
let ctrl = null;
let batch = null; // { batchId, remaining: jobs[], results: [] }
let timer = null;
let grace = null;
let lastEvent = 0;
let interrupted = false;

function startWorker() {
  const sab = new SharedArrayBuffer(8);
  ctrl = new Int32Array(sab);
  const w = new Worker(new URL('./worker.mjs', import.meta.url), {
    workerData: { ...cfg, sab },
    resourceLimits: { maxOldGenerationSizeMb: 512 },
    stdout: true,
    stderr: true,
    env: {},
  });
  worker = w;
  workerReady = false;
  w.stdout.resume();
  w.stderr.on('data', (d) => process.stderr.write(d.toString().slice(0, 2000)));
  w.on('message', (m) => {
    if (w !== worker) return;
    if (m.type === 'ready') {
      workerReady = true;
      failedStarts = 0;
      process.send({ type: 'ready', baseHeap: m.baseHeap });
      if (batch) sendRemaining();
    } else if (m.type === 'result') onResult(m);
  });
  w.on('error', (e) => w === worker && onWorkerDeath(e));
  w.on('exit', (code) => w === worker && onWorkerDeath(new Error(`worker exited with code ${code}`)));
}

function replaceWorker() {
  const old = worker;
  worker = null;
  clearTimeout(timer);
  clearTimeout(grace);
  if (old) {
    // terminate() stops wasm and Atomics.wait; if it does not finish, give up on the whole process
    // (the pool requeues what was not finished).
    const hard = setTimeout(() => bail('worker did not terminate'), 3000);
    old.terminate().finally(() => clearTimeout(hard));
  }
  startWorker();
}

function sendRemaining() {
  if (!batch || !worker || !workerReady || batch.remaining.length === 0) return;
  interrupted = false;
  lastEvent = performance.now();
  worker.postMessage({ type: 'run', jobs: batch.remaining });
  armTimer();
}

function armTimer() {
  clearTimeout(timer);
  clearTimeout(grace);
  if (!batch || batch.remaining.length === 0) return;
  const seq = batch.remaining[0].seq;
  timer = setTimeout(() => onTimeout(seq), Math.max(0, lastEvent + cfg.timeoutMs - performance.now()));
}

function onTimeout(seq) {
  if (!batch || batch.remaining[0]?.seq !== seq) return;
  interrupted = true;
  if (Atomics.load(ctrl, 1) === seq) Atomics.store(ctrl, 0, 2); // SIGINT -> KeyboardInterrupt
  grace = setTimeout(() => {
    if (!batch || batch.remaining[0]?.seq !== seq) return;
    finish(synthetic(seq, 'timeout', 'Timeout', `wall-clock limit of ${cfg.timeoutMs} ms reached (worker terminated)`));
    replaceWorker();
  }, GRACE_MS);
}

function synthetic(seq, status, type, message) {
  return { seq, status, input: null, output: null, outputSource: null, stdout: '', stderr: '', truncated: false,
    error: { type, message }, durationMs: performance.now() - lastEvent };
}

function onResult(m) {
  if (!batch || batch.remaining[0]?.seq !== m.seq) return;
  let r;
  try {
    r = JSON.parse(m.json);
  } catch {
    r = synthetic(m.seq, 'error', 'SandboxError', 'unreadable result');
  }
  r.seq = m.seq;
  if (m.memHit && r.status !== 'memory') {
    r.status = 'memory';
    r.error = { type: 'MemoryError', message: `memory ceiling of ${cfg.memoryMb} MB reached` };
  }
  if (interrupted && r.status !== 'ok') {
    r.status = 'timeout';
    r.error = { type: 'Timeout', message: `wall-clock limit of ${cfg.timeoutMs} ms reached` };
  }
  const recycle = m.recycle;
  finish(r);
  if (recycle) replaceWorker();
  else armTimer();
}

function finish(result) {
  interrupted = false;
  lastEvent = performance.now();
  batch.remaining.shift();
  batch.results.push(result);
  if (batch.remaining.length === 0) {
    clearTimeout(timer);
    clearTimeout(grace);
    process.send({ type: 'done', batchId: batch.batchId, results: batch.results });
    batch = null;
  }
}

let failedStarts = 0;
function onWorkerDeath(err) {
  const msg = String(err?.message ?? err);
  if (!workerReady && ++failedStarts >= 3) {
    // The interpreter cannot start at all: say why and let the pool report it.
    process.stderr.write(`sandbox worker failed to start: ${String(err?.stack ?? msg).slice(0, 3000)}\n`);
    process.exit(1);
  }
  if (batch && batch.remaining.length) {
    const seq = batch.remaining[0].seq;
    const oom = /out of memory|ERR_WORKER_OUT_OF_MEMORY|memory/i.test(msg + (err?.code ?? ''));
    finish(interrupted
      ? synthetic(seq, 'timeout', 'Timeout', `wall-clock limit of ${cfg.timeoutMs} ms reached`)
      : synthetic(seq, oom ? 'memory' : 'error', oom ? 'MemoryError' : 'SandboxCrash', msg.slice(0, 500)));
  }
  worker = null;
  startWorker();
}

function bail(reason) {
  // Tell the pool what is finished; it requeues the rest and replaces this process.
  if (batch) process.send({ type: 'partial', batchId: batch.batchId, results: batch.results, reason });
  process.exit(70);
}

process.on('message', (m) => {
  if (m.type === 'batch') {
    batch = { batchId: m.batchId, remaining: m.jobs, results: [] };
    sendRemaining();
  } else if (m.type === 'exit') {
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
setInterval(() => process.send({ type: 'alive' }), 1000).unref();
startWorker();
