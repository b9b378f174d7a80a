// The sandbox worker thread: one Pyodide interpreter running programs one after another.
// Its controller (the child process's main thread) times each program and writes the interrupt
// buffer (a SharedArrayBuffer) from outside, since Python blocks this thread while it runs.
import { parentPort, workerData } from 'node:worker_threads';
import { readFileSync, constants as fsConstants } from 'node:fs';
import { register } from 'node:module';
import { randomBytes } from 'node:crypto';
import { bootPyodide } from './boot.mjs';

const { layerDir, sab, outputCapBytes, recursionLimit, memoryMb } = workerData;
// The layer's files, loaded once per process by the controller (first message).
const files = new Promise((resolve) => parentPort.once('message', (m) => resolve(m.files)));
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
const mod = py._module;
py.setInterruptBuffer(ctrl);
py.globals.set('_caco_src', readFileSync(new URL('./runner.py', import.meta.url), 'utf8'));
py.globals.set('_caco_guard_src', readFileSync(new URL('./guard.py', import.meta.url), 'utf8'));
const setup = py.runPython(`
import types
_g = types.ModuleType('_caco_guard')
exec(compile(_caco_guard_src, 'guard.py', 'exec'), _g.__dict__)
_m = types.ModuleType('_caco_runner')
_m._guard = _g
exec(compile(_caco_src, 'runner.py', 'exec'), _m.__dict__)
del _caco_src, _caco_guard_src
_m._caco_setup
`);
py.runPython('del _m, _g, types');
const runOne = setup(outputCapBytes, recursionLimit);
setup.destroy();

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
register(new URL('./deny-hooks.mjs', import.meta.url));

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
    const recycle = memHit || heap > recycleAbove || !clean;
    const reason = memHit ? 'memory ceiling' : !clean ? dirtyReason(json) : heap > recycleAbove ? 'heap grew' : null;
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
parentPort.postMessage({ type: 'ready', baseHeap });
