// The sandbox child process's main thread. It owns one worker thread running Pyodide, watches
// which program runs (ctrl[1], written by the worker), interrupts the one that overruns (the
// interrupt buffer), terminates the worker when the interrupt is not honoured (loops in C,
// time.sleep), and replaces the worker after a crash, a memory-ceiling hit or a program that
// changed interpreter state. It talks to the pool over IPC, one message per batch.
import { Worker } from 'node:worker_threads';

const cfg = JSON.parse(process.argv[2]);
const GRACE_MS = 500;
const TICK_MS = 20;

let worker = null;
let workerReady = false;
let ctrl = null;
let batch = null; // { batchId, remaining: jobs[], results: string[] }
let recycles = 0; // interpreters replaced since the last report (state, memory, timeout, crash)
let reasons = []; // why interpreters were replaced since the last report
let guardMs = 0; // time the state guard took since the last report
// The watch on the running program: which seq, since when, and whether it was interrupted.
let watchSeq = -1;
let watchSince = 0;
let interruptedSeq = -1;
let interruptedAt = 0;
let failedStarts = 0;

function startWorker() {
  const sab = new SharedArrayBuffer(8);
  ctrl = new Int32Array(sab);
  ctrl[1] = -1;
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
      sendRemaining();
    } else if (m.type === 'results') onResults(m.items);
  });
  w.on('error', (e) => w === worker && onWorkerDeath(e));
  w.on('exit', (code) => w === worker && onWorkerDeath(new Error(`worker exited with code ${code}`)));
}

function replaceWorker() {
  const old = worker;
  worker = null;
  recycles++;
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
  watchSeq = -1;
  worker.postMessage({ type: 'run', jobs: batch.remaining });
}

// The watchdog: a program running longer than the limit is interrupted, then terminated.
setInterval(() => {
  if (!batch || !ctrl || !workerReady) return;
  const now = performance.now();
  const seq = Atomics.load(ctrl, 1);
  if (seq !== watchSeq) {
    watchSeq = seq;
    watchSince = now;
    return;
  }
  if (seq < 0) return;
  if (interruptedSeq !== seq && now - watchSince > cfg.timeoutMs) {
    interruptedSeq = seq;
    interruptedAt = now;
    Atomics.store(ctrl, 0, 2); // SIGINT -> KeyboardInterrupt in Python
  } else if (interruptedSeq === seq && now - interruptedAt > GRACE_MS) {
    // Replace first, so the recycle is counted in the batch report this completion may send.
    replaceWorker();
    complete(seq, synthetic(seq, 'timeout', 'Timeout', `wall-clock limit of ${cfg.timeoutMs} ms reached (worker terminated)`, now - watchSince));
  }
}, TICK_MS).unref();

function synthetic(seq, status, type, message, durationMs = 0) {
  return JSON.stringify({ status, input: null, output: null, outputSource: null, stdout: '', stderr: '', truncated: false,
    error: { type, message }, durationMs });
}

function onResults(items) {
  // The worker stops after a result that asks for a recycle: replace it before completing, so the
  // recycle is counted in the batch report that completion may send (not a later batch's).
  if (items.some((it) => it.recycle) && batch !== undefined) replaceWorker();
  for (const it of items) {
    let json = it.json;
    if (it.memHit || it.seq === interruptedSeq) {
      const r = JSON.parse(json);
      if (it.memHit && r.status !== 'memory') {
        r.status = 'memory';
        r.error = { type: 'MemoryError', message: `memory ceiling of ${cfg.memoryMb} MB reached` };
      } else if (it.seq === interruptedSeq && !['ok', 'output_limit', 'memory'].includes(r.status)) {
        r.status = 'timeout';
        r.error = { type: 'Timeout', message: `wall-clock limit of ${cfg.timeoutMs} ms reached` };
      }
      json = JSON.stringify(r);
    }
    if (it.reason) reasons.push(it.reason);
    guardMs += it.guardMs ?? 0;
    complete(it.seq, json);
  }
}

/** Records the result (a JSON text) of program `seq`; sends the batch when it is complete. */
function complete(seq, json) {
  if (!batch) return;
  const i = batch.remaining.findIndex((j) => j.seq === seq);
  if (i < 0) return;
  batch.remaining.splice(i, 1);
  batch.results.push(`{"seq":${seq},"r":${json}}`);
  if (batch.remaining.length === 0) {
    process.send({ type: 'done', batchId: batch.batchId, payload: `[${batch.results.join(',')}]`, recycles, reasons, guardMs });
    recycles = 0;
    reasons = [];
    guardMs = 0;
    batch = null;
  }
}

function onWorkerDeath(err) {
  const msg = String(err?.message ?? err);
  if (!workerReady && ++failedStarts >= 3) {
    // The interpreter cannot start at all: say why and let the pool report it.
    process.stderr.write(`sandbox worker failed to start: ${String(err?.stack ?? msg).slice(0, 3000)}\n`);
    process.exit(1);
  }
  const running = ctrl ? Atomics.load(ctrl, 1) : -1;
  worker = null;
  recycles++;
  if (batch && batch.remaining.length && workerReady) {
    // The program that was running when the interpreter died is the culprit.
    const seq = batch.remaining.some((j) => j.seq === running) ? running : batch.remaining[0].seq;
    const oom = /out of memory|ERR_WORKER_OUT_OF_MEMORY|memory/i.test(msg + (err?.code ?? ''));
    complete(seq, interruptedSeq === seq
      ? synthetic(seq, 'timeout', 'Timeout', `wall-clock limit of ${cfg.timeoutMs} ms reached`)
      : synthetic(seq, oom ? 'memory' : 'error', oom ? 'MemoryError' : 'SandboxCrash', msg.slice(0, 500)));
  }
  startWorker();
}

function bail(reason) {
  // Tell the pool what is finished; it requeues the rest and replaces this process.
  if (batch) process.send({ type: 'partial', batchId: batch.batchId, payload: `[${batch.results.join(',')}]`, reason });
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
