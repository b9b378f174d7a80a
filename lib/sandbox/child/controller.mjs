// The sandbox child process's main thread. It owns the worker thread running Pyodide (and a spare
// one, booted when idle, that takes over when the active one is replaced), watches
// which program runs (ctrl[1], written by the worker), interrupts the one that overruns (the
// interrupt buffer), terminates the worker when the interrupt is not honoured (loops in C,
// time.sleep), and replaces the worker after a crash, a memory-ceiling hit or a program that
// changed interpreter state. It talks to the pool over IPC, one message per batch.
import { Worker } from 'node:worker_threads';
import { bootMarks, loadLayerFiles, mark } from './boot.mjs';

bootMarks.push(['child process started', performance.timeOrigin]);
mark('controller started');

// The layer comes in argv; the programs' limits in the pool's first message, so a child can start
// (and boot its first interpreter up to where the limits are needed) before its pool exists.
const cfg = JSON.parse(process.argv[2]);
let gotLimits;
const limitsReady = new Promise((resolve) => (gotLimits = resolve));
const GRACE_MS = 500;
const TICK_MS = 20;
// A spare interpreter boots once this child has been idle this long, so it never takes CPU from
// programs (on a busy machine that made programs near a limit miss it). A replacement then costs a
// message, not a boot; back-to-back replacements with no idle time between boot each one.
const SPARE_IDLE_MS = 1000;

// The layer's files, read and Pyodide's wasm compiled once per process (every interpreter of this
// process starts from them); loaded once the first worker thread is starting up (end of this file).
let filesLoaded;
const filesReady = new Promise((resolve, reject) => (filesLoaded = { resolve, reject }));
filesReady.catch((e) => {
  process.stderr.write(`sandbox layer files could not be loaded: ${String(e?.stack ?? e).slice(0, 2000)}\n`);
  process.exit(1);
});

// An interpreter: its worker thread and progress word. `active` runs the programs; `spare` waits.
let active = null;
let spare = null;
let spareTimer = null;
let spareFailures = 0;
let worker = null; // active.w once it is ready
let workerReady = false;
let ctrl = null;
let batch = null; // { batchId, remaining: jobs[], results: string[] }
// Batches the pool sent ahead (it keeps the next one here while this one runs): started in order.
const nextBatches = [];
let recycles = 0; // interpreters replaced since the last report (state, memory, timeout, crash)
let reasons = []; // why interpreters were replaced since the last report
let guardMs = 0; // time the state guard took since the last report
// The watch on the running program: which seq, since when, and whether it was interrupted.
let watchSeq = -1;
let watchSince = 0;
let interruptedSeq = -1;
let interruptedAt = 0;
let failedStarts = 0;
let firstReady = true;

function bootInterpreter() {
  const sab = new SharedArrayBuffer(8);
  const entry = { w: null, ctrl: new Int32Array(sab), ready: false };
  entry.ctrl[1] = -1;
  const w = new Worker(new URL('./worker.mjs', import.meta.url), {
    workerData: { layerDir: cfg.layerDir, sab },
    resourceLimits: { maxOldGenerationSizeMb: 512 },
    stdout: true,
    stderr: true,
    env: {},
  });
  entry.w = w;
  filesReady.then((files) => w.postMessage({ type: 'files', files }), () => {});
  limitsReady.then(() => w.postMessage({ type: 'limits', limits: cfg.limits }));
  w.stdout.resume();
  w.stderr.on('data', (d) => process.stderr.write(d.toString().slice(0, 2000)));
  w.on('message', (m) => {
    if (m.type === 'ready') {
      entry.ready = true;
      entry.marks = m.marks;
      if (entry === active) activate();
      else if (entry === spare) spareFailures = 0;
    } else if (m.type === 'results' && entry === active && workerReady) onResults(m.items);
  });
  w.on('error', (e) => onInterpreterDeath(entry, e));
  w.on('exit', (code) => onInterpreterDeath(entry, new Error(`worker exited with code ${code}`)));
  return entry;
}

/** Makes the spare (else a new interpreter) the active one; it takes work once ready. */
function startWorker() {
  active = spare ?? bootInterpreter();
  spare = null;
  worker = null;
  workerReady = false;
  ctrl = active.ctrl;
  if (active.ready) activate();
}

function activate() {
  worker = active.w;
  workerReady = true;
  failedStarts = 0;
  // The first interpreter's start-up phases go with the first 'ready' (`caco execute --timings`).
  process.send({ type: 'ready', ...(firstReady ? { marks: [...bootMarks, ...(active.marks ?? [])] } : {}) });
  firstReady = false;
  // Not at once: a replacement activated inside onResults must not be sent the program that
  // dirtied its predecessor before that program's result is recorded.
  setImmediate(sendRemaining);
  if (!batch) scheduleSpare();
}

function scheduleSpare() {
  if (spare || spareTimer || spareFailures >= 3) return;
  spareTimer = setTimeout(() => {
    spareTimer = null;
    if (!spare && active?.ready && !batch) spare = bootInterpreter();
  }, SPARE_IDLE_MS);
  spareTimer.unref();
}

function replaceWorker() {
  const old = active;
  active = null;
  recycles++;
  if (old) {
    // terminate() stops wasm and Atomics.wait; if it does not finish, give up on the whole process
    // (the pool requeues what was not finished).
    const hard = setTimeout(() => bail('worker did not terminate'), 3000);
    old.w.terminate().finally(() => clearTimeout(hard));
  }
  startWorker();
}

// The worker and batch the batch's remaining programs were last sent to: a batch is sent to an
// interpreter once (an activation and a batch's start may both ask for it).
let sent = [null, null];

function sendRemaining() {
  if (!batch || !worker || !workerReady || batch.remaining.length === 0) return;
  if (sent[0] === worker && sent[1] === batch) return;
  sent = [worker, batch];
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
    batch = nextBatches.shift() ?? null;
    if (batch) sendRemaining();
    else scheduleSpare();
  }
}

function onInterpreterDeath(entry, err) {
  if (entry === spare) {
    // A spare that died is replaced later; after 3 in a row there is no spare (replacements boot).
    spare = null;
    spareFailures++;
    process.stderr.write(`sandbox spare interpreter died: ${String(err?.message ?? err).slice(0, 500)}\n`);
    scheduleSpare();
    return;
  }
  if (entry !== active) return;
  const msg = String(err?.message ?? err);
  if (!entry.ready && ++failedStarts >= 3) {
    // The interpreter cannot start at all: say why and let the pool report it.
    process.stderr.write(`sandbox worker failed to start: ${String(err?.stack ?? msg).slice(0, 3000)}\n`);
    process.exit(1);
  }
  const running = ctrl ? Atomics.load(ctrl, 1) : -1;
  const wasReady = workerReady;
  active = null;
  recycles++;
  if (batch && batch.remaining.length && wasReady) {
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
  if (m.type === 'limits') {
    cfg.limits = m.limits;
    cfg.timeoutMs = m.limits.timeoutMs;
    cfg.memoryMb = m.limits.memoryMb;
    gotLimits();
  } else if (m.type === 'batch') {
    // Busy again: the spare waits for the next idle time.
    if (spareTimer) {
      clearTimeout(spareTimer);
      spareTimer = null;
    }
    const next = { batchId: m.batchId, remaining: m.jobs, results: [] };
    if (batch) nextBatches.push(next);
    else {
      batch = next;
      sendRemaining();
    }
  } else if (m.type === 'exit') {
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
// `spare`: whether a spare interpreter is booted (benchmarks wait for it before timing).
setInterval(() => process.send({ type: 'alive', spare: Boolean(spare?.ready) }), 1000).unref();
startWorker();
// After the first worker thread is spawned (it starts up in parallel): reading and compiling
// Pyodide's wasm here no longer delays it.
loadLayerFiles(cfg.layerDir).then(filesLoaded.resolve, filesLoaded.reject);
