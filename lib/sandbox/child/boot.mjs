// Starts a Pyodide interpreter from the layer folder. Shared by the layer build (which makes the
// memory snapshot with SymPy already imported) and the sandbox worker (which starts from it).
// Plain JavaScript: it runs in permission-restricted child processes without tsx.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

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

// pyodide.restoreSnapshot copies the saved heap into the fresh instance's memory, which starts
// smaller than a heap with SymPy in it: grow the exported memory right after instantiation.
// Only the instance that exports a memory is Pyodide's: on Node 22+ pyodide.mjs also instantiates
// a tiny feature-probe module (no memory) first, which must not use up this one-shot hook.
function growMemoryOnInstantiate(heapBytes) {
  const orig = WebAssembly.instantiate;
  WebAssembly.instantiate = async function (...args) {
    const r = await orig.apply(this, args);
    const mem = (r.instance ?? r).exports?.memory;
    if (!(mem instanceof WebAssembly.Memory)) return r;
    if (heapBytes > mem.buffer.byteLength) mem.grow(Math.ceil((heapBytes - mem.buffer.byteLength) / 65536));
    WebAssembly.instantiate = orig;
    return r;
  };
}

/**
 * Loads Pyodide from `dir`. With `makeSnapshot`, imports PRELOAD and returns the snapshot bytes
 * too; otherwise starts from dir/snapshot.bin. The packages zip goes on sys.path (zipimport), so
 * Python never needs a host-file mount.
 */
export async function bootPyodide(dir, { makeSnapshot = false, stdout = () => {}, stderr = () => {} } = {}) {
  const { loadPyodide } = await import(join(dir, 'pyodide.mjs'));
  const zip = new Uint8Array(readFileSync(join(dir, SITE_ZIP)));
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
    py.FS.writeFile('/lib/site-packages.zip', zip);
    py.runPython(`import sys\nsys.path.insert(0, '/lib/site-packages.zip')\nimport ${PRELOAD.join(', ')}\n${WARMUP}`);
    // The state guard's walk of everything the modules reach, done once here (guard.py plan()).
    py.globals.set('_caco_guard_src', readFileSync(new URL('./guard.py', import.meta.url), 'utf8'));
    py.runPython(`import types as _t
_g = _t.ModuleType('_caco_guard')
exec(compile(_caco_guard_src, 'guard.py', 'exec'), _g.__dict__)
_g.plan()
del _t, _g, _caco_guard_src`);
    return { py, snapshot: py.makeMemorySnapshot() };
  }
  const snap = new Uint8Array(readFileSync(join(dir, SNAPSHOT)));
  const header = new Uint32Array(snap.buffer, snap.byteOffset, 4);
  growMemoryOnInstantiate(snap.length - header[1]);
  py = await loadPyodide({ ...opts, _loadSnapshot: snap });
  py.FS.writeFile('/lib/site-packages.zip', zip);
  // Pyodide keeps its load options: drop the 54 MB snapshot so it can be collected.
  if (py._api?.config) py._api.config._loadSnapshot = null;
  return { py, snapshot: null };
}
