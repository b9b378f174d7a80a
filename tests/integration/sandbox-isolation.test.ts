// Each isolation rule of the sandbox, checked against a real pool: host files, environment,
// network (a real local TCP listener that must never see a connection), the JS bridge, other
// processes, and state left behind by one program for the next.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSandboxPool, type SandboxPool } from '../../lib/sandbox/index.ts';
import { ESCAPE } from '../fixtures/sandbox-escape.ts';

let pool: SandboxPool;
let server: Server;
let port = 0;
let connections = 0;
const probe = join(tmpdir(), `caco-sandbox-probe-${process.pid}`);


before(async () => {
  server = createServer((s) => {
    connections++;
    s.destroy();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  port = (server.address() as { port: number }).port;
  process.env.CACO_TEST_SECRET = 'sekrit-value-42';
  pool = await createSandboxPool({ workers: 2, timeoutMs: 4000 });
});

after(async () => {
  await pool?.close();
  server?.close();
  rmSync(probe, { force: true });
  delete process.env.CACO_TEST_SECRET;
});

const run = (code: string, id = 't') => pool.run({ id, code });

describe('sandbox isolation', () => {
  test('a file the program writes does not appear on the host', async () => {
    const r = await run(`open(${JSON.stringify(probe)}, 'w').write('pwned')\noutput = 'written'`);
    // Python sees its own in-memory file system; the host path stays absent.
    assert.equal(r.status, 'ok');
    assert.equal(existsSync(probe), false);
  });

  test('host files cannot be read', async () => {
    const r = await run(`output = open('/etc/hostname').read()`);
    assert.equal(r.status, 'error');
    assert.equal(r.error?.type, 'FileNotFoundError');
  });

  test('environment variables of the parent do not leak', async () => {
    const r = await run(`import os\noutput = dict(os.environ)`);
    assert.equal(r.status, 'ok');
    assert.ok(!JSON.stringify(r).includes('sekrit-value-42'));
    assert.deepEqual(Object.keys(r.output!.json as object), ['HOME']);
  });

  test('no process can be started', async () => {
    const sys = await run(`import os\noutput = os.system('touch ${probe}')`);
    assert.equal(sys.status, 'error');
    assert.equal(sys.error?.type, 'PermissionError');
    const sub = await run(`import subprocess\nsubprocess.run(['id'])`);
    assert.equal(sub.status, 'missing_module');
    assert.equal(existsSync(probe), false);
  });

  test('the JS bridge modules are gone', async () => {
    for (const mod of ['js', 'pyodide_js', 'pyodide.code', 'pyodide.http', 'pyodide.ffi']) {
      const r = await run(`import ${mod}\noutput = 'reached'`);
      assert.equal(r.status, 'missing_module', mod);
    }
  });

  test('no network connection reaches a local listener, by any route', async () => {
    const attempts = {
      socket: `import socket\nsocket.create_connection(('127.0.0.1', ${port}))`,
      urllib: `import urllib.request\nurllib.request.urlopen('http://127.0.0.1:${port}/')`,
      http: `import http.client\nhttp.client.HTTPConnection('127.0.0.1', ${port}).request('GET', '/')`,
      asyncio: `import asyncio\nasyncio.run(asyncio.open_connection('127.0.0.1', ${port}))`,
      fetch: ESCAPE + `G.fetch('http://127.0.0.1:${port}/')`,
      websocket: ESCAPE + `G.WebSocket.new('ws://127.0.0.1:${port}/')`,
      binding: ESCAPE + `G.process.binding('tcp_wrap')`,
      require: ESCAPE + `G.require('ws')`,
      importNet: ESCAPE + `G.Function.new('p', 'import("node:net").then(n => n.connect(p, "127.0.0.1"), () => 0); return 1')(${port})`,
      importHttp: ESCAPE + `G.Function.new('p', 'import("node:http").then(h => h.get("http://127.0.0.1:" + p), () => 0); return 1')(${port})`,
      builtin: ESCAPE + `G.process.getBuiltinModule('node:net').connect(${port}, '127.0.0.1')`,
    };
    const results = await pool.runMany(Object.entries(attempts).map(([id, code]) => ({ id, code })));
    // Let any asynchronous connection attempt (import().then) play out before counting.
    await run('output = 1');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(connections, 0, JSON.stringify(results.map((r) => [r.id, r.status, r.error?.message])));
    // The two import() routes return before their promise settles; the listener count above is
    // their check. Every synchronous route must fail outright.
    for (const r of results.filter((x) => !x.id.startsWith('import'))) assert.notEqual(r.status, 'ok', `${r.id} should fail`);
  });

  test('the escaped JavaScript side has no process, network or import powers left', async () => {
    const r = await run(
      ESCAPE +
        `output = [k for k in ('fetch', 'require', 'WebSocket', 'XMLHttpRequest') if hasattr(G, k)] + ` +
        `[k for k in ('binding', 'dlopen', 'kill', '_linkedBinding', 'getBuiltinModule') if hasattr(G.process, k)] + ` +
        `list(G.Object.keys(G.process.env))`,
    );
    assert.equal(r.status, 'ok', JSON.stringify(r.error));
    assert.deepEqual(r.output!.json, []);
  });

  test('monkeypatched modules, builtins and sys.modules are not seen by the next program', async () => {
    const patches = [
      `import math\nmath.sqrt = lambda x: 0\noutput = 1`,
      `import builtins\nbuiltins.abs = lambda x: -1\noutput = 1`,
      `import sys\nsys.modules['fractions'] = None\noutput = 1`,
      `import sympy\nsympy.Rational = int\noutput = 1`,
      `import math as m\nm.pi = 3\noutput = 1`,
      `import decimal\ndecimal.getcontext().prec = 3\noutput = 1`,
      `import mpmath\nmpmath.mp.dps = 5\noutput = 1`,
      `from fractions import Fraction\nFraction.__add__ = lambda a, b: 0\noutput = 1`,
      `import sympy\nsympy.Rational.__str__ = lambda self: 'patched'\noutput = 1`,
    ];
    const probeCode = `import math, fractions, decimal, sympy, mpmath
output = (math.sqrt(16), abs(-2), str(fractions.Fraction(1, 3) + fractions.Fraction(1, 6)), math.pi, str(decimal.Decimal(1) / decimal.Decimal(7)), str(sympy.Rational(1, 3)), str(mpmath.mpf(1) / 3))`;
    const clean = await run(probeCode);
    assert.equal(clean.status, 'ok');
    // Each patch is followed by the probe; batches keep that order within one worker.
    const jobs = patches.flatMap((p, i) => [{ id: `patch${i}`, code: p }, { id: `probe${i}`, code: probeCode }]);
    const results = await pool.runMany(jobs);
    for (const r of results.filter((x) => x.id.startsWith('probe'))) {
      assert.equal(r.status, 'ok');
      assert.equal(r.output!.repr, clean.output!.repr, r.id);
    }
  });

  test('random is reseeded with fresh entropy for every program (not a fixed seed)', async () => {
    const code = `import random\noutput = random.random()`;
    const rs = await pool.runMany(Array.from({ length: 6 }, (_, i) => ({ id: `r${i}`, code })));
    assert.equal(new Set(rs.map((r) => r.output!.repr)).size, 6);
  });

  test('the recursion limit a program sets does not outlive it', async () => {
    const harmless = await run(`import sys\nsys.setrecursionlimit(60)\ndef f(n): return 0 if n == 0 else 1 + f(n - 1)\noutput = f(100)`);
    assert.equal(harmless.status, 'error'); // the limit held inside the program...
    assert.equal(harmless.error!.type, 'RecursionError');
    // ...and was reset for the next one, on every worker.
    const next = await pool.runMany([0, 1, 2, 3].map((i) => ({ id: `deep${i}`, code: `def f(n): return 0 if n == 0 else 1 + f(n - 1)\noutput = f(500)` })));
    for (const r of next) assert.equal(r.output!.repr, '500');
  });

  test('SymPy numbering its Dummy symbols is not a state change; setting the counter back is', async () => {
    // solve() creates Dummy symbols: the guard must accept the counter SymPy advanced itself,
    // instead of recycling the interpreter after every such program.
    const solve = `import sys, sympy\nx = sympy.Symbol('x')\nc0 = sympy.Dummy._count\nr = sympy.solve(x**2 - 5*x + 6, x)\noutput = (sympy.Dummy._count > c0, r)`;
    const before = pool.stats().recycles;
    for (let i = 0; i < 3; i++) {
      const r = await run(solve, `solve${i}`);
      assert.equal(r.status, 'ok');
      assert.equal(r.output!.repr, '(True, [2, 3])');
    }
    assert.equal(pool.stats().recycles, before);
    // Lowering it could make new Dummies equal to ones still in SymPy's cache: detected, recycled.
    const r = await run(`import sympy\nsympy.Dummy._count -= 1\noutput = 1`);
    assert.equal(r.status, 'ok');
    assert.equal(pool.stats().recycles, before + 1);
  });
});
