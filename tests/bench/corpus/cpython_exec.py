# CPython baselines for the sandbox bench.
#   python3 -I cpython_exec.py one          one program on stdin -> one JSON result (spawned per program)
#   python3 -I cpython_exec.py fork N       JSONL programs on stdin -> JSONL results; a warm parent
#                                           (SymPy imported) forks one child per program, N at a time:
#                                           the paper's executor model, without its Manager overhead.
import io, json, os, sys, signal, tempfile, contextlib, time

TIMEOUT = 10
CAP = 20000


def _text(x):
    old = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        s = repr(x)
    except BaseException as e:
        s = '<repr failed: %s>' % type(e).__name__
    finally:
        sys.set_int_max_str_digits(old)
    return s if len(s) <= CAP else s[:CAP] + '...[truncated]'


def run_program(code):
    out = io.StringIO()
    g = {'__name__': '__main__'}
    status, err = 'ok', None
    t0 = time.perf_counter()
    signal.alarm(TIMEOUT)
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(code, '<program>', 'exec'), g)
    except ModuleNotFoundError as e:
        status, err = 'missing_module', e.name
    except BaseException as e:
        status, err = ('timeout' if isinstance(e, TimeoutError) else 'error'), type(e).__name__
    finally:
        signal.alarm(0)
    if 'output' in g:
        rep = _text(g['output'])
    elif status == 'ok':
        rep = repr(out.getvalue().strip())
    else:
        rep = None
    return {'status': status, 'error': err, 'repr': rep, 'ms': (time.perf_counter() - t0) * 1000}


def _alarm(*_):
    raise TimeoutError()


signal.signal(signal.SIGALRM, _alarm)

if sys.argv[1] == 'one':
    print(json.dumps(run_program(sys.stdin.read())))
elif sys.argv[1] == 'fork':
    import sympy, fractions, math, itertools, functools, random, decimal  # warm parent
    # The same SymPy warm-up the sandbox snapshot gets (lib/sandbox/child/boot.mjs, WARMUP).
    _x, _y = sympy.symbols('x y')
    sympy.solve(_x**2 - 3*_x + 2, _x); sympy.solve([_x + _y - 3, _x - _y - 1], [_x, _y])
    sympy.integrate(sympy.expand((_x + 1)**3), (_x, 0, 1)); sympy.diff(sympy.sin(_x) * _x, _x)
    sympy.simplify((_x**2 - 1) / (_x - 1)); sympy.factor(_x**2 - 1); sympy.nsimplify(0.5)
    sympy.Rational(1, 3) + sympy.sqrt(2); str(sympy.pi.evalf(20)); sympy.limit(sympy.sin(_x) / _x, _x, 0)
    sympy.factorint(360); sympy.isprime(97); sympy.binomial(10, 3); sympy.Matrix([[1, 2], [3, 4]]).det()
    sympy.summation(_x, (_x, 1, 10)); sympy.latex(_x**2); sympy.N(sympy.E)
    n = int(sys.argv[2])
    progs = [json.loads(l) for l in sys.stdin if l.strip()]
    tmp = tempfile.mkdtemp(prefix='caco-fork-', dir='/dev/shm' if os.path.isdir('/dev/shm') else None)
    running = {}
    results = {}
    i = 0
    # The fork loop alone (the parent's own start, SymPy import and warm-up, is not counted).
    loop_t0 = time.perf_counter()
    while i < len(progs) or running:
        while i < len(progs) and len(running) < n:
            p = progs[i]
            path = os.path.join(tmp, str(i))
            pid = os.fork()
            if pid == 0:
                try:
                    r = run_program(p['code'])
                except BaseException as e:
                    r = {'status': 'error', 'error': type(e).__name__, 'repr': None}
                with open(path, 'w') as f:
                    json.dump(r, f)
                os._exit(0)
            running[pid] = (i, path)
            i += 1
        pid, _ = os.wait()
        idx, path = running.pop(pid)
        try:
            with open(path) as f:
                results[idx] = json.load(f)
            os.remove(path)
        except OSError:
            results[idx] = {'status': 'error', 'error': 'crashed', 'repr': None}
    loop_ms = (time.perf_counter() - loop_t0) * 1000
    os.rmdir(tmp)
    sys.stderr.write(json.dumps({'loopMs': loop_ms}) + '\n')
    for k in range(len(progs)):
        print(json.dumps({'id': progs[k]['id'], **results[k]}))
