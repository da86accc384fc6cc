"""Replay a notebook's own test cell in the trusted grader, with the student's functions running in the sandbox.

The instructor's test cell (hidden tests included) is executed **here**, in a namespace built from the instructor's
locked cells (setup, helpers, data). Every function the student was asked to write is bound to a stub: calling it
sends the arguments to the sandbox, calls the student's function there (:func:`autograder.probes.remote_call`) and
brings back plain data — the returned value (a model comes back as layers and weights and is rebuilt here) and what
the call did to its tensor and module arguments, which the stub writes back. The test cell's own ``assert``
statements, reference computations (torch.optim, the schedulers, ``torch.nn.utils``) and tolerances then decide,
exactly as nbgrader would, but outside the student's reach. One source of truth: the notebook.
"""

from __future__ import annotations

import ast
import builtins
import copy
import functools
import json
import random
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from autograder import cells as nbcells
from autograder import probes
from autograder.notebook import without_magics
from autograder.sandbox import ProbeResult, Session

EXCEPTIONS = {
    e.__name__: e
    for e in (
        ValueError,
        TypeError,
        RuntimeError,
        AssertionError,
        IndexError,
        KeyError,
        LookupError,
        ZeroDivisionError,
        ArithmeticError,
        OverflowError,
        FloatingPointError,
        NotImplementedError,
        AttributeError,
        NameError,
    )
}
NUMPY_SCALARS = {"float64", "float32", "float16", "int64", "int32", "int16", "int8", "uint8", "bool_", "bool"}
TORCH_DTYPES = {
    "float64",
    "float32",
    "float16",
    "bfloat16",
    "int64",
    "int32",
    "int16",
    "int8",
    "uint8",
    "bool",
}


class SandboxEnded(Exception):
    """The runner ended (or timed out) during a replayed call: the check fails and the session is over."""

    def __init__(self, result: ProbeResult) -> None:
        super().__init__(result.detail or result.status)
        self.result = result


@dataclass
class ReplayOutcome:
    """Failure messages (empty: the test cell passed), CPU seconds the sandbox used, and how it ended."""

    messages: list[str] = field(default_factory=list)
    cpu_s: float = 0.0
    ended: ProbeResult | None = None


_AST_LOCK = threading.Lock()

#: Held while trusted notebook code runs (the locked cells, a test cell between its calls into the sandbox): the
#: grader's worker threads share one process, so they share its global random generators (torch's, NumPy's legacy
#: ``np.random``, Python's ``random``). See :class:`KernelRandomState`.
REPLAY_LOCK = threading.Lock()


class KernelRandomState:
    """The global random state of one submission's replayed kernel, kept while other submissions' cells run.

    A notebook's cells draw from global generators (``torch.manual_seed(0)`` in a setup cell, ``torch.randn`` in a
    test); under nbgrader each submission has its own kernel, so its draws depend on nothing else. Here the replays
    of concurrently graded submissions run in one process: trusted code runs only under :data:`REPLAY_LOCK`, and
    whenever a replay lets go of the lock (waiting on the sandbox, or between two test cells) it saves the
    generators' state here and puts it back when it has the lock again. Every replay therefore sees the draws of a
    kernel that runs its cells alone, whatever ``--workers`` is and however the threads interleave.
    """

    def __init__(self) -> None:
        self._state: tuple[Any, ...] | None = None

    def save(self) -> None:
        """Keep the current global generators' state (call while holding :data:`REPLAY_LOCK`)."""
        import torch

        cuda = (
            torch.cuda.get_rng_state_all()
            if torch.cuda.is_available() and torch.cuda.is_initialized()
            else None
        )
        self._state = (torch.get_rng_state(), cuda, np.random.get_state(), random.getstate())

    def restore(self) -> None:
        """Put back the state kept by :meth:`save` (call while holding :data:`REPLAY_LOCK`)."""
        import torch

        if self._state is None:
            return
        cpu, cuda, numpy_state, python_state = self._state
        torch.set_rng_state(cpu)
        if cuda is not None:
            torch.cuda.set_rng_state_all(cuda)
        np.random.set_state(numpy_state)
        random.setstate(python_state)


def parse_python(source: str) -> ast.Module:
    """``ast.parse`` for the grader's threads: CPython 3.11's ``ast.parse`` is not thread-safe (two worker threads
    parsing at once raise ``SystemError: AST constructor recursion depth mismatch``), so parsing is serialised."""
    with _AST_LOCK:
        return ast.parse(source)


def _cells(source_nb: Path) -> list[dict[str, Any]]:
    return json.loads(Path(source_nb).read_text(encoding="utf-8"))["cells"]


@functools.lru_cache(maxsize=64)
def _functions_of(path: str, mtime_ns: int) -> tuple[str, ...]:
    names: list[str] = []
    for cell in _cells(Path(path)):
        if cell["cell_type"] == "code" and _meta(cell).get("solution"):
            tree = parse_python(without_magics("".join(cell["source"])))
            names += [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
    return tuple(names)


@functools.lru_cache(maxsize=64)
def _tests_of(path: str, mtime_ns: int) -> tuple[tuple[str, str], ...]:
    return tuple(
        (_meta(c)["grade_id"], without_magics("".join(c["source"])))
        for c in _cells(Path(path))
        if c["cell_type"] == "code" and _meta(c).get("grade") and not _meta(c).get("solution")
    )


def _meta(cell: dict[str, Any]) -> dict[str, Any]:
    return nbcells.nbgrader(cell)


def student_functions(source_nb: Path) -> list[str]:
    """Names of the top-level functions defined in the instructor notebook's solution cells."""
    path = Path(source_nb)
    return list(_functions_of(str(path), path.stat().st_mtime_ns))


def test_cells(source_nb: Path) -> dict[str, str]:
    """The instructor's test cells (hidden tests included), by ``grade_id``."""
    path = Path(source_nb)
    return dict(_tests_of(str(path), path.stat().st_mtime_ns))


def trusted_namespace(source_nb: Path, device: str) -> dict[str, Any]:
    """A fresh namespace after the instructor's locked cells (not tests, not solutions), in notebook order.

    Run it holding :data:`REPLAY_LOCK` where other threads may replay at the same time (the cells seed and draw
    from the global random generators)."""
    ns: dict[str, Any] = {"__name__": "__replay__", "print": lambda *a, **k: None}
    for cell in _cells(source_nb):
        meta = _meta(cell)
        if cell["cell_type"] != "code" or meta.get("grade") or meta.get("solution"):
            continue
        exec(compile(without_magics("".join(cell["source"])), f"<locked {meta.get('grade_id')}>", "exec"), ns)
        if "DEVICE" in ns:
            ns["DEVICE"] = device
    return ns


def _encode(value: Any) -> Any:
    import torch

    if isinstance(value, torch.nn.Module):
        grads = [None if p.grad is None else p.grad.detach().cpu().clone() for p in value.parameters()]
        return probes.Arg("module", copy.deepcopy(value).cpu(), grads)
    if isinstance(value, torch.Tensor):
        grad = None if value.grad is None else value.grad.detach().cpu().clone()
        return probes.Arg("tensor", (value.detach().cpu().clone(), value.requires_grad), [grad])
    if isinstance(value, list | tuple):
        return type(value)(_encode(v) for v in value)
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    return value


def _write_back(args: Any, kwargs: Any, data: dict[str, Any]) -> None:
    """Apply what the student's call did to its tensor/module arguments (values and gradients) to ours."""
    import torch

    leaves: list[tuple[str, Any]] = []
    probes._leaves(list(args), "arg", leaves)
    probes._leaves(dict(kwargs), "kw", leaves)
    for path, leaf in leaves:
        params = [leaf] if isinstance(leaf, torch.Tensor) else list(leaf.parameters())
        for i, p in enumerate(params):
            new = data.get(f"{path}.{i}.data")
            if isinstance(new, np.ndarray) and new.size == p.numel():
                with torch.no_grad():
                    p.copy_(torch.from_numpy(new).reshape(p.shape).to(p.dtype))
            grad = data.get(f"{path}.{i}.grad")
            if isinstance(grad, str) and grad == "none":
                p.grad = None
            elif isinstance(grad, np.ndarray) and grad.size == p.numel():
                p.grad = torch.from_numpy(grad).reshape(p.shape).to(p.dtype).to(p.device)


def _value(data: dict[str, Any], key: str, device: str, depth: int = 0) -> Any:
    """Rebuild a returned value from its description (kinds outside the known ones raise ``TypeError``)."""
    import torch

    kind = data.get(f"{key}.kind")
    raw = data.get(key)
    if kind in ("float", "int", "bool", "str") and type(raw).__name__ in ("float", "int", "bool", "str"):
        return getattr(builtins, kind)(raw)
    if kind == "NoneType":
        return None
    if isinstance(kind, str) and kind.startswith("numpy.") and kind[6:] in NUMPY_SCALARS:
        return getattr(np, kind[6:])(raw)
    if kind == "Tensor" and isinstance(raw, np.ndarray) and data.get(f"{key}.dtype") in TORCH_DTYPES:
        return torch.from_numpy(raw).to(getattr(torch, data[f"{key}.dtype"])).to(device)
    if kind == "ndarray" and isinstance(raw, np.ndarray):
        return raw
    if kind in ("list", "tuple") and depth < probes.MAX_DEPTH:
        n = data.get(f"{key}.len")
        if not isinstance(n, int) or not 0 <= n <= 100_000:
            raise TypeError("a returned sequence of unknown length")
        numbers = data.get(f"{key}.numbers")
        if (
            isinstance(numbers, str)
            and isinstance(raw, np.ndarray)
            and len(numbers.split(",")) == raw.size == n
        ):
            items = [int(v) if t == "i" else float(v) for t, v in zip(numbers.split(","), raw.tolist())]
        elif n == 0:
            items = []
        else:
            items = [_value(data, f"{key}.{i}", device, depth + 1) for i in range(n)]
        return items if kind == "list" else tuple(items)
    if kind == "Module" and isinstance(data.get(f"{key}.arch"), str):
        return _module(data, key, device)
    what = kind.removeprefix("unsupported:") if isinstance(kind, str) else "value"
    raise TypeError(f"the function returned a {what}, which the grader cannot carry out of the sandbox")


def _module(data: dict[str, Any], key: str, device: str) -> Any:
    import torch

    arch = json.loads(data[f"{key}.arch"])
    layers = []
    for entry in arch:
        if not isinstance(entry, list) or not entry or entry[0] not in probes.LAYERS:
            raise TypeError(f"a returned model with an unknown layer {entry!r}")
        name, *args = entry
        if name == "Linear":
            layers.append(torch.nn.Linear(int(args[0]), int(args[1]), bias=bool(args[2])))
        else:
            layers.append(getattr(torch.nn, name)(*args))
    model = torch.nn.Sequential(*layers)
    state = model.state_dict()
    dtype = data.get(f"{key}.dtype")
    for name, value in state.items():
        got = data.get(f"{key}.w.{name}")
        if not isinstance(got, np.ndarray) or got.size != value.numel():
            raise TypeError(f"the returned model's {name} does not fit its layers")
        state[name] = torch.from_numpy(got).reshape(value.shape)
    model.load_state_dict(state)
    if dtype in TORCH_DTYPES:
        model = model.to(getattr(torch, dtype))
    return model.to(device).eval()


class _Caller:
    """Calls the student's functions in the sandbox session, within the check's CPU budget."""

    def __init__(self, session: Session, cpu_limit: float, device: str, rng: KernelRandomState) -> None:
        self.session, self.cpu_limit, self.device, self.cpu_s = session, cpu_limit, device, 0.0
        self.rng = rng

    def __call__(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        import cloudpickle

        payload = cloudpickle.dumps(
            functools.partial(probes.remote_call, name, _encode(args), _encode(kwargs))
        )
        # waiting on the sandbox: let other submissions' trusted code run, and keep this kernel's random state
        self.rng.save()
        REPLAY_LOCK.release()
        try:
            out = self.session.probe(payload, max(self.cpu_limit - self.cpu_s, 0.01))
        finally:
            REPLAY_LOCK.acquire()
            self.rng.restore()
        self.cpu_s += out.cpu_s
        if out.status != "ok" or out.record is None:
            raise SandboxEnded(out)
        if out.record["error"] is not None:
            last = [line for line in out.record["error"].splitlines() if line.strip()][-1:]
            raise TypeError(f"{name}(): {last[0] if last else 'the result could not be read'}")
        data = out.record["data"]
        _write_back(args, kwargs, data)
        if "raised.type" in data:
            exc_type = EXCEPTIONS.get(str(data["raised.type"]))
            message = str(data.get("raised.message", ""))
            if exc_type is None:
                raise RuntimeError(f"{data['raised.type']}: {message}")
            raise exc_type(message)
        return _value(data, "ret", self.device)


class _Dispatch:
    """Where the stubs of one namespace send their calls: the current test cell's :class:`_Caller`."""

    caller: _Caller | None = None


def _stub(name: str, dispatch: _Dispatch) -> Any:
    def stub(*args: Any, **kwargs: Any) -> Any:
        assert dispatch.caller is not None
        return dispatch.caller(name, args, kwargs)

    stub.__name__ = stub.__qualname__ = name
    return stub


def run_replay(
    source_nb: Path,
    cell: str,
    session: Session,
    device: str,
    cpu_limit: float,
    shared: dict[tuple[str, str], tuple[dict[str, Any], _Dispatch, KernelRandomState]] | None = None,
) -> ReplayOutcome:
    """Execute test cell ``cell`` of the instructor notebook with the student's functions in ``session``.

    ``shared`` (one dict per submission) keeps the trusted namespace between the submission's test cells, as one
    kernel runs a notebook's test cells one after the other under nbgrader: the locked cells run once per
    submission and device, not once per test cell. It is never shared between submissions. With it goes the
    kernel's random state (:class:`KernelRandomState`): the trusted code runs under :data:`REPLAY_LOCK`, and its
    draws from the global generators are those of a kernel running alone, whatever else runs in this process.
    """
    source = test_cells(source_nb)[cell]
    key = (str(source_nb), device)
    with REPLAY_LOCK:
        if shared is None or key not in shared:
            entry = (trusted_namespace(source_nb, device), _Dispatch(), KernelRandomState())
            if shared is not None:
                shared[key] = entry
        else:
            entry = shared[key]
            entry[2].restore()
        ns, dispatch, rng = entry
        caller = dispatch.caller = _Caller(session, cpu_limit, device, rng)
        for name in student_functions(source_nb):
            ns[name] = _stub(name, dispatch)
        try:
            return _run_test_cell(source, cell, ns, caller)
        finally:
            rng.save()


def _run_test_cell(source: str, cell: str, ns: dict[str, Any], caller: _Caller) -> ReplayOutcome:
    """Execute one test cell in ``ns`` (holding :data:`REPLAY_LOCK`); its stubs call the student through
    ``caller``."""
    out = ReplayOutcome()
    try:
        exec(compile(source, f"<test {cell}>", "exec"), ns)
    except SandboxEnded as exc:
        out.ended = exc.result
        out.messages.append(exc.result.detail or exc.result.status)
    except Exception as exc:  # noqa: BLE001 - the test cell's verdict, exactly as nbgrader reports it
        if _raised_in_hidden_tests(exc, source, f"<test {cell}>"):  # its message may show hidden values
            out.messages.append(f"a hidden test of {cell} failed ({type(exc).__name__})")
        else:
            out.messages.append(f"{type(exc).__name__}: {exc}"[:20_000])
    out.cpu_s = caller.cpu_s
    return out


def _raised_in_hidden_tests(exc: BaseException, source: str, filename: str) -> bool:
    """Whether any line of the test cell that the exception passed through lies between ``### BEGIN HIDDEN
    TESTS`` and ``### END HIDDEN TESTS``."""
    from autograder.optim_checks import _hidden

    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename and _hidden(source, tb.tb_lineno):
            return True
        tb = tb.tb_next
    return False


def needed_cells(source_nb: Path, test_source: str) -> tuple[str, ...]:
    """Solution cells a test cell exercises: those defining a name it uses, and (transitively) what they use."""
    defines: dict[str, str] = {}
    uses: dict[str, set[str]] = {}
    for cell in _cells(source_nb):
        if cell["cell_type"] == "code" and _meta(cell).get("solution"):
            gid = _meta(cell)["grade_id"]
            tree = parse_python(without_magics("".join(cell["source"])))
            for node in tree.body:
                if isinstance(node, ast.FunctionDef | ast.ClassDef):
                    defines[node.name] = gid
            uses[gid] = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    names = {n.id for n in ast.walk(parse_python(test_source)) if isinstance(n, ast.Name)}
    cells = {defines[n] for n in names if n in defines}
    while True:
        more = {defines[n] for c in cells for n in uses[c] if n in defines} - cells
        if not more:
            return tuple(sorted(cells))
        cells |= more
