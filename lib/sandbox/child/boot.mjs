// Starts a Pyodide interpreter from the layer folder. Shared by the layer build (which makes the
// memory snapshot with SymPy already imported) and the sandbox worker (which starts from it).
// Plain JavaScript: it runs in permission-restricted child processes without tsx.
import { fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';

export const SITE_ZIP = 'site-packages.zip';
export const SNAPSHOT = 'snapshot.bin';
/** Modules imported before the snapshot is taken: programs get them for free. */
export const PRELOAD = [
  'sympy', 'mpmath', 'fractions', 'math', 'cmath', 'random', 'itertools', 'functools', 'collections',
  'decimal', 'statistics', 'operator', 'string', 're', 'heapq', 'bisect', 'numbers', 'json', 'copy',
  'datetime', 'typing', 'dataclasses', 'enum', 'gc', 'signal', 'time', 'textwrap', 'traceback',
];

/**
 * Run once before the snapshot: SymPy imports much of itself lazily on first use (solvers,
 * integration, printing), so exercising the common paths puts those modules in the snapshot.
 * tests/bench/corpus/cpython_exec.py warms its fork parent with the same code, for a fair baseline.
 */
export const WARMUP = `
import sympy
_x, _y = sympy.symbols('x y')
sympy.solve(_x**2 - 3*_x + 2, _x); sympy.solve([_x + _y - 3, _x - _y - 1], [_x, _y])
sympy.integrate(sympy.expand((_x + 1)**3), (_x, 0, 1)); sympy.diff(sympy.sin(_x) * _x, _x)
sympy.simplify((_x**2 - 1) / (_x - 1)); sympy.factor(_x**2 - 1); sympy.nsimplify(0.5)
sympy.Rational(1, 3) + sympy.sqrt(2); str(sympy.pi.evalf(20)); sympy.limit(sympy.sin(_x) / _x, _x, 0)
sympy.factorint(360); sympy.isprime(97); sympy.binomial(10, 3); sympy.Matrix([[1, 2], [3, 4]]).det()
sympy.summation(_x, (_x, 1, 10)); sympy.latex(_x**2); sympy.N(sympy.E)
# Module globals bound lazily on first use (guard.py LAZY_GLOBALS): bound now, so a program that
# triggers one finds it bound (the guard puts a rebound one back after every program anyway).
import collections, random, base64, locale, ast, zipfile, sysconfig, tempfile, mpmath
collections.Counter('ab').most_common(1); random.Random().seed('x'); mpmath.rand()
base64.a85encode(b'x'); base64.b85decode(base64.b85encode(b'x')); locale.format_string('%d', 1)
# ...except base64's two 7,225-entry pair tables: the guard would compare them after every program;
# a program that needs them binds them and gets them unbound afterwards (LAZY_GLOBALS).
base64._a85chars2 = base64._b85chars2 = None
ast.unparse(ast.parse('x')); ast.get_source_segment('x', ast.parse('x').body[0]); zipfile._ZipDecrypter(b'')
sysconfig.get_config_vars(); tempfile.gettempdir(); tempfile._get_candidate_names()
# weakref.finalize registers its exit hook once, on first use (SymPy's lambdify uses it): now.
import weakref
weakref.finalize(sympy.Symbol, int).detach()
sympy.lambdify(_x, _x**2)(2)
for _f in (lambda: sympy.solveset(sympy.sin(_x) - 1, _x, sympy.S.Reals), lambda: sympy.solveset(sympy.sin(_x) - 1, _x),
           lambda: sympy.integrals.heurisch.DiffCache(_x), lambda: sympy.trigsimp(sympy.sin(_x)**2 + sympy.cos(_x)**2)):
    try:
        _f()
    except Exception:
        pass
del _x, _y, _f
`;

// A Pyodide snapshot is a header (4 words: magic, heap offset, JSON length, 0), JSON and the whole
// wasm heap, whose end is never-touched zeros. Those are cut off (a fresh memory is zero there) and
// the heap's length goes in the header's unused 4th word, so the memory is still grown to it.
function trimSnapshot(snap) {
  const header = new Uint32Array(snap.buffer, snap.byteOffset, 4);
  const heapBytes = snap.length - header[1];
  let end = snap.length;
  while (end > header[1] && snap[end - 1] === 0) end--;
  end = Math.min(snap.length, Math.ceil(end / 16) * 16); // Pyodide reads it as 32-bit words
  header[3] = heapBytes;
  return snap.subarray(0, end);
}

// pyodide.restoreSnapshot copies the saved heap into the fresh instance's memory, which starts
// smaller than a heap with SymPy in it: grow the exported memory right after instantiation.
// Only the instance that exports a memory is Pyodide's: on Node 22+ pyodide.mjs also instantiates
// a tiny feature-probe module (no memory) first, which must not use up this one-shot hook.
// With `compiled` (Pyodide's WebAssembly.Module, compiled once per process by the controller), the
// bytes Pyodide read are not compiled again: the instance is made from the shared module, which
// also shares the code V8 has optimized so far with every interpreter of the process.
function hookInstantiate(heapBytes, compiled, onMemory = () => {}) {
  const orig = WebAssembly.instantiate;
  WebAssembly.instantiate = async function (...args) {
    if (compiled && !(args[0] instanceof WebAssembly.Module) && args[0]?.byteLength > 1_000_000) {
      const instance = await orig.call(this, compiled, args[1]);
      args = null;
      return grown({ instance, module: compiled });
    }
    return grown(await orig.apply(this, args));
  };
  function grown(r) {
    const mem = (r.instance ?? r).exports?.memory;
    if (!(mem instanceof WebAssembly.Memory)) return r;
    if (heapBytes > mem.buffer.byteLength) mem.grow(Math.ceil((heapBytes - mem.buffer.byteLength) / 65536));
    WebAssembly.instantiate = orig;
    onMemory(mem);
    return r;
  }
}

/** The Python files the worker runs, compiled into the snapshot (sys._caco_code, by sourceKey). */
export const CODE_FILES = ['runner.py', 'guard.py'];
export function sourceKey(file, src) {
  return `${file}:${createHash('sha256').update(src).digest('hex')}`;
}

function readExactly(fd, into, position) {
  for (let at = 0; at < into.length; ) {
    const n = readSync(fd, into, at, into.length - at, position + at);
    if (n <= 0) throw new Error(`${SNAPSHOT}: short read at ${position + at}`);
    at += n;
  }
}

/**
 * The layer's files an interpreter starts from, opened once per process: Pyodide's wasm compiled,
 * the snapshot and packages zip opened (a file descriptor is the process's, so every worker thread
 * reads through it) and the snapshot's header read. The snapshot's heap is not read here: each
 * interpreter reads it from the file straight into its wasm memory (bootPyodide), so its 60 MB are
 * written to fresh memory once, not twice (a first touch of fresh memory is what the copy costs).
 */
export async function loadLayerFiles(dir) {
  const compiling = WebAssembly.compile(readFileSync(join(dir, 'pyodide.asm.wasm')));
  mark('wasm read');
  const snapshotFd = openSync(join(dir, SNAPSHOT), 'r');
  const snapshotSize = fstatSync(snapshotFd).size;
  const first = new Uint8Array(16);
  readExactly(snapshotFd, first, 0);
  const head = new Uint8Array(new Uint32Array(first.buffer)[1]); // header and JSON: up to the heap
  readExactly(snapshotFd, head, 0);
  const files = { snapshotFd, snapshotSize, head, zipFd: openSync(join(dir, SITE_ZIP), 'r'), compiled: await compiling };
  mark('wasm compiled');
  return files;
}

/**
 * Start-up phases of this thread, for `caco execute --timings`: [phase, ms since the epoch] (the
 * epoch, not performance.now(), so marks from the CLI, the child process and its worker thread
 * line up). One module instance per thread: the controller and each worker keep their own.
 */
export const bootMarks = [];
export function mark(phase) {
  bootMarks.push([phase, performance.timeOrigin + performance.now()]);
}

const ZIP_PATH = '/lib/site-packages.zip';
/**
 * The packages zip in the interpreter's file system, read from the layer file on demand: most
 * programs import nothing the snapshot does not hold, so its 25 MB are neither read nor copied
 * per interpreter. Read-only for Python (no write, truncation, chmod or mmap), so no program can
 * change the modules another interpreter imports.
 */
function mountZip(FS, fd) {
  const size = fstatSync(fd).size;
  FS.writeFile(ZIP_PATH, new Uint8Array(0));
  FS.chmod(ZIP_PATH, 0o444);
  const node = FS.lookupPath(ZIP_PATH).node;
  node.usedBytes = size;
  const deny = () => {
    throw new FS.ErrnoError(63); // EPERM
  };
  node.stream_ops = {
    ...node.stream_ops,
    read(stream, buffer, offset, length, position) {
      if (position >= size) return 0;
      return readSync(fd, buffer, offset, Math.min(length, size - position), position);
    },
    write: deny,
    mmap: deny,
    msync: () => 0,
  };
  const setattr = node.node_ops.setattr;
  node.node_ops = {
    ...node.node_ops,
    setattr(n, attr) {
      if (attr.mode !== undefined || attr.size !== undefined) deny();
      return setattr(n, attr);
    },
  };
}

/**
 * Loads Pyodide from `dir`. With `makeSnapshot`, imports PRELOAD and returns the snapshot bytes
 * too; otherwise starts from the snapshot (`files`: loadLayerFiles' result or a promise of it, else
 * loaded here). The packages zip goes on sys.path (zipimport).
 */
export async function bootPyodide(dir, { makeSnapshot = false, stdout = () => {}, stderr = () => {}, files: filesPromise = null } = {}) {
  const { loadPyodide } = await import(join(dir, 'pyodide.mjs'));
  const files = await filesPromise;
  mark('pyodide.mjs loaded and layer files ready');
  const opts = {
    indexURL: dir.endsWith('/') ? dir : dir + '/',
    // Python's `js` module becomes this object: no prototype, so no route to Function/globalThis.
    jsglobals: Object.create(null),
    env: { HOME: '/home/pyodide' },
    stdout,
    stderr,
    checkAPIVersion: true,
  };
  let py;
  if (makeSnapshot) {
    py = await loadPyodide({ ...opts, _makeSnapshot: true });
    py.FS.writeFile(ZIP_PATH, readFileSync(join(dir, SITE_ZIP)), { canOwn: true });
    py.runPython(`import sys\nsys.path.insert(0, '/lib/site-packages.zip')\nimport ${PRELOAD.join(', ')}\n${WARMUP}`);
    // The state guard's walk of everything the modules reach, done once here (guard.py plan()).
    py.globals.set('_caco_guard_src', readFileSync(new URL('./guard.py', import.meta.url), 'utf8'));
    py.runPython(`import types as _t
_g = _t.ModuleType('_caco_guard')
exec(compile(_caco_guard_src, 'guard.py', 'exec'), _g.__dict__)
_g.plan()
del _t, _g, _caco_guard_src`);
    // The worker's own Python (runner.py, guard.py) compiled now, after the plan's heap freeze (so
    // not part of the library state it watches): a worker whose sources hash the same takes the
    // code objects instead of compiling ~1,000 lines in wasm at every interpreter start.
    py.globals.set('_caco_sources', py.toPy(Object.fromEntries(CODE_FILES.map((f) => {
      const src = readFileSync(new URL(`./${f}`, import.meta.url), 'utf8');
      return [sourceKey(f, src), [f, src]];
    }))));
    py.runPython(`import sys
sys._caco_code = {k: compile(src, name, 'exec') for k, (name, src) in _caco_sources.items()}
del _caco_sources`);
    return { py, snapshot: trimSnapshot(py.makeMemorySnapshot()) };
  }
  const f = files ?? (await loadLayerFiles(dir));
  // Pyodide gets the snapshot's header and JSON only; when it asks for the heap (restoreSnapshot's
  // subarray(heapAt), which it would copy into the memory) the heap is read from the file straight
  // into the instance's memory instead, and the copy is of nothing.
  const head = new Uint8Array(f.head); // own copy: the subarray hook is per interpreter
  const header = new Uint32Array(head.buffer, 0, 4);
  const heapAt = header[1];
  if (heapAt % 4) throw new Error(`${SNAPSHOT}: heap offset ${heapAt} is not word-aligned`);
  let memory = null;
  hookInstantiate(header[3] || f.snapshotSize - heapAt, f.compiled, (m) => {
    memory = m;
    mark('instantiated');
  });
  head.subarray = function (start, end) {
    if (start !== heapAt || end !== undefined || !memory) return Uint8Array.prototype.subarray.call(this, start, end);
    readExactly(f.snapshotFd, new Uint8Array(memory.buffer, 0, f.snapshotSize - heapAt), heapAt);
    mark('heap read into memory');
    heapRead = true;
    return new Uint8Array(0);
  };
  let heapRead = false;
  py = await loadPyodide({ ...opts, _loadSnapshot: head });
  // A Pyodide that restores its snapshot some other way would run on an empty heap: refuse.
  if (!heapRead) throw new Error('Pyodide did not ask for the snapshot heap through subarray(): update boot.mjs for this Pyodide');
  mark('pyodide restored');
  mountZip(py.FS, f.zipFd);
  // Pyodide keeps its load options: drop the snapshot so it can be collected.
  if (py._api?.config) py._api.config._loadSnapshot = null;
  return { py, snapshot: null };
}
