// The sandbox worker thread: one Pyodide interpreter running programs one after another.
// Its controller (the child process's main thread) times each program and writes the interrupt
// buffer (a SharedArrayBuffer) from outside, since Python blocks this thread while it runs.
import { parentPort, workerData } from 'node:worker_threads';
import { readFileSync, constants as fsConstants } from 'node:fs';
import { registerHooks } from 'node:module';
import { randomBytes } from 'node:crypto';
import { bootMarks, bootPyodide, CODE_FILES, mark, sourceKey } from './boot.mjs';

mark('worker started');

const { layerDir, sab } = workerData;
// Set-up messages from the controller: the layer's files (loaded once per process), then the
// programs' limits (known once the pool exists; the interpreter boots before they come).
const inbox = new Map();
const waiting = new Map();
const onSetup = (m) => (waiting.has(m.type) ? waiting.get(m.type)(m) : inbox.set(m.type, m));
parentPort.on('message', onSetup);
const received = (type) => (inbox.has(type) ? Promise.resolve(inbox.get(type)) : new Promise((resolve) => waiting.set(type, resolve)));
const files = received('files').then((m) => m.files);
const ctrl = new Int32Array(sab); // [0] interrupt signal for Pyodide, [1] seq of the running program

// Memory ceiling: Emscripten grows the heap through Memory.prototype.grow and turns a refusal into
// a failed malloc, which Python reports as MemoryError. Wasm memory never shrinks, so a worker that
// grew a lot is recycled by the controller.
let ceilingBytes = Infinity;
let memHit = false;
const origGrow = WebAssembly.Memory.prototype.grow;
WebAssembly.Memory.prototype.grow = function grow(pages) {
  if (this.buffer.byteLength + pages * 65536 > ceilingBytes) {
    memHit = true;
    throw new RangeError('sandbox memory ceiling reached');
  }
  return origGrow.call(this, pages);
};

// Emscripten's NODEFS reads O_* flags through process.binding('constants'), which the permission
// model refuses: answer that one question from fs.constants (and nothing else).
process.binding = (name) => {
  if (name === 'constants') return { fs: fsConstants };
  throw new Error(`process.binding(${name}) is not available in the sandbox`);
};
const { py } = await bootPyodide(layerDir, { files });
mark('interpreter booted');
const mod = py._module;
py.setInterruptBuffer(ctrl);
const sources = Object.fromEntries(CODE_FILES.map((f) => [f, readFileSync(new URL(`./${f}`, import.meta.url), 'utf8')]));
py.globals.set('_caco_src', sources['runner.py']);
py.globals.set('_caco_guard_src', sources['guard.py']);
py.globals.set('_caco_keys', py.toPy([sourceKey('guard.py', sources['guard.py']), sourceKey('runner.py', sources['runner.py'])]));
// The runner and the state guard: two modules outside sys.modules. The guard is held only here
// (JavaScript), never by the runner, so a program climbing its own frames cannot reach it. Their
// code comes compiled from the snapshot when these are the sources it was built with.
const [guard, setup] = py.runPython(`
import types
_c = __import__('sys').__dict__.pop('_caco_code', None) or {}
_g = types.ModuleType('_caco_guard')
exec(_c.get(_caco_keys[0]) or compile(_caco_guard_src, 'guard.py', 'exec'), _g.__dict__)
_m = types.ModuleType('_caco_runner')
exec(_c.get(_caco_keys[1]) or compile(_caco_src, 'runner.py', 'exec'), _m.__dict__)
del _caco_src, _caco_guard_src, _caco_keys, _c
(_g, _m._caco_setup)
`).toJs({ depth: 1 });
py.runPython('del _m, _g, types');
mark('runner and guard compiled');
// The dirty mark lives here, out of Python's reach: the guard's callbacks report through two
// functions that can only set these flags, and only while a program's phase is armed. A program
// that finds them (gc introspection, which is itself reported first) can only mark itself dirty.
let jsArmed = false;
let jsDirty = null;
let jsTouched = false;
let lastDirty = null; // the last program's verdict, read by the loop without parsing its text
const jsMark = (reason) => {
  if (jsArmed && jsDirty === null) jsDirty = typeof reason === 'string' ? reason.slice(0, 200) : 'marked dirty';
};
const jsTouch = () => {
  if (jsArmed) jsTouched = true;
};
// The guard's watchers first (they need ctypes, which the runner's hardening then hides), its
// baseline last; the runner's closure cells are part of it (a program can reach them by frames).
guard.install(jsMark, jsTouch);
mark('guard watchers installed');
const { outputCapBytes, recursionLimit, memoryMb } = (await received('limits')).limits;
parentPort.off('message', onSetup);
mark('limits received');
const steps = setup(outputCapBytes, recursionLimit);
mark('runner set up (hardening)');
setup.destroy();
const [start, run, finish, release, cells] = steps.toJs({ depth: 1 });
guard.take(cells);
const memCheck = memoryCheck();
// Seen by tests (bootMarks): the fast path is in use, not only the Python fallback.
if (memCheck) mark('guard memory check adopted');
mark('guard baseline taken');
/**
 * The identity comparison of the module-held exact lists, closure cells and slotted objects,
 * read straight from the wasm memory after every program (a plain loop over ~45k words against
 * baseline copies held here: no Python object built, no program code run; ~2,500 list addresses
 * and lengths, then each list's item array, then (address, word) pairs). The guard computes what
 * it expects from Python (ids of gc.get_referents) and the layout is adopted only when the memory
 * reads agree with that at baseline; otherwise (a Pyodide upgrade changed a layout) the guard keeps
 * comparing them itself. Returns the comparison, or null.
 */
function memoryCheck() {
  let lay;
  try {
    lay = guard.js_layout();
  } catch {
    return null;
  }
  if (lay == null) return null;
  const parts = lay.toJs({ depth: 1 });
  lay.destroy();
  // Copies: what the program could reach in Python is not what is compared.
  const [listAt, listLen, items, cellPairs, slotPairs] = parts.map((b) => new Uint32Array(Uint8Array.from(b).buffer));
  const LIST = 'a list held by a module changed';
  const CELL = 'a closure variable of a library function changed';
  const SLOT = 'a slot of a library object changed';
  const pairs = (p, why, h) => {
    for (let i = 0; i < p.length; i += 2) if (h[p[i] >>> 2] !== p[i + 1]) return why;
    return null;
  };
  const differs = () => {
    const h = mod.HEAPU32; // read each time: the memory may have grown
    let k = 0;
    for (let i = 0; i < listAt.length; i++) {
      const a = listAt[i] >>> 2;
      const n = listLen[i];
      if (h[a + 2] !== n) return LIST; // ob_size
      const p = h[a + 3] >>> 2; // ob_item
      for (let j = 0; j < n; j++) if (h[p + j] !== items[k + j]) return LIST;
      k += n;
    }
    return pairs(cellPairs, CELL, h) ?? pairs(slotPairs, SLOT, h);
  };
  if (differs() !== null) return null;
  guard.js_adopt().destroy();
  return differs;
}

const [arm, disarm, restore, check, beforeProgram] = ['arm', 'disarm', 'restore', 'check', 'before_program'].map((k) => guard[k]);

/**
 * One program. The guard is armed while it runs (and its values are encoded, its garbage
 * collected); disarmed while the runner puts the standard streams back and the guard puts caches
 * back; armed again while what those held is freed (a program's object freed there runs its
 * __del__ watched, with no frame of the guard below it); then the guard compares.
 */
function runOne(code, seed) {
  const g0 = performance.now();
  jsDirty = null;
  jsTouched = false;
  beforeProgram();
  let guardMs = performance.now() - g0;
  start(code, seed);
  jsArmed = true;
  arm();
  let gcMs;
  try {
    gcMs = run();
  } finally {
    jsArmed = false;
    disarm();
  }
  const json = finish();
  const g1 = performance.now();
  let dirty;
  try {
    const dropped = restore(jsTouched);
    jsTouched = false;
    jsArmed = true;
    arm(true);
    try {
      release(dropped);
    } finally {
      jsArmed = false;
      disarm();
      dropped.destroy();
    }
    // The guard's description when it has one; the mark made here decides in any case.
    dirty = check(jsTouched) ?? jsDirty ?? memCheck?.() ?? null;
  } catch (e) {
    dirty = `state check failed: ${String(e?.type ?? e?.message ?? e).slice(0, 100)}`;
  }
  if (jsDirty !== null && dirty == null) dirty = jsDirty;
  lastDirty = dirty ?? null;
  guardMs += performance.now() - g1 + gcMs;
  // Our keys last, after every value the program controls: `dirty` is read from the end of the text.
  return `${json.slice(0, -1)}, "guardMs": ${guardMs}, "dirty": ${JSON.stringify(dirty ?? null)}}`;
}

// Lock the JavaScript side before any program runs: nothing left that reaches the network, other
// processes or native code, and no further imports of any module.
for (const name of ['fetch', 'WebSocket', 'EventSource', 'XMLHttpRequest', 'require', 'navigator', 'Request', 'Response',
  'Headers', 'FormData', 'BroadcastChannel', 'MessageChannel', 'Worker', 'SharedWorker', 'importScripts']) {
  try { delete globalThis[name]; } catch { /* not configurable */ }
}
for (const name of ['binding', '_linkedBinding', 'dlopen', 'kill', '_kill', 'getBuiltinModule', 'reallyExit',
  'chdir', 'setuid', 'setgid', 'seteuid', 'setegid', 'setgroups', 'initgroups', 'loadEnvFile', '_debugProcess',
  'openStdin', 'permission', 'report', 'env']) {
  try { delete process[name]; } catch { /* not configurable */ }
}
// An empty environment (the child was spawned with none); Pyodide's fatal-error path reads it.
Object.defineProperty(process, 'env', { value: Object.freeze({}), configurable: false, enumerable: true });
// From now on no module can be imported at all (no node:net, node:http, node:child_process,
// node:module, node:worker_threads...), even by JavaScript that escaped from Python via
// `new Function`. Synchronous in-thread hooks: register() would start a loader thread (~0.3 s).
registerHooks({
  resolve(specifier) {
    throw new Error(`import of ${specifier} is not allowed in the sandbox`);
  },
});

const baseHeap = mod.HEAP8.buffer.byteLength;
ceilingBytes = baseHeap + memoryMb * 1024 * 1024;
// After a program, a heap grown by more than half the ceiling is given back by recycling.
const recycleAbove = baseHeap + (memoryMb * 1024 * 1024) / 2;

/** The `dirty` value: our last key, so the last match in the text is ours (quotes in values are escaped). */
function dirtyReason(json) {
  const at = json.lastIndexOf('"dirty": ');
  try {
    return String(JSON.parse(json.slice(at + 9, -1))).slice(0, 200);
  } catch {
    return 'unknown';
  }
}

// Results go back in chunks (every FLUSH_MS and at the end of a batch): the controller follows
// progress through ctrl[1], not through messages, so per-program messages are not needed.
const FLUSH_MS = 20;
parentPort.on('message', (msg) => {
  if (msg.type !== 'run') return;
  let items = [];
  let lastFlush = performance.now();
  for (const job of msg.jobs) {
    Atomics.store(ctrl, 0, 0);
    Atomics.store(ctrl, 1, job.seq);
    memHit = false;
    lastDirty = 'interpreter failure';
    let json;
    try {
      // 52 random bits per program: a fresh seed for `random`, never a fixed one.
      json = runOne(job.code, randomBytes(7).readUIntBE(0, 6) * 16 + (randomBytes(1)[0] & 15));
    } catch (e) {
      // A failure outside the program's own try (e.g. the interpreter itself ran out of memory).
      json = JSON.stringify({ status: memHit ? 'memory' : 'error', input: null, output: null, outputSource: null,
        stdout: '', stderr: '', truncated: false, durationMs: 0, dirty: 'interpreter failure',
        error: { type: memHit ? 'MemoryError' : 'SandboxError', message: String(e?.message ?? e).slice(0, 500) } });
    }
    const heap = mod.HEAP8.buffer.byteLength;
    // `dirty` is the last key, after every value the program controls.
    const clean = json.endsWith('"dirty": null}');
    const recycle = memHit || heap > recycleAbove || !clean || lastDirty !== null;
    const reason = memHit ? 'memory ceiling' : lastDirty !== null ? String(lastDirty).slice(0, 200) : !clean ? dirtyReason(json) : heap > recycleAbove ? 'heap grew' : null;
    // Time the state guard took for this program (our key, just before `dirty`).
    const gAt = json.lastIndexOf('"guardMs": ');
    const guardMs = gAt >= 0 ? parseFloat(json.slice(gAt + 11)) || 0 : 0;
    items.push({ seq: job.seq, json, memHit, recycle, reason, guardMs });
    const now = performance.now();
    if (recycle || now - lastFlush > FLUSH_MS) {
      if (recycle) Atomics.store(ctrl, 1, -1);
      parentPort.postMessage({ type: 'results', items });
      items = [];
      lastFlush = now;
    }
    if (recycle) return; // the controller replaces this interpreter and resends the rest
  }
  Atomics.store(ctrl, 1, -1);
  if (items.length) parentPort.postMessage({ type: 'results', items });
});
mark('worker ready');
parentPort.postMessage({ type: 'ready', baseHeap, marks: bootMarks });
