// The Pyodide layer: the Pyodide runtime files plus SymPy and mpmath pre-compiled to .pyc
// (compiled inside Pyodide, so the bytecode matches its Python 3.14) and packed into one tar the
// sandbox worker unpacks into its in-memory file system. The same folder is the Lambda layer.
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Bump when the layout of the layer changes, so old layers are rebuilt. */
const LAYER_FORMAT = 8; // 8: the snapshot holds the compiled runner/guard and every library function's attribute dict
export const RUNTIME_FILES = ['pyodide.mjs', 'pyodide.asm.mjs', 'pyodide.asm.wasm', 'python_stdlib.zip', 'pyodide-lock.json', 'package.json'];
export const SITE_ARCHIVE = 'site-packages.zip';
export const SNAPSHOT_FILE = 'snapshot.bin';
const BOOT = fileURLToPath(new URL('./child/boot.mjs', import.meta.url));
export const MANIFEST = 'manifest.json';
const PACKAGES = ['sympy', 'mpmath'];

/** Where the layer lives: $CACO_PYODIDE_DIR (e.g. /opt/pyodide on Lambda) or layers/pyodide/dist. */
export function layerDir(): string {
  return process.env.CACO_PYODIDE_DIR || join(REPO_ROOT, 'layers/pyodide/dist');
}

export interface LayerManifest {
  format: number;
  key: string;
  pyodideVersion: string;
  /** The Node (and V8) that built the snapshot: part of the key, the stack checks the major. */
  node: string;
  v8: string;
  packages: Record<string, { version: string; source: string }>;
  builtAt: string;
  buildMs: number;
}

export interface BuildLayerOptions {
  outDir?: string;
  /** A folder of .whl files (sympy-*.whl, mpmath-*.whl); takes precedence over the host python. */
  wheels?: string;
  force?: boolean;
  log?: (msg: string) => void;
}

type Source = { kind: 'wheel'; path: string; version: string } | { kind: 'dir'; path: string; version: string };

function pyodideModuleDir(): string {
  return join(REPO_ROOT, 'node_modules/pyodide');
}

/** Finds sympy and mpmath: wheel folder, then the host python3, then Debian's dist-packages. */
export function locatePackageSources(wheels?: string): Record<string, Source> {
  const out: Record<string, Source> = {};
  for (const pkg of PACKAGES) {
    if (wheels) {
      const whl = readdirSync(wheels).find((f) => f.toLowerCase().startsWith(pkg + '-') && f.endsWith('.whl'));
      if (whl) {
        out[pkg] = { kind: 'wheel', path: join(wheels, whl), version: whl.split('-')[1] ?? '?' };
        continue;
      }
    }
    const r = spawnSync('python3', ['-c', `import ${pkg},os;print(os.path.dirname(${pkg}.__file__));print(${pkg}.__version__)`], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/' },
    });
    if (r.status === 0) {
      const [path, version] = r.stdout.trim().split('\n');
      if (path && existsSync(path)) {
        out[pkg] = { kind: 'dir', path, version: version ?? '?' };
        continue;
      }
    }
    const deb = `/usr/lib/python3/dist-packages/${pkg}`;
    if (existsSync(deb)) {
      out[pkg] = { kind: 'dir', path: deb, version: 'debian' };
      continue;
    }
    throw new Error(
      `cannot find ${pkg}: pass --wheels DIR with a ${pkg} wheel, install it for python3, or apt-get install python3-${pkg}`,
    );
  }
  return out;
}

// Not 'testing': Debian's SymPy 1.11 (the python3-sympy fallback) imports sympy.testing at import time.
const SKIP_DIRS = new Set(['tests', 'benchmarks', '__pycache__']);
function listSourceFiles(root: string): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      const st = statSync(p);
      if (st.isDirectory()) {
        if (!SKIP_DIRS.has(name)) walk(p);
      } else if (!name.endsWith('.pyc') && !name.endsWith('.so')) files.push(p);
    }
  };
  walk(root);
  return files;
}

function writeAtomic(path: string, data: Uint8Array): void {
  writeFileSync(path + '.tmp', data);
  renameSync(path + '.tmp', path);
}

function readManifest(dir: string): LayerManifest | null {
  try {
    return JSON.parse(readFileSync(join(dir, MANIFEST), 'utf8')) as LayerManifest;
  } catch {
    return null;
  }
}

function inputsKey(sources: Record<string, Source>): string {
  const pyodidePkg = readFileSync(join(pyodideModuleDir(), 'package.json'), 'utf8');
  const h = createHash('sha256').update(String(LAYER_FORMAT)).update(pyodidePkg).update(`node ${process.versions.node} v8 ${process.versions.v8}`);
  for (const [k, s] of Object.entries(sources)) h.update(`${k}:${s.kind}:${s.path}:${s.version}`);
  // The snapshot is made by these scripts (boot.mjs's warm-up, guard.py's plan): a change to any of
  // them must rebuild it, or the layer keeps a snapshot planned by an older guard.
  for (const f of CHILD_FILES) h.update(`${f}:`).update(readFileSync(join(CHILD_SRC, f)));
  return h.digest('hex').slice(0, 16);
}

/** True when the layer's snapshot was built by the Node running now (a layer from before the field: no). */
export function isLayerBuiltByThisNode(dir: string): boolean {
  const m = readManifest(dir);
  return m?.node === process.versions.node && m?.v8 === process.versions.v8;
}

/** True when `dir` holds a complete layer (runtime files, site archive, manifest). */
export function isLayerComplete(dir: string): boolean {
  // A layer of an older format (e.g. a snapshot without the state guard's plan) counts as missing.
  return readManifest(dir)?.format === LAYER_FORMAT && [...RUNTIME_FILES, SITE_ARCHIVE, SNAPSHOT_FILE].every((f) => existsSync(join(dir, f)));
}

/** Builds (or confirms up to date) the layer; returns its manifest. */
export async function buildLayer(opts: BuildLayerOptions = {}): Promise<LayerManifest> {
  const outDir = opts.outDir ?? layerDir();
  const log = opts.log ?? (() => {});
  const sources = locatePackageSources(opts.wheels);
  const key = inputsKey(sources);
  const existing = readManifest(outDir);
  if (!opts.force && existing?.key === key && isLayerComplete(outDir)) {
    syncChildFiles(outDir);
    log(`layer up to date in ${outDir}`);
    return existing;
  }
  const t0 = performance.now();
  mkdirSync(outDir, { recursive: true });
  for (const f of RUNTIME_FILES) copyFileSync(join(pyodideModuleDir(), f), join(outDir, f));

  const { loadPyodide } = (await import(join(pyodideModuleDir(), 'pyodide.mjs'))) as typeof import('pyodide');
  const py = await loadPyodide({ indexURL: pyodideModuleDir() + '/', stdout: () => {}, stderr: (s: string) => log(s) });
  const FS = py.FS;
  const mkdirp = (p: string) => {
    let cur = '';
    for (const part of p.split('/').filter(Boolean)) {
      cur += '/' + part;
      if (!FS.analyzePath(cur).exists) FS.mkdir(cur);
    }
  };
  mkdirp('/build/site');
  for (const [pkg, src] of Object.entries(sources)) {
    if (src.kind === 'wheel') {
      FS.writeFile('/build/whl.zip', readFileSync(src.path));
      py.runPython(`
import zipfile
with zipfile.ZipFile('/build/whl.zip') as z:
    for n in z.namelist():
        if n.startswith('${pkg}/') and '/tests/' not in n and '/benchmarks/' not in n:
            z.extract(n, '/build/site')
`);
    } else {
      for (const file of listSourceFiles(src.path)) {
        const dest = `/build/site/${pkg}/${relative(src.path, file)}`;
        mkdirp(dirname(dest));
        FS.writeFile(dest, readFileSync(file));
      }
    }
    log(`${pkg} ${src.version} from ${src.path}`);
  }
  // Sourceless (legacy) .pyc next to each module: no source to stat, no cache dir to write.
  const failed = py.runPython(`
import compileall, os, py_compile, io, contextlib
with contextlib.redirect_stdout(io.StringIO()):
    ok = compileall.compile_dir('/build/site', quiet=2, legacy=True,
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
bad = []
for root, dirs, files in os.walk('/build/site'):
    for f in files:
        if f.endswith('.py'):
            p = os.path.join(root, f)
            if os.path.exists(p + 'c'):
                os.remove(p)
            else:
                bad.append(p)
import zipfile
with zipfile.ZipFile('/build/site.zip', 'w', zipfile.ZIP_STORED) as z:
    for root, dirs, files in os.walk('/build/site'):
        dirs.sort()
        for f in sorted(files):
            p = os.path.join(root, f)
            z.write(p, os.path.relpath(p, '/build/site'))
len(bad)
`) as number;
  const zip = FS.readFile('/build/site.zip') as Uint8Array;
  writeAtomic(join(outDir, SITE_ARCHIVE), zip);
  // The snapshot: a Pyodide heap with SymPy & co. imported, made with the worker's own boot code.
  const { bootPyodide } = (await import(BOOT)) as {
    bootPyodide: (dir: string, o: { makeSnapshot: boolean }) => Promise<{ snapshot: Uint8Array }>;
  };
  const { snapshot } = await bootPyodide(outDir, { makeSnapshot: true });
  writeAtomic(join(outDir, SNAPSHOT_FILE), snapshot);
  const manifest: LayerManifest = {
    format: LAYER_FORMAT,
    key,
    pyodideVersion: py.version,
    node: process.versions.node,
    v8: process.versions.v8,
    packages: Object.fromEntries(Object.entries(sources).map(([k, s]) => [k, { version: s.version, source: s.path }])),
    builtAt: new Date().toISOString(),
    buildMs: Math.round(performance.now() - t0),
  };
  syncChildFiles(outDir);
  writeAtomic(join(outDir, MANIFEST), new TextEncoder().encode(JSON.stringify(manifest, null, 2) + '\n'));
  log(`layer built in ${outDir} in ${manifest.buildMs} ms (${(zip.length / 1e6).toFixed(1)} MB zip, ${(snapshot.length / 1e6).toFixed(1)} MB snapshot, ${failed} files left as source)`);
  return manifest;
}

/** The sandbox child's own scripts, copied into <layer>/child so one read-only grant covers all. */
const CHILD_SRC = fileURLToPath(new URL('./child/', import.meta.url));
export const CHILD_FILES = ['boot.mjs', 'controller.mjs', 'worker.mjs', 'runner.py', 'guard.py'];

/**
 * Where the sandbox children run their scripts from: the layer's child/ once it holds exactly this
 * code's copy (one read grant covers all), else this code's own folder (a read-only layer: the
 * deployed function's bundle carries child/). Never another version's copy; missing ones throw.
 */
export function childScriptsDir(layer: string): string {
  const missing = CHILD_FILES.filter((f) => !existsSync(join(CHILD_SRC, f)));
  if (missing.length) {
    throw new Error(`the sandbox child scripts ${missing.join(', ')} are missing from ${CHILD_SRC} (the function bundle must carry them)`);
  }
  return syncChildFiles(layer) ? join(layer, 'child') : CHILD_SRC.replace(/\/+$/, '');
}

/** Copies changed child scripts into the layer; false when the layer is read-only and stale. */
export function syncChildFiles(dir: string): boolean {
  const dest = join(dir, 'child');
  let ok = true;
  for (const f of CHILD_FILES) {
    // In a bundle (the Lambda) the sources are not next to this module: the layer has them.
    if (!existsSync(join(CHILD_SRC, f))) continue;
    const src = readFileSync(join(CHILD_SRC, f));
    const target = join(dest, f);
    if (existsSync(target) && readFileSync(target).equals(src)) continue;
    try {
      mkdirSync(dest, { recursive: true });
      writeAtomic(target, src);
    } catch {
      ok = false;
    }
  }
  return ok;
}

/** The layer folder when ensureLayer() would use it as it is (no build, no error); else null. */
export function readyLayerDir(): string | null {
  const dir = layerDir();
  if (!isLayerComplete(dir)) return null;
  const major = (v?: string) => v?.split('.')[0];
  if (process.env.CACO_PYODIDE_DIR) return major(readManifest(dir)?.node) === major(process.versions.node) ? dir : null;
  return isLayerBuiltByThisNode(dir) ? dir : null;
}

let ensuring: Promise<string> | null = null;
/** Returns the layer folder, building it first if it is missing (so a fresh clone just works). */
export function ensureLayer(log?: (msg: string) => void): Promise<string> {
  const dir = layerDir();
  // A deployed layer ($CACO_PYODIDE_DIR) is used as built (the stack checked its Node major); a
  // local one built by another Node is rebuilt, since its snapshot is keyed by the Node that made it.
  if (isLayerComplete(dir) && process.env.CACO_PYODIDE_DIR) {
    // A snapshot from another Node major does not start (Pyodide sets up other wasm features): say so.
    const built = readManifest(dir)?.node;
    const major = (v?: string) => v?.split('.')[0];
    if (major(built) !== major(process.versions.node)) {
      return Promise.reject(new Error(`the Pyodide layer in ${dir} was built with Node ${built ?? '(unknown)'}; this is Node ${process.versions.node}: rebuild it with this Node's major`));
    }
    return Promise.resolve(dir);
  }
  if (isLayerComplete(dir) && isLayerBuiltByThisNode(dir)) return Promise.resolve(dir);
  if (process.env.CACO_PYODIDE_DIR) return Promise.reject(new Error(`CACO_PYODIDE_DIR=${dir} holds no complete Pyodide layer`));
  ensuring ??= buildLocked(dir, log).then(() => dir);
  return ensuring;
}

/** Builds under a lock folder, so parallel test processes on a fresh clone build only once. */
async function buildLocked(dir: string, log?: (msg: string) => void): Promise<void> {
  const lock = dir.replace(/\/+$/, '') + '.lock';
  mkdirSync(dirname(lock), { recursive: true });
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (isLayerComplete(dir) && isLayerBuiltByThisNode(dir)) return;
      try {
        if (Date.now() - statSync(lock).mtimeMs > 10 * 60_000) rmSync(lock, { recursive: true, force: true });
      } catch {
        /* gone meanwhile */
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    if (!isLayerComplete(dir) || !isLayerBuiltByThisNode(dir)) await buildLayer({ outDir: dir, log });
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
