# The in-interpreter half of the sandbox: runs one Caco program in fresh globals, captures stdout
# and stderr with a cap, classifies the outcome, encodes `input`/`output` as PyValue JSON
# (tagged objects, see `_enc` below), and checks afterwards that the program did not change what the next one
# sees. Loaded once per interpreter by worker.mjs; `_caco_setup(...)` returns `run_one`.
import builtins, sys, os, json, math, random, decimal, fractions, signal, gc, re, time, io

_REPR_CAP = 20000
_TRUNC = '...[truncated]'
_MAX_DEPTH = 20
_MAX_ELEMS = 10000
_DIGITS_CAP = 10000
_LOG10_2 = math.log10(2)


class _OutputLimit(BaseException):
    pass


class _Capture(io.TextIOBase):
    """A text stream that keeps at most `cap` characters and raises once past it."""

    def __init__(self, cap):
        self.parts = []
        self.size = 0
        self.cap = cap
        self.overflow = False

    def writable(self):
        return True

    def write(self, s):
        if not isinstance(s, str):
            raise TypeError('write() argument must be str, not ' + type(s).__name__)
        if self.overflow:
            raise _OutputLimit()
        n = len(s)
        if self.size + n > self.cap:
            self.parts.append(s[: self.cap - self.size])
            self.size = self.cap
            self.overflow = True
            raise _OutputLimit()
        self.parts.append(s)
        self.size += n
        return n

    def flush(self):
        pass

    def value(self):
        return ''.join(self.parts)


def _cap_text(s):
    return s if len(s) <= _REPR_CAP else s[:_REPR_CAP] + _TRUNC


def _int_digits(x):
    """Decimal digit count of an int, without str() for the very large ones."""
    bits = abs(x).bit_length()
    if bits < 200000:
        old = sys.get_int_max_str_digits()
        sys.set_int_max_str_digits(0)
        try:
            return len(str(abs(x)))
        finally:
            sys.set_int_max_str_digits(old)
    return int(bits * _LOG10_2) + 1


def _safe_text(fn, x):
    """repr/str of x, capped; huge ints rendered with the digit limit lifted (or summarised)."""
    if type(x) is int or type(x) is bool:
        if type(x) is int and abs(x).bit_length() > 3 * 4300:
            n = _int_digits(x)
            if n > _DIGITS_CAP:
                return '<int with %d digits>' % n
            old = sys.get_int_max_str_digits()
            sys.set_int_max_str_digits(0)
            try:
                return _cap_text(fn(x))
            finally:
                sys.set_int_max_str_digits(old)
    try:
        old = sys.get_int_max_str_digits()
        sys.set_int_max_str_digits(_DIGITS_CAP + 10)
        try:
            return _cap_text(fn(x))
        finally:
            sys.set_int_max_str_digits(old)
    except (KeyboardInterrupt, MemoryError, _OutputLimit):
        raise
    except BaseException as e:
        return '<%s failed: %s: %s>' % (fn.__name__, type(e).__name__, e)


_sympy_basic = None


def _is_sympy(x):
    global _sympy_basic
    if _sympy_basic is None:
        mod = sys.modules.get('sympy')
        _sympy_basic = getattr(mod, 'Basic', False) if mod else False
    return _sympy_basic is not False and isinstance(x, _sympy_basic)


class _Budget:
    __slots__ = ('left',)

    def __init__(self):
        self.left = _MAX_ELEMS


def _enc(x, depth, budget):
    budget.left -= 1
    if depth > _MAX_DEPTH or budget.left < 0:
        return {'$truncated': True}
    t = type(x)
    if x is None or t is bool or t is str:
        return x
    if t is int:
        if -(2 ** 53) <= x <= 2 ** 53:
            return x
        n = _int_digits(x)
        if n > _DIGITS_CAP:
            return {'$int_digits': n}
        old = sys.get_int_max_str_digits()
        sys.set_int_max_str_digits(0)
        try:
            return {'$int': str(x)}
        finally:
            sys.set_int_max_str_digits(old)
    if t is float:
        if x != x:
            return {'$float': 'nan'}
        if x in (math.inf, -math.inf):
            return {'$float': 'inf' if x > 0 else '-inf'}
        return x
    if t is fractions.Fraction:
        return {'$fraction': [_safe_text(str, x.numerator), _safe_text(str, x.denominator)]}
    if t is decimal.Decimal:
        return {'$decimal': str(x)}
    if t is complex:
        return {'$complex': [_enc(x.real, depth + 1, budget), _enc(x.imag, depth + 1, budget)]}
    if t is list:
        return [_enc(v, depth + 1, budget) for v in x]
    if t is tuple:
        return {'$tuple': [_enc(v, depth + 1, budget) for v in x]}
    if t is set or t is frozenset:
        items = sorted(x, key=lambda v: _safe_text(repr, v))
        return {'$set': [_enc(v, depth + 1, budget) for v in items]}
    if t is dict:
        if all(type(k) is str for k in x):
            return {k: _enc(v, depth + 1, budget) for k, v in x.items()}
        return {'$dict': [[_enc(k, depth + 1, budget), _enc(v, depth + 1, budget)] for k, v in x.items()]}
    if _is_sympy(x):
        return {'$sympy': _safe_text(str, x)}
    # Subclasses of the plain types (bool is handled above) fall back to their repr.
    return {'$object': _safe_text(repr, x)}


def encode_value(x):
    try:
        j = _enc(x, 0, _Budget())
    except (KeyboardInterrupt, MemoryError, _OutputLimit):
        raise
    except BaseException as e:
        j = {'$object': '<unencodable: %s>' % type(e).__name__}
    return {'json': j, 'repr': _safe_text(repr, x), 'str': _safe_text(str, x), 'type': type(x).__name__}


# ---- state isolation ---------------------------------------------------------------------------
# guard.py (the state guard) is driven by worker.mjs around the calls below and is not reachable
# from here: a program that climbs its frames (sys._getframe(1), a traceback's tb_frame...) reaches
# run()'s frame, this module's globals and run()'s closure variables, never the guard's state. What
# it can reach here is watched by the guard like any library state (dicts, sets, closure cells).
# Here we only reset the per-program interpreter settings before every program.


def _reset_globals_state(recursion_limit, seed):
    sys.setrecursionlimit(recursion_limit)
    sys.set_int_max_str_digits(4300)
    sys.settrace(None)
    sys.setprofile(None)
    gc.enable()
    decimal.setcontext(decimal.Context())
    # Fresh entropy from the host for every program (os.urandom is slow here), never a fixed seed: the filter detects unseeded randomness by running twice.
    random.seed(seed)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    mp = sys.modules.get('mpmath')
    if mp is not None:
        try:
            if mp.mp.prec != 53:
                mp.mp.prec = 53
            if mp.mp.pretty:
                mp.mp.pretty = False
        except Exception:
            pass


# ---- running one program -----------------------------------------------------------------------

def _module_missing(e):
    name = getattr(e, 'name', None)
    if not name:
        m = re.search(r"No module named '([^']+)'", str(e))
        name = m.group(1) if m else '?'
    return name.split('.')[0]


class _Program:
    """One program's state between start(), run() and finish() (reset by start())."""
    __slots__ = ('code', 'g', 'out', 'err', 't0', 'json', 'dropped')


def _setup(output_cap, recursion_limit):
    """Hardens the interpreter (once, before any program) and returns the steps worker.mjs calls
    per program: start (guard disarmed), run (guard armed: the program, the encoding of its values,
    which may call its own __repr__, the result's JSON and the collection of its garbage), finish
    (disarmed: the standard streams back), release (armed again, after the guard's restore: frees
    what was taken back from the program), and the closure cells the guard compares."""
    _harden()
    _is_sympy(None)  # binds _sympy_basic now: this module's globals are watched while programs run
    real_stdout, real_stderr, real_stdin = sys.stdout, sys.stderr, sys.stdin
    cur = _Program()

    def start(code, seed):
        cur.t0 = time.perf_counter()
        cur.code = code
        cur.out = _Capture(output_cap)
        cur.err = _Capture(output_cap)
        cur.g = {'__name__': '__main__', '__builtins__': builtins, '__doc__': None}
        cur.json = cur.dropped = None
        _reset_globals_state(recursion_limit, seed)
        sys.stdout, sys.stderr, sys.stdin = cur.out, cur.err, io.StringIO()

    def run():
        g = cur.g
        status = 'ok'
        error = None
        try:
            exec(compile(cur.code, '<program>', 'exec'), g)
        except _OutputLimit:
            status = 'output_limit'
        except KeyboardInterrupt:
            status = 'timeout'
            error = {'type': 'Timeout', 'message': 'wall-clock limit reached'}
        except MemoryError as e:
            status = 'memory'
            error = {'type': 'MemoryError', 'message': _safe_text(str, e)}
        except SystemExit as e:
            if e.code not in (None, 0):
                status = 'error'
                error = {'type': 'SystemExit', 'message': _safe_text(str, e.code)}
        except ModuleNotFoundError as e:
            status = 'missing_module'
            error = {'type': 'ModuleNotFoundError', 'message': _safe_text(str, e), 'module': _module_missing(e)}
        except BaseException as e:
            status = 'error'
            try:
                msg = str(e)
            except BaseException:
                msg = '<unprintable>'
            error = {'type': type(e).__name__, 'message': _cap_text(msg)}
        finally:
            sys.setrecursionlimit(max(recursion_limit, 1000))
        out, err = cur.out, cur.err
        if out.overflow or err.overflow:
            status = 'output_limit'
            error = {'type': 'OutputLimit', 'message': 'output exceeded %d characters' % output_cap}
        # Encoding may call the program's own __repr__/__str__: still watched.
        inp = outp = source = None
        try:
            if 'input' in g:
                inp = encode_value(g['input'])
            if 'output' in g:
                outp = encode_value(g['output'])
                source = 'global'
            elif status == 'ok':
                s = out.value()
                outp = {'json': s.strip(), 'repr': repr(s.strip()), 'str': s.strip(), 'type': 'str'}
                source = 'stdout'
        except MemoryError:
            status = 'memory'
            error = {'type': 'MemoryError', 'message': 'while encoding the result'}
        except KeyboardInterrupt:
            status = 'timeout'
            error = {'type': 'Timeout', 'message': 'wall-clock limit reached while encoding the result'}
        res = {
            'status': status, 'input': inp, 'output': outp, 'outputSource': source,
            'stdout': out.value(), 'stderr': err.value(), 'truncated': out.overflow or err.overflow,
            'error': error, 'durationMs': (time.perf_counter() - cur.t0) * 1000,
        }
        # The JSON text now, still watched: strings the program handed us (a str subclass with a
        # __del__, say) are dropped here, not after the guard is disarmed.
        try:
            cur.json = json.dumps(res, allow_nan=False)
        except BaseException as e:
            res['input'] = res['output'] = None
            res['status'] = 'error'
            res['error'] = {'type': 'EncodingError', 'message': type(e).__name__}
            cur.json = json.dumps(res, allow_nan=True)
        res = inp = outp = error = None
        out.parts.clear()
        err.parts.clear()
        g.clear()
        cur.g = cur.code = None
        # The program's Ctrl-C handler goes (a late interrupt must not run its code in the guard's
        # frames: it raises KeyboardInterrupt there, and the interpreter is replaced).
        signal.signal(signal.SIGINT, signal.default_int_handler)
        # Objects of the program freed now or in a cycle run their __del__ while still watched.
        t = time.perf_counter()
        gc.collect()
        # No automatic collection until the next start(): a callback a program put in gc.callbacks
        # must not run inside the guard's calls (release() collects explicitly, watched).
        gc.disable()
        return (time.perf_counter() - t) * 1000

    def finish():
        """The result's JSON text (worker.mjs appends the guard's keys after every value the
        program controls). What the standard streams held is kept for release()."""
        cur.dropped = [sys.stdout, sys.stderr, sys.stdin, cur.out, cur.err]
        sys.stdout, sys.stderr, sys.stdin = real_stdout, real_stderr, real_stdin
        cur.out = cur.err = None
        text, cur.json = cur.json, None
        return text

    def release(dropped):
        """Frees what finish() and the guard's restore() took back from the program (the guard is
        armed: a finalizer that changes library state is seen), then collects its cycles."""
        dropped.clear()
        cur.dropped = None
        gc.collect()

    cells = [c for f in (start, run, finish, release) for c in (f.__closure__ or ())]
    return start, run, finish, release, cells


# ---- hardening ---------------------------------------------------------------------------------

_BLOCKED = {'js', 'pyodide_js', 'pyodide', '_pyodide', '_pyodide_core', 'micropip', 'pyodide_http',
            'socket', '_socket', 'ssl', '_ssl', 'select', 'selectors', 'subprocess', '_posixsubprocess',
            'multiprocessing', '_multiprocessing', 'ctypes', '_ctypes', 'asyncio', '_asyncio', 'urllib.request',
            'http.client', 'ftplib', 'smtplib', 'poplib', 'imaplib', 'telnetlib', 'webbrowser', 'pty',
            'importlib.metadata'}


class _BlockFinder:
    """First on sys.meta_path: modules that reach the host (or the JS bridge) do not exist here."""

    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if name in _BLOCKED or name.split('.')[0] in ('js', 'pyodide', '_pyodide', 'pyodide_js', 'micropip'):
            raise ModuleNotFoundError('No module named %r (not available in the sandbox)' % name, name=name)
        return None

    @classmethod
    def invalidate_caches(cls):
        pass


def _denied(*a, **k):
    raise PermissionError('not permitted in the sandbox')


def _harden():
    # time.sleep is wrapped by pyodide.webloop, whose namespace is emptied below: unwrap it first.
    import time as _time
    _time.sleep = getattr(_time.sleep, '__wrapped__', _time.sleep)
    # 1. No route to JavaScript: drop the JS import finder and every loaded bridge module, and
    #    empty their namespaces (functions defined there keep their __globals__ dict).
    sys.meta_path[:] = [f for f in sys.meta_path if 'Js' not in type(f).__name__ and 'Js' not in getattr(f, '__name__', '')]
    sys.meta_path.insert(0, _BlockFinder)
    for name in list(sys.modules):
        top = name.split('.')[0]
        if top in ('js', 'pyodide_js', 'pyodide', '_pyodide', 'micropip') or name in _BLOCKED:
            m = sys.modules.pop(name)
            if top != '_pyodide':
                try:
                    vars(m).clear()
                except Exception:
                    pass
    # 2. No processes, no signals to other processes, no sockets.
    os.environ.clear()
    os.environ['HOME'] = '/home/pyodide'
    for fn in ('system', 'popen', 'fork', 'forkpty', 'execv', 'execve', 'execl', 'execle', 'execlp',
               'execlpe', 'execvp', 'execvpe', 'spawnl', 'spawnle', 'spawnlp', 'spawnlpe', 'spawnv',
               'spawnve', 'spawnvp', 'spawnvpe', 'posix_spawn', 'posix_spawnp', 'kill', 'killpg', 'putenv',
               'unsetenv'):
        if hasattr(os, fn):
            setattr(os, fn, _denied)
    sys.path_importer_cache.clear()
    # 3. A registry kept in C that no guard can read back: closed (codec search functions).
    import codecs, _codecs
    codecs.register = _codecs.register = _denied


_caco_setup = _setup
