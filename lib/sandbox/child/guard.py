# The state guard: what one program may leave behind for the next is nothing. Loaded once per
# interpreter by worker.mjs (as module `_caco_guard`), used by runner.py around every program.
#
# Mechanism (no pattern matching on the code): at baseline, every object reachable from a loaded
# module, `sys` or `builtins` is walked once, and
#   - every dict found (module namespaces, class namespaces, instance dicts, nested tables such as
#     copy._deepcopy_dispatch, function __dict__/__kwdefaults__) is registered with a CPython dict
#     watcher: any write to any of them while a program runs marks the interpreter dirty, even a
#     write that the program undoes before it ends;
#   - functions get a function watcher (a new __code__, __defaults__ or __kwdefaults__);
#   - lists, sets, bytearrays, deques and closure cells have no watcher in CPython: a shallow copy
#     of each is compared after the program in one C-level comparison;
#   - random generators, decimal contexts and lru caches reachable from modules are reset or
#     checked explicitly (their state is C data, not a dict); the ABC registries through
#     abc.get_cache_token(); the file system through audit events.
# A dirty interpreter is replaced by a fresh one from the snapshot (worker.mjs -> controller.mjs).
# Caches that clean programs fill (re's compiled patterns, codec lookups, ...) are not watched:
# they are put back to their baseline contents after every program instead.
import sys, gc, builtins
from itertools import chain, compress, repeat
from operator import is_, is_not, and_, attrgetter

_ctypes = None
_api = None
_dict_watcher = -1
_func_watcher = -1
_callbacks = []  # keeps the ctypes thunks alive
_DEBUG = False


# The callbacks write into this list, never into a dict (a watched dict would call them again).
# It is a hint and a description only: what decides is held by worker.mjs (JavaScript), which the
# callbacks tell through two functions that can only set its flags (_js_mark, _js_touch, see
# install()). A program that reaches this list (gc introspection, which marks it dirty first) can
# silence later reports, never take back one already made.
_state = [False, None, 0, False]  # armed, reason, address of the changed object, special touched
_js_mark = _js_touch = None
# Addresses of watched dicts that programs may change (caches, lazily bound globals, counters):
# a write only marks them for the restore/compare step after the program.
_special = {}
# Which of them were written since arm(): restore() looks at those only.
_touched = set()


def _on_dict(event, d, key, value):
    if not _state[0]:
        return 0
    if d in _special:
        if not _state[3]:
            _state[3] = True
            _js_touch()
        # Which ones (by address), so restore() looks only at those. A program can reach this set
        # only through gc introspection, which has already marked the interpreter dirty.
        _touched.add(d)
    elif _state[1] is None:
        # Dirty first (in JavaScript, one way): whatever the description below meets, the
        # interpreter is replaced.
        _state[1] = 'dict %#x changed (%s)' % (d or 0, _DICT_EVENTS.get(event, event))
        _state[2] = d or 0
        _js_mark('a dict held by a module changed')
        if key and event in (0, 1, 2):
            # Only a str key is shown: repr of any other key could run the program's own code
            # inside this callback, whose frame leads to the guard's state.
            try:
                o = _key_object(key)
                if type(o) is str:
                    _state[1] = 'dict %#x changed (%s key %.60r)' % (d or 0, _DICT_EVENTS.get(event, event), o)
            except Exception as e:
                if _DEBUG:
                    print('key', repr(e))
    return 0


_DICT_EVENTS = {0: 'added', 1: 'modified', 2: 'deleted', 3: 'cloned', 4: 'cleared', 5: 'deallocated'}


# PyFunction_WatchEvent: 0 create, 1 destroy, 2 modify code, 3 modify defaults, 4 modify kwdefaults.
def _on_func(event, func, value):
    if event >= 2 and _state[0] and _state[1] is None:
        _dirty('a function was modified (%s)' % ('code', 'defaults', 'kwdefaults')[min(event - 2, 2)])
    return 0


def _dirty(reason):
    _state[1] = reason
    _js_mark(reason)


# Audit events that change what the next program sees without touching a watched object.
_FS_EVENTS = {'os.remove', 'os.rename', 'os.mkdir', 'os.rmdir', 'os.truncate', 'os.chmod', 'os.chown',
              'os.utime', 'os.symlink', 'os.link', 'os.chdir', 'os.chflags', 'os.lchmod', 'os.putenv',
              'os.unsetenv', 'shutil.rmtree', 'shutil.copyfile', 'shutil.move', 'shutil.chown'}
_HOOK_EVENTS = {'sys.settrace', 'sys.setprofile', 'sys.monitoring.register_callback', 'sys.addaudithook',
                'ctypes.dlopen', 'ctypes.dlsym', 'ctypes.addressof', 'ctypes.cdata', 'ctypes.string_at',
                'ctypes.wstring_at', 'ctypes.set_errno', 'ctypes.call_function', 'gc.get_objects',
                'gc.get_referrers', 'gc.get_referents', 'sys._current_frames', 'sys._getframemodulename',
                'cpython._PySys_ClearAuditHooks'}


def _audit(event, args):
    if not _state[0] or _state[1] is not None:
        return
    if event == 'open':
        mode = args[1] if len(args) > 1 else 'r'
        flags = args[2] if len(args) > 2 else 0
        if (type(mode) is str and any(c in mode for c in 'wax+')) or (type(flags) is int and flags & 0o3):
            path = args[0] if type(args[0]) in (str, bytes, int) else type(args[0]).__name__
            _dirty('file opened for writing: %r' % (path,))
    elif event in _FS_EVENTS:
        _dirty('file system or environment changed (%s)' % event)
    elif event in _HOOK_EVENTS:
        _dirty('interpreter internals reached (%s)' % event)
    elif event == 'object.__setattr__' and len(args) > 1 and type(args[1]) is str and args[1] == '__class__':
        # A library object turned into an instance of another class writes no dict; a program's
        # own objects rarely change class (one recycle when they do).
        _dirty('the class of an object was changed')


def _watchers():
    """ctypes bindings for CPython's watcher API (ctypes is hidden from programs afterwards)."""
    global _ctypes, _api
    import ctypes
    _ctypes = ctypes
    _api = ctypes.pythonapi
    # Bound now: hardening empties the ctypes module's namespace (ctypes.cast reads it).
    cast, py_object = ctypes._cast, ctypes.py_object
    globals()['_key_object'] = lambda key: cast(key, key, py_object).value
    globals()['_string_at'] = ctypes._string_at
    globals()['_PTR'] = ctypes.sizeof(ctypes.c_void_p)
    dict_cb = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p)
    func_cb = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)
    _api.PyDict_AddWatcher.argtypes = [dict_cb]
    _api.PyDict_AddWatcher.restype = ctypes.c_int
    _api.PyDict_ClearWatcher.argtypes = [ctypes.c_int]
    _api.PyDict_Watch.argtypes = [ctypes.c_int, ctypes.py_object]
    _api.PyDict_Watch.restype = ctypes.c_int
    _api.PyFunction_AddWatcher.argtypes = [func_cb]
    _api.PyFunction_AddWatcher.restype = ctypes.c_int
    return dict_cb, func_cb


def install(js_mark, js_touch):
    """In the worker, before hardening: the watcher callbacks and the audit hook. `js_mark(reason)`
    and `js_touch()` are worker.mjs's: they set its dirty and cache-touched flags (only while it
    has armed them) and cannot clear them."""
    global _dict_watcher, _func_watcher, _js_mark, _js_touch
    _js_mark, _js_touch = js_mark, js_touch
    dict_cb, func_cb = _watchers()
    cb1, cb2 = dict_cb(_on_dict), func_cb(_on_func)
    _callbacks.extend([cb1, cb2])
    _dict_watcher = _api.PyDict_AddWatcher(cb1)
    _func_watcher = _api.PyFunction_AddWatcher(cb2)
    if _dict_watcher < 0 or _func_watcher < 0:
        raise RuntimeError('no CPython watcher slot left')
    sys.addaudithook(_audit)


class _Base:
    pass


_b = _Base()

# Filled by clean programs, harmless to share, and cheap to put back: their contents are restored
# after every program (a poisoned entry cannot survive into the next program). mpmath's context is
# here too: programs set mp.dps all the time, the next one starts from the default again.
_RESET = [('sys', 'path_importer_cache'), ('random', '_inst.__dict__'), ('re', '_cache'), ('re', '_cache2'), ('linecache', 'cache'), ('encodings', '_cache'),
          ('_strptime', '_regex_cache'), ('fnmatch', '_cache'), ('mpmath', 'mp.__dict__'),
          ('mpmath', 'mp._prec_rounding'), ('_frozen_importlib', '_module_locks'), ('_frozen_importlib', '_blocking_on.data'),
          ('_frozen_importlib', '_blocking_on._pending_removals'),
          ('sympy.polys.rootoftools', '_reals_cache._dict'), ('sympy.polys.rootoftools', '_complexes_cache._dict'),
          ('sympy.integrals.meijerint', '_dummies'), ('weakref', 'finalize._registry'), ('linecache', '_interactive_cache')] + \
    [('sympy.utilities.lambdify', ns) for ns in ('MATH', 'MPMATH', 'NUMPY', 'SCIPY', 'CUPY', 'JAX', 'TENSORFLOW', 'SYMPY', 'NUMEXPR')]
# Module globals that the module's own functions rebind (`global x; x = ...`), found by scanning
# the loaded modules' bytecode for STORE_GLOBAL (tests/integration/sandbox-isolation.test.ts keeps
# this list complete): lazily bound tables (None until first use; the cheap ones are bound by the
# snapshot's warm-up), counters and toggles. These namespaces are not watched; after every program
# the listed names get their baseline values back and the rest must equal the baseline.
LAZY_GLOBALS = {
    'collections': ('heapq',), 'random': ('_sha512',), 'ast': ('_line_pattern', '_Unparser'),
    'base64': ('_a85chars', '_a85chars2', '_b85chars', '_b85chars2', '_b85dec'), 'locale': ('_percent_re',),
    'zipfile': ('_crctable',), 'zipimport': ('_importing_zlib',), 'posixpath': ('_varsub', '_varsubb'),
    'ntpath': ('_varsub', '_varsubb'),
    # sys.modules['os.path'] is posixpath under a second key: its expandvars regexes, compiled once on first use.
    'os.path': ('_varsub', '_varsubb'),
    'sysconfig': ('_CONFIG_VARS', '_CONFIG_VARS_INITIALIZED'),
    'tempfile': ('_name_sequence', 'tempdir'), 'typing': ('_lazy_annotationlib',),
    'concurrent.futures': ('InterpreterPoolExecutor', 'ProcessPoolExecutor', 'ThreadPoolExecutor'),
    'mpmath.libmp.gammazeta': ('mult_cache', 'primes_cache', 'sieve_cache'), 'mpmath.libmp.libmpf': ('getrandbits',),
    'sympy.core.evalf': ('evalf_table',), 'sympy.integrals.meijerint': ('_lookup_table',), 'sympy.integrals.heurisch': ('_bessel_table',),
    'sympy.integrals.laplace': ('_LT_level',), 'sympy.integrals.transforms': ('_allowed',),
    'sympy.ntheory.partitions_': ('_factor', '_totient'),
    'sympy.polys.rootoftools': ('_complexes_cache', '_reals_cache'),
    'sympy.printing.pretty.pretty_symbology': ('unicode_warnings',),
    'sympy.simplify.hyperexpand': ('_collection', '_meijercollection'), 'sympy.simplify.trigsimp': ('_trigpat',),
    'sympy.solvers.solveset': ('_hyp_inverses', '_trig_inverses'),
    'sympy.utilities.lambdify': ('_lambdify_generated_counter',),
    'sympy.utilities.misc': ('_debug_iter', '_debug_tmp'), 'sympy.utilities.timeutils': ('_timestack',),
}
# Functions that rebind a module global as their purpose (a setter, a hook, start-up code): a
# program calling one changes what the next program sees, and the interpreter is replaced.
STATEFUL_GLOBALS = {
    # sys.modules['_frozen_importlib'] is importlib._bootstrap under its first key: the same start-up code (_setup binds
    # sys/_imp/_blocking_on, _install_external_importers binds _bootstrap_external); rerunning it resets the importer.
    '_frozen_importlib': ('sys', '_imp', '_blocking_on', '_bootstrap_external'),
    # set_theme() (Python 3.14) replaces the colour theme every later traceback/argparse/warning output uses: a setter.
    '_colorize': ('_theme',),
    '_frozen_importlib_external': ('_bootstrap',), '_py_warnings': ('_wm',),
    '_pyodide._importhook': ('REPODATA_PACKAGES_IMPORT_TO_PACKAGE_NAME',), 'asyncio.events': ('_event_loop_policy',),
    'importlib._bootstrap': ('_bootstrap_external', '_blocking_on', '_imp', 'sys'),
    'importlib._bootstrap_external': ('_bootstrap',),
    'logging': ('_warnings_showwarning', '_logRecordFactory', '_loggerClass'),
    'shutil': ('_USE_CP_SENDFILE',), 'site': ('USER_BASE', 'ENABLE_USER_SITE', 'USER_SITE', 'PREFIXES'),
    'tempfile': ('_O_TMPFILE_WORKS',),
    'threading': ('_active_limbo_lock', '_main_thread', '_SHUTTING_DOWN', '_profile_hook', '_trace_hook'),
    'sympy.plotting.backends.base_backend': ('_show',),
    'sympy.printing.pretty.pretty_symbology': ('_use_unicode',),
}


# Class attributes a library advances itself in normal use (SymPy numbers every Dummy it creates,
# e.g. in solve): not watched but compared after the program; growth of the named counters is
# accepted (and becomes the baseline), any other change, or lowering a counter, is not.
_COUNTERS = [('sympy.core.symbol', 'Dummy', ('_count',))]


def _resolve(mod, path):
    o = sys.modules.get(mod)
    for part in path.split('.'):
        if o is None:
            return None
        o = vars(o) if part == '__dict__' else getattr(o, part, None)
    return o


# Dict types a library fills lazily on shared objects (SymPy caches derived assumptions on every
# object, singletons such as pi included): reset to their baseline contents after every program.
_RESET_TYPES = [('sympy.core.assumptions', 'StdFactKB')]

def _lazy_namespaces():
    out = []
    for mod, keys in LAZY_GLOBALS.items():
        m = sys.modules.get(mod)
        if m is not None and type(getattr(m, '__dict__', None)) is dict:
            out.append((m.__dict__, keys))
    return out


def _reset_targets():
    """The reset containers (by id) and the counter classes, resolved in the current interpreter."""
    resets = {}
    for ns, _ in _lazy_namespaces():
        resets[id(ns)] = None
    for mod, path in _RESET:
        o = _resolve(mod, path)
        if type(o) is dict or type(o) is list:
            resets[id(o)] = o
    counters = []
    for mod, cls, keys in _COUNTERS:
        c = getattr(sys.modules.get(mod), cls, None)
        if isinstance(c, type):
            d = gc.get_referents(c.__dict__)[0]
            resets[id(d)] = None
            counters.append((c, d, keys))
    return resets, counters


def _classify(everything, resets):
    """Sorts objects into what the guard watches, compares, resets or clears (C-level passes)."""
    import types, random, decimal, functools, collections
    lru = type(functools.lru_cache(None)(lambda: 0))
    tys = list(map(type, everything))

    def pick(t):
        return list(compress(everything, map(is_, tys, repeat(t))))

    caches = pick(lru)
    cache_dicts = []
    for c in caches:
        own = getattr(c, '__dict__', None)
        cache_dicts += [d for d in gc.get_referents(c) if type(d) is dict and d is not own]
    skip = resets.keys() | set(map(id, cache_dicts))
    # Instances keep attributes inline until their __dict__ is asked for: materialize it, so that
    # writes go through a watchable dict. Heap types only (types themselves have a mappingproxy).
    heap = list(compress(everything, map(and_, map(attrgetter('__flags__'), tys), repeat(1 << 9))))
    heap_dicts = list(map(getattr, heap, repeat('__dict__'), repeat(None)))
    inst = [d for d in heap_dicts if type(d) is dict]
    # Instances of Python classes with __slots__ and no __dict__ (SymPy's numbers and singletons,
    # dataclass fields...): their slot values and class are compared by identity after every
    # program (a slot write touches no dict).
    slotted = [o for o, d in zip(heap, heap_dicts) if d is None and not isinstance(o, type) and hasattr(type(o), '__slots__')]
    # SymPy caches an object's hash in a slot on first use (_mhash): computed now, so that a
    # clean program hashing a library object changes no slot.
    for o in slotted:
        try:
            hash(o)
        except Exception:
            pass
    # Functions (and classmethod/staticmethod wrappers) get their __dict__ only when an attribute
    # is first set: made now, so that such a write goes to a watched dict.
    fdicts = list(map(getattr, pick(types.FunctionType) + pick(classmethod) + pick(staticmethod), repeat('__dict__'), repeat(None)))
    inst += [d for d in fdicts if type(d) is dict]
    all_dicts = list(compress(everything, map(isinstance, everything, repeat(dict))))
    known = set(map(id, all_dicts))
    all_dicts += [d for d in inst if id(d) not in known and not known.add(id(d))]
    reset_types = tuple(t for t in (_resolve(m, n) for m, n in _RESET_TYPES) if isinstance(t, type))
    # Weak containers churn by themselves (weakrefs made and dropped as objects come and go) and
    # only ever point at objects: their contents are put back after every program.
    import weakref
    weak = list(compress(everything, map(isinstance, everything, repeat((weakref.WeakSet, weakref.WeakKeyDictionary, weakref.WeakValueDictionary)))))
    weak_parts = [x for w in weak for x in (getattr(w, 'data', None), getattr(w, '_pending_removals', None), getattr(w, '_iterating', None))
                  if type(x) in (dict, set, list)]
    # ABCs keep their registry and caches as sets of weakrefs inside a C object: the caches fill on
    # every isinstance(); a register() bumps abc.get_cache_token(), compared after every program.
    import abc
    abc_data = pick(type(abc.ABC._abc_impl))
    weak_parts += [x for x in gc.get_referents(*abc_data) if type(x) is set]
    # SymPy's multiple dispatch caches the implementation chosen per type signature.
    disp = _resolve('sympy.multipledispatch.dispatcher', 'Dispatcher')
    if isinstance(disp, type):
        weak_parts += [c for c in (getattr(d, '_cache', None) for d in compress(everything, map(isinstance, everything, repeat(disp))))
                       if type(c) is dict]
    skip |= set(map(id, weak_parts))
    dicts, reset_dicts = [], []
    for d in all_dicts:
        if id(d) in skip:
            continue
        # mpmath memoizes constants (pi, e, ...) per precision on the function: memo_prec/memo_val.
        # A defaultdict grows on a mere read of a missing key (SymPy's assumption rules do that).
        reset = (reset_types and isinstance(d, reset_types)) or ('memo_prec' in d and 'memo_val' in d) or \
            isinstance(d, collections.defaultdict)
        (reset_dicts if reset else dicts).append(d)
    lists = [x for x in pick(list) if id(x) not in skip]
    sets = [x for x in pick(set) if id(x) not in skip]
    return {
        'dicts': dicts, 'reset_dicts': reset_dicts + weak_parts, 'caches': caches, 'cache_dicts': cache_dicts,
        'lists': lists, 'sets': sets, 'others': pick(bytearray) + pick(collections.deque),
        'cells': pick(types.CellType), 'ctxs': pick(decimal.Context), 'slotted': slotted,
        'rngs': list(compress(everything, map(isinstance, everything, repeat(random.Random)))),
        'objects': len(everything), 'functions': tys.count(types.FunctionType),
    }


def _merge(a, b):
    for k, v in b.items():
        a[k] = a[k] + v if k in a else v
    return a


def plan():
    """At snapshot time (layer build), after the warm-up: walk everything the modules reach, set
    the watch bit on every dict, then free the watcher slot (its callback does not survive the
    snapshot; the bits do) and freeze the heap, so the worker only walks what is newer."""
    dict_cb, _ = _watchers()
    noop = dict_cb(lambda *a: 0)
    wid = _api.PyDict_AddWatcher(noop)
    resets, _ = _reset_targets()
    p = _classify(_walk(_roots(), {id(globals())}), resets)
    for d in p['dicts']:
        _api.PyDict_Watch(wid, d)
    _api.PyDict_ClearWatcher(wid)
    p['wid'] = wid
    sys._caco_guard_plan = p
    gc.collect()
    gc.freeze()
    return {k: v if type(v) is int else len(v) for k, v in p.items()}


def _roots():
    return [m for m in list(sys.modules.values()) if m is not None] + [builtins, sys, sys.modules]


def take(cells=()):
    """The baseline, in the worker after hardening. With the snapshot's plan: only objects newer
    than the snapshot are walked; without one (a layer built before the plan existed): all.
    `cells`: the runner's closure cells (a program climbing its frames can rebind them), compared
    after every program; everything else the runner holds (its module's globals, its classes, its
    sets) is watched like any library state."""
    import random, time
    t0 = time.perf_counter()
    private = [cells]
    p = sys.__dict__.pop('_caco_guard_plan', None)
    resets, counters = _reset_targets()
    priv = {id(_state), id(globals())} | set(map(id, private))
    if p is not None and p['wid'] == _dict_watcher:
        # Young objects (made since the snapshot) that are not the guard's or runner's own.
        young = gc.get_objects()
        young_ids = set(map(id, young))
        own = _walk(list(private) + [globals(), _state], set(), within=young_ids)
        mine = set(map(id, own)) | priv
        fresh = _classify([o for o in young if id(o) not in mine], resets)
        # Closure cells made since the snapshot belong to the runner's own closures (a running
        # frame does not expose its cells to gc): not program-reachable state.
        fresh['cells'] = []
        for d in fresh['dicts']:
            _api.PyDict_Watch(_dict_watcher, d)
        p = _merge(p, fresh)
        mode = 'snapshot plan + %d new objects' % len(young)
    else:
        p = _classify(_walk(_roots(), priv), resets)
        for d in p['dicts']:
            _api.PyDict_Watch(_dict_watcher, d)
        mode = 'full walk'
    t1 = time.perf_counter()
    _b.dicts = p['dicts']
    _b.caches = p['caches']
    for c in _b.caches:
        c.cache_clear()
    _b.cache_dicts = p['cache_dicts']
    # Containers without a watcher: compared after every program by identity (_containers_check).
    _b.lists, _b.sets = tuple(p['lists'] + [x for x in p['others'] if type(x) is not bytearray]), tuple(p['sets'])
    _b.bytearrays = tuple(x for x in p['others'] if type(x) is bytearray)
    _b.bytearray_copies = tuple(map(bytes, _b.bytearrays))
    all_cells = p['cells'] + list(cells)
    _b.cells = tuple(c for c in all_cells if gc.get_referents(c))
    _b.empty_cells = tuple(c for c in all_cells if not gc.get_referents(c))
    _b.slotted = tuple(p.get('slotted', ()))
    _b.list_lens, _b.list_items = _identity_baseline(_b.lists)
    _b.set_lens, _b.set_items = _identity_baseline(_b.sets)
    _b.cell_items = tuple(gc.get_referents(*_b.cells))
    _b.slotted_items = tuple(gc.get_referents(*_b.slotted))
    # The baselines as item-pointer strings (the tuples above keep every baseline item alive, so
    # no address can be reused by another object).
    _find_ob_item()
    _b.list_ptrs, _b.set_ptrs, _b.cell_ptrs, _b.slotted_ptrs = (
        _pointers(list(x)) for x in (_b.list_items, _b.set_items, _b.cell_items, _b.slotted_items))
    _b.resets = [o for o in resets.values() if o is not None] + p['reset_dicts']
    _b.reset_copies = [o.copy() for o in _b.resets]
    _b.counters = [(c, dict(d), keys) for c, d, keys in counters]
    _b.lazy = [(ns, dict(ns), keys) for ns, keys in _lazy_namespaces()]
    # The special dicts are watched too, so that their compare/restore runs only after a program
    # that wrote to one of them. Reset lists (no watcher) are compared after every program.
    special = [o for o in _b.resets if isinstance(o, dict)] + [ns for ns, _, _ in _b.lazy] + \
        [gc.get_referents(c.__dict__)[0] for c, _, _ in _b.counters]
    _special.clear()
    for d in special:
        _api.PyDict_Watch(_dict_watcher, d)
        _special[id(d)] = True
    _b.reset_lists = [(o, o.copy()) for o in _b.resets if type(o) is not dict and not isinstance(o, dict)]
    _b.reset_objs = tuple(o for o, _ in _b.reset_lists)
    _b.reset_lens, _b.reset_items = _identity_baseline(_b.reset_objs)
    _b.reset_ptrs = _pointers(list(_b.reset_items))
    # The special dicts by address (what the watcher callback records), for restore().
    _b.reset_at = {id(o): (o, base) for o, base in zip(_b.resets, _b.reset_copies) if isinstance(o, dict)}
    _b.lazy_at = {id(ns): (ns, base, keys) for ns, base, keys in _b.lazy}
    _b.rngs = [(r, r.getstate()) for r in p['rngs'] if r is not random._inst]
    _b.ctxs = [(c, repr(c)) for c in p['ctxs']]

    _b.modules = len(sys.modules)
    t2 = time.perf_counter()
    gc.collect()
    gc.freeze()
    _b.c_state = _c_state()
    _b.counts = {'mode': mode, 'objects': p['objects'], 'watched_dicts': len(_b.dicts),
                 'lists_sets': len(_b.lists) + len(_b.sets) + len(_b.bytearrays), 'cells': len(_b.cells),
                 'functions': p['functions'], 'lru_caches': len(_b.caches), 'reset': len(_b.resets),
                 'rngs': len(_b.rngs), 'contexts': len(_b.ctxs), 'ms': [round((b - a) * 1000) for a, b in ((t0, t1), (t1, t2), (t2, time.perf_counter()))]}
    if _DEBUG:
        print('guard baseline', _b.counts)
    return _b.counts


def _walk(roots, seen, within=None):
    """Everything reachable from roots through gc referents, one C call per layer (code objects,
    which hold only constants and names, are not entered). `within`: only objects with these ids."""
    from types import CodeType
    everything = []
    frontier = [r for r in roots if id(r) not in seen]
    seen.update(map(id, frontier))
    while frontier:
        everything += frontier
        refs = gc.get_referents(*compress(frontier, map(is_not, map(type, frontier), repeat(CodeType))))
        # Only objects of GC types can hold references (str, int, float, bytes cannot).
        refs = list(compress(refs, map(and_, map(attrgetter('__flags__'), map(type, refs)), repeat(1 << 14))))
        by_id = dict(zip(map(id, refs), refs))
        new = by_id.keys() - seen
        if within is not None:
            new &= within
        seen |= new
        frontier = list(map(by_id.__getitem__, new))
    return everything


def arm(keep=False):
    if not keep:
        _state[1] = None
        _state[2] = 0
        _state[3] = False
        _touched.clear()
    _state[0] = True


def disarm():
    _state[0] = False


def restore(touched):
    """After a program (disarmed): caches, reset containers and lazily bound globals back to their
    baseline. Nothing is freed here: what they held (objects of the program among it, whose
    __del__ would otherwise run here, unwatched and with the guard's frames below it) is returned,
    and worker.mjs has the runner release it while the guard is armed again. `touched`: worker.mjs's
    flag, set when a program wrote to one of these containers. Only the containers' own C methods
    are called (never a method looked up on an object a program could have changed)."""
    dropped = []
    # All reset lists and sets at once by identity (one C pass); one by one only when one changed.
    same = tuple(map(len, _b.reset_objs)) == _b.reset_lens and _same_objects(gc.get_referents(*_b.reset_objs), _b.reset_ptrs)
    for o, base in () if same else _b.reset_lists:
        if _differs(o, base):
            dropped.append(list(o))
            if type(o) is list:
                list.__setitem__(o, slice(None), base)
            else:
                set.clear(o)
                set.update(o, base)
    if not same:
        # Put back, possibly in another order (a set's table): the new order is the baseline.
        _b.reset_lens, _b.reset_items = _identity_baseline(_b.reset_objs)
        _b.reset_ptrs = _pointers(list(_b.reset_items))
    # Only the special dicts written while the program ran (the watcher saw every write).
    touched_at = tuple(_touched) if touched else ()
    for addr in touched_at:
        o, base = _b.reset_at.get(addr, (None, None))
        if o is not None and _differs(o, base):
            dropped.append(list(dict.items(o)))
            dict.clear(o)
            dict.update(o, base)
    for addr in touched_at:
        ns, base, keys = _b.lazy_at.get(addr, (None, None, None))
        if ns is not None and _differs(ns, base):
            for k in keys:
                dropped.append(ns.get(k))
                if k in base:
                    ns[k] = base[k]
                else:
                    ns.pop(k, None)
    if any(map(len, _b.cache_dicts)):
        # lru caches hand out shared objects: what a program cached (or changed in a cached
        # object) must not reach the next one.
        dropped.extend(gc.get_referents(*_b.cache_dicts))
        for c in _b.caches:
            c.cache_clear()
    if touched and _state[1] is None:
        r = _special_check(set(touched_at))
        if r is not None:
            _state[1] = r
            _state[2] = 0
    # From here on (the release), a write to a cache is a finalizer's: it would outlive the program.
    _state[3] = False
    _touched.clear()
    return dropped


def check(touched):
    """After restore() and the release of what it dropped (disarmed): a reason when the
    interpreter must be replaced, else None (worker.mjs's own flag decides as well). Compares only,
    by identity: no object of a program is called or freed here. `touched`: a cache was written
    while what restore() took back was freed (by a finalizer: it would outlive the program)."""
    reason = _state[1]
    if reason is not None and _state[2]:
        reason = reason.replace('%#x' % _state[2], _describe(_state[2]))
    if reason is None and touched:
        reason = 'a cache was changed as the objects of the program were freed'
    if reason is not None:
        return reason
    if len(sys.modules) != _b.modules:
        # A clean program may import a module we did not preload: a fresh interpreter follows, so
        # nothing that module's import changed is seen by the next program.
        return 'new modules imported'
    r = _containers_check()
    if r is not None:
        return r
    for c, r in _b.ctxs:
        if repr(c) != r:
            return 'a decimal context held by a module changed'
    now = _c_state()
    if now != _b.c_state:  # plain values and ids only (see _c_state)
        i = next((i for i, (a, b) in enumerate(zip(now, _b.c_state)) if a != b), -1)
        return 'interpreter settings changed (%s)' % (_C_STATE_NAMES[i] if 0 <= i < len(_C_STATE_NAMES) else i)
    return None


def _identity_baseline(containers):
    """The lengths and the items (one flat tuple, in traversal order) of lists, deques or sets."""
    return tuple(map(len, containers)), tuple(gc.get_referents(*containers))


_PTR = 4      # bytes per pointer (wasm32; set from ctypes by _watchers())
_OB_ITEM = -1  # offset of a list's item array pointer in the list object; -1: not found, compare item by item


def _find_ob_item():
    """Where a list keeps its item pointers, checked on a list of known items (else -1)."""
    global _OB_ITEM
    probe = [object() for _ in range(5)]
    want = b''.join(id(x).to_bytes(_PTR, sys.byteorder) for x in probe)
    for off in range(_PTR, 8 * _PTR, _PTR):
        try:
            addr = int.from_bytes(_string_at(id(probe) + off, _PTR), sys.byteorder)
            if addr and _string_at(addr, len(want)) == want:
                _OB_ITEM = off
                return
        except Exception:
            pass


def _pointers(items):
    """The identities of a list's items as bytes (its item array, copied through ctypes): two
    such strings are equal exactly when the lists hold the same objects in the same order, and
    comparing them is one memcmp, not a call per item."""
    if _OB_ITEM < 0:
        return tuple(items)
    if not items:
        return b''
    return _string_at(int.from_bytes(_string_at(id(items) + _OB_ITEM, _PTR), sys.byteorder), len(items) * _PTR)


def _same_objects(now, base):
    """`now` (a list) holds the objects of the baseline `base` (made by _pointers), by identity."""
    if _OB_ITEM < 0:
        return len(now) == len(base) and not any(map(is_not, now, base))
    return _pointers(now) == base


def js_layout():
    """The fixed-layout part of the identity comparison, for worker.mjs to do in JavaScript on the
    wasm memory (no Python object built, no program code run). Called right after take(). Returns
    None (everything stays here) unless the layouts are found by probing known objects; otherwise
    five byte strings of 32-bit words: the exact lists' addresses, their lengths, their items' ids
    (flat), and (address, expected word) pairs for the closure cells' contents and the slotted
    objects' class and slot words. Everything expected is computed here from gc.get_referents/id,
    not read from memory; worker.mjs reads the memory and adopts the layout (js_adopt) only when
    the two agree, so a changed layout (a Pyodide upgrade) leaves the comparison in Python."""
    from array import array
    P = _PTR
    if P != 4 or _OB_ITEM != 3 * P:
        return None
    word = lambda addr: int.from_bytes(_string_at(addr, P), sys.byteorder)
    probe = [object() for _ in range(3)]
    if word(id(probe) + 2 * P) != 3:
        return None
    # A cell's content: right after the object header (probed on a known cell).
    x = object()
    cell = (lambda: x).__closure__[0]
    cell_off = next((o for o in range(P, 6 * P, P) if word(id(cell) + o) == id(x)), -1)
    if cell_off < 0:
        return None
    lists = [o for o in _b.lists if type(o) is list]
    cells = list(_b.cells) + list(_b.empty_cells)
    cell_words = [(id(c) + cell_off, id(r[0]) if r else 0) for c, r in zip(cells, map(gc.get_referents, cells))]
    # Slotted objects whose every class but object is a Python class (so the layout is the header,
    # then slots: no C fields) and with no __dict__: their words from the class pointer to the end,
    # except the weakref list's, must be the class and exactly the slot values gc sees (the class
    # included, in any order).
    heap = 1 << 9
    slot_objs, slot_words = [], []
    for o in _b.slotted:
        t = type(o)
        mro = t.__mro__
        if mro[-1] is not object or t.__itemsize__ or t.__dictoffset__ or not all(c.__flags__ & heap for c in mro[:-1]):
            continue
        offs = [k for k in range(P, t.__basicsize__, P) if k != t.__weakrefoffset__]
        vals = [word(id(o) + k) for k in offs]
        refs = gc.get_referents(o)
        if vals[0] != id(t) or sorted(v for v in vals if v) != sorted(map(id, refs)):
            continue
        slot_objs.append(o)
        slot_words += zip((id(o) + k for k in offs), vals)
    _b.js_plan = (lists, cells, slot_objs)
    u32 = lambda xs: array('I', xs).tobytes()
    # Each list's items in order (gc.get_referents visits a list's items last to first).
    return (u32(map(id, lists)), u32(map(len, lists)), u32(map(id, chain.from_iterable(lists))),
            u32(chain.from_iterable(cell_words)), u32(chain.from_iterable(slot_words)))


def js_adopt():
    """worker.mjs compares the lists, cells and slotted objects of js_layout() from now on: they
    leave the Python comparison (their baseline items stay alive in _b.js_keep, so no address they
    are compared against can be reused)."""
    lists, cells, slot_objs = _b.js_plan
    _b.js_keep = (_b.lists, _b.list_items, _b.cells, _b.cell_items, _b.slotted, _b.slotted_items)
    done = set(map(id, lists)) | set(map(id, cells)) | set(map(id, slot_objs))
    _b.lists = tuple(o for o in _b.lists if id(o) not in done)
    _b.cells = tuple(o for o in _b.cells if id(o) not in done)
    _b.empty_cells = tuple(o for o in _b.empty_cells if id(o) not in done)
    _b.slotted = tuple(o for o in _b.slotted if id(o) not in done)
    _b.list_lens, _b.list_items = _identity_baseline(_b.lists)
    _b.cell_items = tuple(gc.get_referents(*_b.cells))
    _b.slotted_items = tuple(gc.get_referents(*_b.slotted))
    _b.list_ptrs, _b.cell_ptrs, _b.slotted_ptrs = (
        _pointers(list(x)) for x in (_b.list_items, _b.cell_items, _b.slotted_items))
    del _b.js_plan
    return {'python_lists': len(_b.lists), 'python_cells': len(_b.cells), 'python_slotted': len(_b.slotted)}


def _containers_check():
    """Module-held containers that have no watcher, by identity only, at C speed: each one's
    length, then every item (gc.get_referents lists them flat) against the baseline's with
    operator.is_not. Never `==`: an item that claims to equal the one it replaced (its own
    __eq__) does not pass, and no program code runs here. Closure cells: the filled ones' contents
    in one pass, the empty ones must stay empty. Slotted library objects (SymPy's numbers and
    singletons...): their class and slot values, which no dict holds."""
    if tuple(map(len, _b.lists)) != _b.list_lens or not _same_objects(gc.get_referents(*_b.lists), _b.list_ptrs):
        return 'a list held by a module changed'
    if tuple(map(len, _b.sets)) != _b.set_lens or not _same_objects(gc.get_referents(*_b.sets), _b.set_ptrs):
        return 'a set held by a module changed'
    if tuple(map(bytes, _b.bytearrays)) != _b.bytearray_copies:
        return 'a bytearray held by a module changed'
    if not _same_objects(gc.get_referents(*_b.cells), _b.cell_ptrs) or gc.get_referents(*_b.empty_cells):
        return 'a closure variable of a library function changed'
    if not _same_objects(gc.get_referents(*_b.slotted), _b.slotted_ptrs):
        return 'a slot of a library object changed'
    return None


def _special_check(touched):
    """Lazily bound globals' modules must equal their baseline (once restored); counters may only
    have grown. Only the dicts written while the program ran (`touched`: their addresses)."""
    for ns, base, keys in _b.lazy:
        if id(ns) in touched and not _same_mapping(ns, base):
            return 'module %s changed' % base.get('__name__')
    for cls, base, keys in _b.counters:
        if id(gc.get_referents(cls.__dict__)[0]) not in touched:
            continue
        r = _counter_check(cls, base, keys)
        if r:
            return r
    return None


def _describe(addr):
    """A readable name for a watched object that changed (only computed when one did)."""
    for d in _b.dicts:
        if id(d) == addr:
            break
    else:
        return '%#x' % addr
    for name, m in list(sys.modules.items()):
        ns = getattr(m, '__dict__', None)
        if ns is d:
            return 'namespace of module ' + name
        if type(ns) is dict:
            for k, v in ns.items():
                if v is d:
                    return '%s.%s' % (name, k)
                if isinstance(v, type) and gc.get_referents(v.__dict__)[0] is d:
                    return 'class %s.%s' % (name, k)
                if getattr(v, '__dict__', None) is d:
                    return 'attributes of %s.%s' % (name, k)
    return '%s with keys %s' % (type(d).__name__, list(d)[:5])


_C_STATE_NAMES = ['sys.getswitchinterval', 'sys.get_coroutine_origin_tracking_depth', 'sys.get_asyncgen_hooks',
                  'sys.getprofile', 'sys.gettrace', 'gc.get_threshold', 'gc.get_debug', 
                  'ABC registries'] + ['sys.monitoring tool %d' % i for i in range(6)] + ['umask', 'tracemalloc/faulthandler/atexit/locale']


def _c_state():
    """Interpreter settings kept in C (no dict to watch), read through their getters."""
    import os
    # Hooks a program could set are compared by id (never by ==, which could run its code).
    out = [sys.getswitchinterval(), sys.get_coroutine_origin_tracking_depth(), tuple(map(id, sys.get_asyncgen_hooks())),
           id(sys.getprofile()), id(sys.gettrace()), gc.get_threshold(), gc.get_debug(), _abc_token()]
    mon = getattr(sys, 'monitoring', None)
    if mon is not None:
        out += [(id(mon.get_tool(i)), mon.get_events(i)) for i in range(6)]
    old = os.umask(0o22)
    os.umask(old)
    out.append(old)
    for name, getter in (('_tracemalloc', 'is_tracing'), ('faulthandler', 'is_enabled'), ('atexit', '_ncallbacks')):
        m = sys.modules.get(name)
        if m is not None:
            out.append(getattr(m, getter)())
    loc = sys.modules.get('_locale')
    if loc is not None:
        out.append(loc.setlocale(0))
    return out


def _abc_token():
    import abc
    return abc.get_cache_token()


def _differs(o, base):
    """A container against its baseline copy, by identity only (keys, values, items, order)."""
    if len(o) != len(base):
        return True
    if isinstance(o, dict):
        return any(map(is_not, o, base)) or any(map(is_not, o.values(), base.values()))
    if isinstance(o, (set, frozenset)):
        return set(map(id, o)) != set(map(id, base))
    return any(map(is_not, o, base))


def _same_mapping(o, base):
    """The same keys mapped to the same values, in any order, by identity (the key sets are
    compared first, so the lookups meet only the baseline's own keys, never a program's)."""
    if len(o) != len(base) or set(map(id, o)) != set(map(id, base)):
        return False
    return not any(map(is_not, map(o.__getitem__, base), base.values()))


def _counter_check(cls, base, keys):
    d = gc.get_referents(cls.__dict__)[0]
    if _same_mapping(d, base):
        return None
    if len(d) != len(base) or set(map(id, d)) != set(map(id, base)):
        return 'class %s changed' % cls.__qualname__
    grown = []
    for k, v in base.items():
        w = d[k]
        if w is v:
            continue
        if k in keys and type(v) is int and type(w) is int and w > v:
            grown.append((k, w))
            continue
        return 'class %s changed' % cls.__qualname__
    base.update(grown)
    return None


def before_program():
    """Generators held by modules (e.g. SymPy's) restart from their baseline state."""
    for r, state in _b.rngs:
        r.setstate(state)
