"""Sandboxed execution of student code: a clean template process forks one isolated session per submission.

Four processes take part:

* the **client** (:class:`Sandbox` / :class:`Session`, in the trusted grader) sends a job, then one *probe* per
  check, and judges what comes back;
* the **template** (``python -m autograder._template``), started once per worker **with a minimal environment**
  (no variable of the grader's environment reaches it), imports torch, numpy and the public probe drivers, runs a
  trusted warm-up, then makes torch's optimizer, scheduler and clipping implementations unusable
  (:mod:`autograder.guard`). It never imports a grading spec and never reads a byte of student data: for each
  submission it forks
* a **warden** (root, trusted code only) that reads the job itself, unshares mount, network, IPC and PID namespaces,
  hides the course, the specs and the blocked torch sources, then forks
* the **runner**, PID 1 of the new PID namespace: a fresh ``/proc``, a size-capped ``/dev/shm`` and System V IPC
  limits, rlimits, privilege drop to a private unused uid, ``no_new_privs`` and a seccomp filter; it executes the notebook's
  code cells in order, then answers probes.

A probe is one check's sandbox function, serialised by value (``cloudpickle``) with only the globals it uses: the
runner never holds the spec module, a reference function, a tolerance or another check. It returns plain data
(JSON headers and raw array bytes, never pickle) on the runner's result pipe; the warden accepts exactly one record
per probe, tagged with the probe's random nonce, size-capped. The student's code can write to that pipe (it shares
the process), so a record is only ever the student's *claim of what its code computed* on inputs the trusted side
chose; every verdict is made by the client. The warden owns every clock: a probe's limit is CPU time of the runner
(``/proc/<pid>/stat``, read through a handle on the host's ``/proc``), with a wall-clock backstop for sleeping code;
nothing the runner writes moves a clock.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import json
import logging
import math
import os
import secrets
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger("autograder.sandbox")

NOBODY = 65534
SANDBOX_UIDS = (200_000, 60_000)  # each session runs as its own unused uid: base + warden pid % span


def session_uid(warden_pid: int) -> int:
    """The uid (and gid) of one session: private, so one submission's processes (``RLIMIT_NPROC`` counts them per
    uid) or signals never reach another's."""
    return SANDBOX_UIDS[0] + warden_pid % SANDBOX_UIDS[1]


_CLONE_NEWNS = 0x00020000
_CLONE_NEWIPC = 0x08000000
_CLONE_NEWNET = 0x40000000
_CLONE_NEWPID = 0x20000000
_MS_RDONLY = 1
_MS_NOSUID = 2
_MS_NODEV = 4
_MS_NOEXEC = 8
_MS_BIND = 4096
_MS_REC = 16384
_MS_PRIVATE = 1 << 18
_PR_SET_PDEATHSIG = 1
_PR_SET_NO_NEW_PRIVS = 38
_MAGIC = b"AGF2"
_HEADER = struct.Struct("!4sII")  # magic, header length, payload length
MAX_RECORD_HEADER = 1 << 20
_TICKS = os.sysconf("SC_CLK_TCK")

# The template's environment: nothing of the grader's (tokens, credentials, paths) is passed on.
MINIMAL_ENV = {
    "PATH": "/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "HOME": "/nonexistent",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MPLBACKEND": "Agg",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONHASHSEED": "0",
}


@dataclass(frozen=True)
class Limits:
    """Resource limits of one submission.

    Every time limit is **CPU time** of the student's process (load on the machine does not change a grade);
    ``wall_factor`` × the CPU limit + ``wall_slack_s`` is a wall-clock backstop that only catches code that sleeps
    or blocks.

    Parameters
    ----------
    wall_s : float
        Wall-clock backstop of a whole session (all cells and checks).
    check_s : float
        Default CPU seconds of one check.
    cpu_s : int
        Total CPU seconds of a submission (all sessions, all checks; also ``RLIMIT_CPU`` of every process).
    cell_s : float
        CPU seconds of one code cell of the notebook; a cell over it is interrupted (``KeyboardInterrupt``, as
        nbgrader's per-cell timeout does) and the next cell runs.
    memory_mb : int
        Address space granted above what the template already maps (``RLIMIT_AS``; not applied on CUDA).
    nproc : int
        ``RLIMIT_NPROC`` for the sandbox user (effective after the privilege drop).
    fsize_mb : int
        ``RLIMIT_FSIZE``: the largest file the runner may write.
    nofile : int
        ``RLIMIT_NOFILE``: open file descriptors.
    tmpfs_mb : int
        Size of the private ``/tmp`` holding the scratch directory.
    shm_mb : int
        Size of the private ``/dev/shm`` and of System V shared memory in the IPC namespace.
    output_bytes : int
        Bytes of stdout and of stderr kept (the rest is counted and discarded).
    result_bytes : int
        Largest result record accepted for one check.
    wall_factor, wall_slack_s : float
        Wall-clock backstop of a phase: ``wall_factor * cpu_limit + wall_slack_s``.
    idle_s : float
        A phase whose process used less than 2 % of a CPU over the last ``idle_s`` seconds is waiting or sleeping,
        not computing: it is stopped then (a loaded machine slows a computation down, it does not stop it).
    cuda_memory_fraction : float
        Share of the GPU's memory a submission may allocate (``torch.cuda.set_per_process_memory_fraction``).
    """

    wall_s: float = 600.0
    check_s: float = 10.0
    cpu_s: int = 60
    cell_s: float = 30.0
    memory_mb: int = 2048
    nproc: int = 64
    fsize_mb: int = 16
    nofile: int = 256
    tmpfs_mb: int = 256
    shm_mb: int = 64
    output_bytes: int = 32_000
    result_bytes: int = 4_000_000
    wall_factor: float = 4.0
    wall_slack_s: float = 20.0
    idle_s: float = 10.0
    cuda_memory_fraction: float = 0.9

    def backstop(self, cpu_limit: float) -> float:
        """Wall-clock seconds after which a phase with ``cpu_limit`` CPU seconds is stopped anyway."""
        return self.wall_factor * cpu_limit + self.wall_slack_s


@dataclass
class Job:
    """One submission's session: the notebook's code cells, on which device, under which limits."""

    cells: list[tuple[str, str]]
    device: str = "cpu"
    dtype: str = "float64"
    limits: Limits = field(default_factory=Limits)
    hide: list[str] = field(default_factory=list)

    def to_json(self) -> bytes:
        return json.dumps(dataclasses.asdict(self)).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Job:
        data = json.loads(raw)
        data["limits"] = Limits(**data["limits"])
        data["cells"] = [tuple(c) for c in data["cells"]]
        return cls(**data)


@dataclass
class RunResult:
    """How a session ended (stdout/stderr are the student's, capped)."""

    status: str  # "ok", "timeout", "exited", "signalled" or "error"
    stdout: str = ""
    stderr: str = ""
    exit_code: int | None = None
    signal: int | None = None
    wall_s: float = 0.0
    cpu_s: float = 0.0
    notes: list[str] = field(default_factory=list)


@dataclass
class ProbeResult:
    """What came back for one probe: ``status`` is "ok" (``record`` holds the decoded record), "timeout",
    "dead" (the runner had ended), "malformed" (the record could not be decoded) or "error"."""

    status: str
    record: dict[str, Any] | None = None
    detail: str = ""
    cpu_s: float = 0.0
    wall_s: float = 0.0


# ----------------------------------------------------------------------------------------------------------------
# Records: the only format the runner can speak. Arrays travel as dtype + shape + raw bytes.

_ALLOWED_DTYPES = {"bool", "int8", "int16", "int32", "int64", "uint8", "float16", "float32", "float64"}


def encode_record(
    kind: str, name: str, data: dict[str, Any] | None = None, error: str | None = None, nonce: str = ""
) -> bytes:
    """Encode one record; values must be JSON scalars/strings or numpy arrays (see :func:`to_plain`)."""
    scalars: dict[str, Any] = {}
    arrays: list[dict[str, Any]] = []
    chunks: list[bytes] = []
    for key, value in (data or {}).items():
        if isinstance(value, np.ndarray):
            arr = (
                value if value.flags.c_contiguous else value.copy(order="C")
            )  # (ascontiguousarray makes 0-d 1-d)
            raw = arr.tobytes()
            arrays.append({"key": key, "dtype": arr.dtype.name, "shape": list(arr.shape), "nbytes": len(raw)})
            chunks.append(raw)
        else:
            scalars[key] = value
    header = json.dumps(
        {"kind": kind, "name": name, "nonce": nonce, "error": error, "scalars": scalars, "arrays": arrays},
        allow_nan=True,
    ).encode()
    payload = b"".join(chunks)
    return _HEADER.pack(_MAGIC, len(header), len(payload)) + header + payload


def clean_text(text: str, limit: int = 100_000) -> str:
    """``text`` without lone surrogates (they cannot be written as UTF-8), cut to ``limit`` characters."""
    return text[:limit].encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def _plain_scalar(value: Any) -> Any:
    """A decoded JSON scalar as the trusted side uses it; anything else raises ``ValueError``."""
    if isinstance(value, str):
        if len(value) > 100_000:
            raise ValueError("a string over 100000 characters")
        return clean_text(value)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        if abs(value) > 2**63:
            raise ValueError("an integer out of range")
        return value
    if isinstance(value, float):
        return value
    raise ValueError(f"a {type(value).__name__} where a number or a string was expected")


def decode_records(raw: bytes) -> tuple[list[dict[str, Any]], str | None]:
    """Parse the runner's bytes (untrusted) into records; stop at the first malformed one.

    Returns
    -------
    records : list of dict
        Each with ``kind``, ``name``, ``nonce``, ``error`` and ``data`` (str → numpy array / JSON scalar).
    problem : str or None
        Why parsing stopped early, if it did. Nothing here raises for any input.
    """
    records: list[dict[str, Any]] = []
    pos = 0
    while pos < len(raw):
        if len(raw) - pos < _HEADER.size:
            return records, "truncated record header"
        magic, hlen, plen = _HEADER.unpack_from(raw, pos)
        pos += _HEADER.size
        if magic != _MAGIC or hlen > MAX_RECORD_HEADER or pos + hlen + plen > len(raw):
            return records, "malformed record"
        try:
            records.append(_decode_one(raw[pos : pos + hlen], raw[pos + hlen : pos + hlen + plen]))
        except (ValueError, KeyError, TypeError, RecursionError, OverflowError) as exc:
            return records, f"malformed record ({str(exc)[:200]})"
        pos += hlen + plen
    return records, None


def _decode_one(head: bytes, payload: bytes) -> dict[str, Any]:
    header = json.loads(head)
    if not isinstance(header, dict):
        raise ValueError(f"the record header is a {type(header).__name__}, not an object")
    scalars = header.get("scalars", {})
    arrays = header.get("arrays", [])
    if not isinstance(scalars, dict) or not isinstance(arrays, list):
        raise ValueError("scalars/arrays of the wrong type")
    data: dict[str, Any] = {str(k): _plain_scalar(v) for k, v in scalars.items()}
    offset = 0
    for spec in arrays:
        if not isinstance(spec, dict):
            raise ValueError("an array description that is not an object")
        dtype = str(spec["dtype"])
        if dtype not in _ALLOWED_DTYPES:
            raise ValueError(f"dtype {dtype!r} is not allowed")
        shape = tuple(int(s) for s in spec["shape"])
        nbytes = int(spec["nbytes"])
        if any(s < 0 for s in shape) or len(shape) > 8 or nbytes < 0 or offset + nbytes > len(payload):
            raise ValueError("an array description that does not fit the payload")
        if math.prod(shape) * np.dtype(dtype).itemsize != nbytes:
            raise ValueError("an array whose shape does not match its size")
        arr = np.frombuffer(payload[offset : offset + nbytes], dtype=np.dtype(dtype)).reshape(shape)
        offset += nbytes
        data[str(spec["key"])] = arr.copy()
    error = header.get("error")
    return {
        "kind": clean_text(str(header["kind"]), 100),
        "name": clean_text(str(header["name"]), 1000),
        "nonce": clean_text(str(header.get("nonce", "")), 100),
        "error": None if error is None else clean_text(str(error), 20_000),
        "data": data,
    }


# ----------------------------------------------------------------------------------------------------------------
# Messages between client, template and warden: kind (1 byte) + length (8 bytes) + payload.


def _read_exact(fd: int, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = os.read(fd, n - len(buf))
        if not chunk:
            raise EOFError("stream closed")
        buf += chunk
    return bytes(buf)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _send(fd: int, kind: bytes, payload: bytes = b"") -> None:
    _write_all(fd, kind + struct.pack("!Q", len(payload)) + payload)


def _recv(fd: int) -> tuple[bytes, bytes]:
    head = _read_exact(fd, 9)
    (n,) = struct.unpack("!Q", head[1:])
    return head[:1], _read_exact(fd, n) if n else b""


def _pack(header: dict[str, Any], blob: bytes = b"") -> bytes:
    raw = json.dumps(header).encode()
    return struct.pack("!Q", len(raw)) + raw + blob


def _unpack(data: bytes) -> tuple[dict[str, Any], bytes]:
    (n,) = struct.unpack_from("!Q", data, 0)
    return json.loads(bytes(data[8 : 8 + n])), bytes(data[8 + n :])


# ----------------------------------------------------------------------------------------------------------------
# Client side

TORCH_WARMUP = """
import torch
_p = torch.nn.Parameter(torch.ones(3, dtype=torch.float64))
_opt = torch.optim.SGD([_p], lr=0.1, momentum=0.9)
_sched = torch.optim.lr_scheduler.LambdaLR(_opt, lambda k: 1.0)
_opt.zero_grad()
(_p * _p).sum().backward()
torch.nn.utils.clip_grad_norm_([_p], 1.0)
_opt.step()
_sched.step()
_opt.load_state_dict(_opt.state_dict())
"""

PROBE_MODULES = ["cloudpickle", "autograder.optim_checks", "autograder.probes"]
# What a template imports as soon as it is spawned, before it knows the assignment (see Sandbox.spawn).
BASE_PRELOAD = ["torch", "numpy", *PROBE_MODULES]


class Sandbox:
    """A clean template process that forks one isolated :class:`Session` per submission.

    One template serves any number of concurrent sessions (every session is a fresh fork of the clean template,
    talking to its client over its own pipes), so the worker threads of a grading run share one template.

    Parameters
    ----------
    preload : list of str
        Modules the template imports before forking (student-facing libraries; never a spec).
    warmup : str
        Trusted code the template runs once, so that lazy imports (torch's first optimizer step imports
        ``torch._dynamo``: 800 modules, 1.4 s of CPU on a quiet machine) happen once before the fork, not in every
        sandbox on a check's CPU clock (a student whose ``step`` uses torch's own ``_use_grad_for_differentiable``
        would import it at the first step of every session; a3 gives a check 2 s).
    blocked : list of str
        Dotted names of further implementations to make unusable (:func:`autograder.guard.block_names`).
    gpu : int, optional
        The only CUDA device the template and its sandboxes see (``CUDA_VISIBLE_DEVICES``).

    :meth:`spawn` starts the template early (it imports torch and the probe drivers while the grader loads the spec);
    the assignment's own ``preload``/``warmup``/``blocked`` may be set until the first session, when the template
    applies them and reports ready.
    """

    def __init__(
        self,
        preload: list[str] | None = None,
        warmup: str = TORCH_WARMUP,
        blocked: list[str] | None = None,
        gpu: int | None = None,
    ) -> None:
        self.preload = list(dict.fromkeys([*(preload or ["torch", "numpy"]), *PROBE_MODULES]))
        self.warmup = warmup
        self.blocked = list(blocked or [])
        self.gpu = gpu
        self._proc: subprocess.Popen[bytes] | None = None
        self._ctrl: socket.socket | None = None
        self._configured = False  # the configuration was sent
        self._ready = False  # ... and the template answered that it applied it
        self._lock = threading.Lock()

    def configure(self, preload: list[str], warmup: str, blocked: list[str]) -> None:
        """Set the assignment's template configuration (before the first session)."""
        with self._lock:
            if self._configured:
                raise RuntimeError("the sandbox template is already configured")
            self.preload = list(dict.fromkeys([*preload, *PROBE_MODULES]))
            self.warmup, self.blocked = warmup, list(blocked)

    def spawn(self) -> None:
        """Start the template process now (it imports the base modules) without waiting for it."""
        with self._lock:
            self._spawn()

    def _spawn(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            return
        self._stop()
        root = str(Path(__file__).resolve().parent.parent)
        env = dict(MINIMAL_ENV, PYTHONPATH=root)
        if self.gpu is not None:
            env["CUDA_VISIBLE_DEVICES"] = str(self.gpu)
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self._proc = subprocess.Popen(
                [
                    sys.executable,
                    "-s",
                    "-m",
                    "autograder._template",
                    json.dumps(
                        {"preload": [m for m in BASE_PRELOAD if m in self.preload], "warmup": TORCH_WARMUP}
                    ),
                ],
                stdin=theirs.fileno(),
                stdout=subprocess.DEVNULL,
                env=env,
                cwd=root,
            )
        finally:
            theirs.close()
        self._ctrl, self._ready, self._configured = ours, False, False

    def prepare(self) -> None:
        """Start the template if needed and send it the assignment's configuration now, without waiting for it."""
        with self._lock:
            self._spawn()
            self._send_config()

    def _send_config(self) -> None:
        assert self._ctrl is not None
        if not self._configured:
            config = {"preload": self.preload, "warmup": self.warmup, "blocked": self.blocked}
            self._configured = True
            with contextlib.suppress(OSError):  # a template that died is noticed when it does not answer
                self._ctrl.sendall(b"C" + json.dumps(config).encode())

    def _ensure_ready(self) -> socket.socket:
        """The control socket of a configured, running template (started and configured if needed)."""
        self._spawn()
        assert self._ctrl is not None
        if not self._ready:
            self._send_config()
            try:
                ready = self._ctrl.recv(16)
            except OSError as exc:
                ready = repr(exc).encode()
            if ready != b"RDY2":
                self._stop()
                raise RuntimeError(f"the sandbox template failed to start (see stderr above): {ready!r}")
            self._ready = True
        return self._ctrl

    def session(self, job: Job) -> Session:
        """Fork an isolated runner for ``job``; it executes the cells before this returns."""
        to_warden, from_client = os.pipe()
        to_client, from_warden = os.pipe()
        try:
            with self._lock:
                for attempt in (1, 2):  # a template that died since the last session is restarted once
                    ctrl = self._ensure_ready()
                    try:
                        socket.send_fds(ctrl, [b"F"], [to_warden, from_warden])
                        break
                    except OSError:
                        self._stop()
                        if attempt == 2:
                            raise
        except BaseException:
            for fd in (to_warden, from_client, to_client, from_warden):
                os.close(fd)
            raise
        os.close(to_warden)  # the warden holds them now: its exit is this session's end of file
        os.close(from_warden)
        return Session(self, from_client, to_client, job)

    def _stop(self) -> None:
        proc, self._proc = self._proc, None
        ctrl, self._ctrl = self._ctrl, None
        ready, self._ready, self._configured = self._ready, False, False
        if ctrl is not None:
            ctrl.close()  # the template ends at end of file (its wardens with it)
        if proc is not None:
            if not ready:  # still importing: nothing to wait for
                proc.kill()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def alive(self) -> bool:
        """Whether the template process is running."""
        return self._proc is not None and self._proc.poll() is None

    def close(self) -> None:
        """Stop the template."""
        with self._lock:
            self._stop()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Session:
    """One submission's runner: its cells have run; :meth:`probe` runs one check, :meth:`close` ends it.

    Attributes
    ----------
    cell_records : list of dict
        Decoded records of the cells (``cell-error`` records, then ``loaded``).
    cell_outputs : list of (str, str)
        Each cell's stdout and stderr, for the cells that ran (in order; capped with the session's output).
    loaded : ProbeResult
        How executing the cells ended ("ok" once the runner reported that every cell ran).
    """

    def __init__(self, box: Sandbox, to_warden: int, from_warden: int, job: Job) -> None:
        self._box, self.job = box, job
        self._in, self._out = to_warden, from_warden
        self.result: RunResult | None = None
        self._open = True
        self.cell_records: list[dict[str, Any]] = []
        self.cell_outputs: list[tuple[str, str]] = []
        try:
            _send(self._in, b"J", job.to_json())
            kind, data = _recv(self._out)
            if kind != b"L":
                raise EOFError(f"unexpected message {kind!r}")
            header, blob = _unpack(data)
        except (OSError, EOFError, ValueError, struct.error) as exc:
            self._fail(f"sandbox template failed: {exc}")
            self.loaded = ProbeResult("error", detail=f"the sandbox failed: {exc}")
            return
        self.cell_records, problem = decode_records(blob)
        self.cell_outputs = [(str(o[0]), str(o[1])) for o in header.get("outputs", []) if len(o) == 2]
        self.loaded = ProbeResult(
            header["status"], detail=header.get("detail", ""), cpu_s=header["cpu_s"], wall_s=header["wall_s"]
        )
        if problem:
            self.loaded.detail = (self.loaded.detail + "; " if self.loaded.detail else "") + problem

    def probe(self, payload: bytes, cpu_s: float) -> ProbeResult:
        """Run one serialized check function on the namespace the cells left, within ``cpu_s`` CPU seconds."""
        if not self._open:
            return ProbeResult("dead", detail="the session has ended")
        try:
            _send(self._in, b"P", _pack({"cpu_s": float(cpu_s)}, payload))
            kind, data = _recv(self._out)
            if kind != b"R":
                raise EOFError(f"unexpected message {kind!r}")
            header, blob = _unpack(data)
        except (OSError, EOFError, ValueError, struct.error) as exc:
            self._fail(f"sandbox template failed: {exc}")
            return ProbeResult("error", detail=str(exc))
        res = ProbeResult(header["status"], None, header.get("detail", ""), header["cpu_s"], header["wall_s"])
        if res.status == "ok":
            records, problem = decode_records(blob)
            if problem or len(records) != 1:
                res.status, res.detail = "malformed", problem or "not exactly one record"
            else:
                res.record = records[0]
        return res

    def close(self) -> RunResult:
        """End the runner and return how the session went (stdout, stderr, exit)."""
        if self.result is not None:
            return self.result
        try:
            _send(self._in, b"E")
            kind, data = _recv(self._out)
            if kind != b"X":
                raise EOFError(f"unexpected message {kind!r}")
            self.result = RunResult(**json.loads(data))
            _await_eof(self._out, 30.0)  # the warden has reaped its runner and exited
        except (OSError, EOFError, ValueError, TypeError, struct.error) as exc:
            self._fail(f"sandbox template failed: {exc}")
        self._release()
        return self.result  # type: ignore[return-value]

    def _fail(self, note: str) -> None:
        """This session's warden failed: close its pipes (the warden ends at end of file); other sessions of the
        template go on, and a template that has died is restarted by the next session."""
        self.result = RunResult(status="error", notes=[note])
        self._release()

    def _release(self) -> None:
        if self._open:
            self._open = False
            for fd in (self._in, self._out):
                with contextlib.suppress(OSError):
                    os.close(fd)

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _await_eof(fd: int, timeout: float) -> None:
    """Read ``fd`` until end of file (at most ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([fd], [], [], left)
        if ready and not os.read(fd, 1 << 16):
            return


# ----------------------------------------------------------------------------------------------------------------
# Template side (python -m autograder._template): never sees a spec or a byte of student data.

_libc = ctypes.CDLL(None, use_errno=True)
_BLOCKED_FILES: list[str] = []


def _unshare(flags: int) -> bool:
    return _libc.unshare(ctypes.c_int(flags)) == 0


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None) -> None:
    res = _libc.mount(
        None if source is None else source.encode(),
        target.encode(),
        None if fstype is None else fstype.encode(),
        ctypes.c_ulong(flags),
        None if data is None else data.encode(),
    )
    if res != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {target}: {os.strerror(err)}")


def serve(config: dict[str, Any]) -> None:
    """Template main loop: preload; on the client's configuration, import the assignment's libraries, warm up,
    block torch's implementations; then fork a warden per request, each on the pipes the client sent with it.

    The control channel (a ``SOCK_SEQPACKET`` socket on fd 0) carries only the configuration and pipe ends, never
    student data; the template serves concurrent sessions and reaps its wardens.
    """
    import gc
    import importlib

    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    ctrl = socket.socket(fileno=0)
    for name in config.get("preload", []):
        importlib.import_module(name)
    with contextlib.suppress(
        ImportError, RuntimeError
    ):  # libseccomp is found here, outside the sandbox's root
        importlib.import_module("pyseccomp")
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)
    base_warmup = config.get("warmup", "")
    if (
        base_warmup and "torch" in sys.modules
    ):  # torch's first optimizer step: torch._dynamo, before the config
        exec(compile(base_warmup, "<warmup>", "exec"), {"__name__": "__warmup__"})
    msg = ctrl.recv(1 << 20)
    if not msg.startswith(b"C"):
        return
    config = json.loads(msg[1:])
    for name in config.get("preload", []):
        importlib.import_module(name)
    if config.get("warmup") and config["warmup"] != base_warmup:
        exec(compile(config["warmup"], "<warmup>", "exec"), {"__name__": "__warmup__"})
    from autograder import guard

    if "torch" in sys.modules:
        guard.install()
        _BLOCKED_FILES.extend(guard.blocked_files())
    guard.block_names(config.get("blocked", []))
    gc.collect()
    ctrl.sendall(b"RDY2")
    me = os.getpid()
    while True:
        with contextlib.suppress(ChildProcessError):
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        ready, _, _ = select.select([ctrl], [], [], 1.0)
        if not ready:
            continue
        try:
            msg, fds, _, _ = socket.recv_fds(ctrl, 16, 2)
        except OSError:
            return
        if msg != b"F" or len(fds) != 2:
            for fd in fds:
                os.close(fd)
            return
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                os.dup2(fds[0], 0)  # the session's pipes become the warden's stdin/stdout; the control socket
                os.dup2(fds[1], 1)  # (fd 0) is gone from it
                for fd in fds:
                    os.close(fd)
                _warden(me)
            except BaseException:  # noqa: BLE001
                with contextlib.suppress(BaseException):
                    os.write(2, traceback.format_exc().encode())
                code = 71
            os._exit(code)
        for fd in fds:
            os.close(fd)


NEW_ROOT = "/tmp/.autograder-sandbox-root"  # an empty host directory; the new root is mounted on it privately
SYSTEM_TREES = ("/usr", "/bin", "/lib", "/lib64", "/sbin", "/etc")
DEVICES = ("null", "zero", "full", "random", "urandom")
_MS_REMOUNT = 32


def visible_trees() -> list[str]:
    """What the sandbox sees of the host (everything else does not exist there): the system's programs and
    libraries, Python and its installed packages, and the grader package (its ``specs/`` hidden)."""
    package = Path(__file__).resolve().parent
    repo = str(package.parent)
    trees = [*SYSTEM_TREES, sys.prefix, sys.base_prefix, sys.exec_prefix, str(package)]
    for (
        entry
    ) in sys.path:  # site-packages, the standard library; never the checkout itself (solutions, tests)
        if entry and os.path.isdir(entry) and not (repo == entry or repo.startswith(entry.rstrip("/") + "/")):
            trees.append(entry)
    return list(dict.fromkeys(t for t in trees if os.path.exists(t)))


def _replicate(path: str, root: str, binds: dict[str, str]) -> None:
    """Make ``path`` resolve inside ``root`` as it does outside: symbolic links on the way are recreated, the
    directory (or file) itself is bind-mounted later (recorded in ``binds``: host path → path in the new root)."""
    parts = Path(path).parts
    cur = "/"
    for i, part in enumerate(parts[1:]):
        nxt = os.path.join(cur, part)
        if os.path.islink(nxt):
            target = os.readlink(nxt)
            os.makedirs(root + cur, exist_ok=True)
            if not os.path.lexists(root + nxt):
                os.symlink(target, root + nxt)
            resolved = os.path.normpath(os.path.join(cur, target))
            _replicate(os.path.join(resolved, *parts[i + 2 :]), root, binds)
            return
        cur = nxt
    if not any(cur == b or cur.startswith(b.rstrip("/") + "/") for b in binds):
        binds[cur] = root + cur


def _isolate_filesystem(limits: Limits, hide: list[str], notes: list[str]) -> None:
    """A new root holding only :func:`visible_trees`, private /tmp and /dev/shm, a few devices; then ``hide``
    (specs, blocked torch sources, the course) inside it, and ``chroot`` into it."""
    _mount("none", "/", None, _MS_REC | _MS_PRIVATE, None)
    os.makedirs(NEW_ROOT, mode=0o755, exist_ok=True)
    binds: dict[str, str] = {}
    trees = visible_trees()
    sources = {t: os.open(t, os.O_PATH) for t in trees}  # opened before the new root covers anything
    _mount("tmpfs", NEW_ROOT, "tmpfs", _MS_NOSUID | _MS_NODEV, "size=16m,mode=0755")
    # the private /tmp and /dev/shm first: a visible tree that lives under /tmp on the host (a checkout or a venv
    # there, as in a CI clone) is then bind-mounted on top of the private /tmp instead of being covered by it
    for d in ("tmp", "var/tmp", "dev/shm", "run/lock"):
        os.makedirs(f"{NEW_ROOT}/{d}", exist_ok=True)
        size = limits.shm_mb if d == "dev/shm" else limits.tmpfs_mb
        _mount("tmpfs", f"{NEW_ROOT}/{d}", "tmpfs", _MS_NOSUID | _MS_NODEV, f"size={size}m,mode=1777")
    for tree in sorted(trees, key=len):
        _replicate(tree, NEW_ROOT, binds)
    for host, target in sorted(binds.items()):
        if os.path.isdir(host):
            os.makedirs(target, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            open(target, "a").close()  # noqa: SIM115 - a mount point
        fd = sources.get(host)
        _mount(f"/proc/self/fd/{fd}" if fd is not None else host, target, None, _MS_BIND | _MS_REC, None)
    for fd in sources.values():
        os.close(fd)
    for dev in DEVICES:
        open(f"{NEW_ROOT}/dev/{dev}", "a").close()  # noqa: SIM115 - a mount point
        _mount(f"/dev/{dev}", f"{NEW_ROOT}/dev/{dev}", None, _MS_BIND, None)
    os.makedirs(f"{NEW_ROOT}/proc", exist_ok=True)
    for d in hide:
        inside = NEW_ROOT + os.path.realpath(d) if os.path.lexists(d) else None
        for target in {NEW_ROOT + d, inside}:
            if not target or not os.path.lexists(target) or os.path.islink(target):
                continue
            try:
                if os.path.isdir(target):
                    _mount("tmpfs", target, "tmpfs", _MS_RDONLY | _MS_NOSUID | _MS_NODEV, "size=4k,mode=0000")
                else:
                    _mount("/dev/null", target, None, _MS_BIND, None)
            except OSError as exc:
                notes.append(f"could not hide {d}: {exc}")
    os.chroot(NEW_ROOT)
    os.chdir("/")


class _Supervisor:
    """The warden's view of the runner: its output pipes, its result records, its CPU time, its end."""

    def __init__(
        self, pid: int, proc_dir: int, out_r: int, err_r: int, res_r: int, req_w: int, limits: Limits
    ):
        self.pid, self.limits, self.req_w = pid, limits, req_w
        self.out_r, self.err_r, self.res_r = out_r, err_r, res_r
        self.bufs = {out_r: bytearray(), err_r: bytearray()}
        self.dropped = {out_r: 0, err_r: 0}
        self.taken: dict[int, int] = {}
        self.res = bytearray()
        self.open = {out_r, err_r, res_r}
        self.broken: str | None = None
        self.exit: tuple[str, int | None, int | None] | None = None
        self.last_cpu = 0.0
        self.runnable = False
        try:
            self.stat_fd: int | None = os.open(f"{pid}/stat", os.O_RDONLY, dir_fd=proc_dir)
        except OSError:
            self.stat_fd = None
        for fd in self.open:
            os.set_blocking(fd, False)
        os.set_blocking(req_w, False)

    def cpu(self) -> float:
        """CPU seconds of the runner and its reaped children (read from the host's /proc: not forgeable)."""
        if self.stat_fd is not None and self.exit is None:
            with contextlib.suppress(OSError, ValueError, IndexError):
                data = os.pread(self.stat_fd, 4096, 0)
                f = data[data.rindex(b")") + 2 :].split()
                self.last_cpu = sum(int(x) for x in f[11:15]) / _TICKS
                self.runnable = f[0] == b"R"  # running or waiting for a CPU (a loaded machine), not sleeping
        return self.last_cpu

    def poll_exit(self) -> None:
        if self.exit is not None:
            return
        self.cpu()
        wpid, status = os.waitpid(self.pid, os.WNOHANG)
        if wpid:
            if os.WIFEXITED(status):
                self.exit = ("exited", os.WEXITSTATUS(status), None)
            else:
                self.exit = ("signalled", None, os.WTERMSIG(status))

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            os.killpg(self.pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            os.kill(self.pid, signal.SIGKILL)
        if self.exit is None:
            self.cpu()
            _, status = os.waitpid(self.pid, 0)
            sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
            self.exit = ("killed", None, sig)

    def pump(self, timeout: float) -> None:
        if not self.open:
            time.sleep(timeout)
            return
        ready, _, _ = select.select(list(self.open), [], [], timeout)
        for fd in ready:
            try:
                chunk = os.read(fd, 1 << 16)
            except BlockingIOError:
                continue
            if not chunk:
                self.open.discard(fd)
                continue
            if fd == self.res_r:
                if len(self.res) + len(chunk) > self.limits.result_bytes + MAX_RECORD_HEADER + 4096:
                    self.broken = self.broken or f"a result over {self.limits.result_bytes} bytes"
                else:
                    self.res += chunk
                continue
            room = max(self.limits.output_bytes - len(self.bufs[fd]), 0)
            self.bufs[fd] += chunk[:room]
            self.dropped[fd] += len(chunk) - min(room, len(chunk))

    def next_record(self) -> bytes | None:
        if len(self.res) < _HEADER.size:
            return None
        magic, hlen, plen = _HEADER.unpack_from(self.res, 0)
        if magic != _MAGIC or hlen > MAX_RECORD_HEADER:
            self.broken = self.broken or "bytes that are not a result record"
            return None
        if plen > self.limits.result_bytes:
            self.broken = self.broken or f"a result over {self.limits.result_bytes} bytes"
            return None
        end = _HEADER.size + hlen + plen
        if len(self.res) < end:
            return None
        record = bytes(self.res[:end])
        del self.res[:end]
        return record

    def wait_for(
        self, nonce: str, cpu_limit: float, send: bytes = b"", interrupt: bool = False
    ) -> tuple[str, bytes, str, float, float]:
        """Send ``send`` to the runner and wait for the record tagged ``nonce`` within ``cpu_limit`` CPU seconds.

        With ``interrupt``, a runner over its limit first gets SIGINT and 2 s to answer ("interrupted"); a runner
        that is still runnable then (waiting for a CPU on a loaded machine) gets until it has used 2 s more CPU time
        or stops being runnable, within the backstop of a 2 s phase. A runner is "waiting or sleeping" when it used
        under 2 % of a CPU over ``idle_s`` and was never seen runnable in that time (so load is not sleep).
        Returns (status, record, detail, cpu seconds used, wall seconds used).
        """
        start, cpu0 = time.monotonic(), self.cpu()
        wall_limit = self.limits.backstop(cpu_limit)
        pending = memoryview(send)
        interrupted: tuple[float, float, float, str] | None = (
            None  # (grace, hard deadline, CPU at SIGINT, why)
        )
        window = (start, cpu0)  # start of the current idle-detection window: (wall, cpu)
        busy = False  # the runner was seen runnable in the current window

        def used() -> tuple[float, float]:
            return self.cpu() - cpu0, time.monotonic() - start

        while True:
            if pending and self.exit is None:
                with contextlib.suppress(BlockingIOError, BrokenPipeError):
                    pending = pending[os.write(self.req_w, pending) :]
            while (record := self.next_record()) is not None:
                try:
                    head = json.loads(record[_HEADER.size : _HEADER.size + _HEADER.unpack_from(record, 0)[1]])
                except (ValueError, RecursionError):
                    continue
                if not isinstance(head, dict):
                    continue
                if head.get("nonce") == nonce:
                    if interrupted is not None:
                        return ("interrupted", record, interrupted[3], *used())
                    return ("ok", record, "", *used())
            if self.broken:
                self.kill()
                return ("malformed", b"", f"the sandbox sent {self.broken}", *used())
            self.poll_exit()
            if self.exit is not None:
                if self.res_r in self.open:  # what it wrote before it ended is still in the pipe
                    self.pump(0.05)
                    continue
                return ("dead", b"", _describe_exit(self.exit), *used())
            cpu, wall = used()
            why = ""
            if cpu > cpu_limit:
                why = f"used more than its {cpu_limit:g} s of CPU time"
            elif self.cpu() > self.limits.cpu_s:
                why = f"ran out of the submission's total CPU time ({self.limits.cpu_s} s)"
            elif wall > wall_limit:
                why = (
                    f"did not finish within {wall_limit:g} s of wall-clock time (it used {cpu:.1f} s of CPU: "
                    "it was waiting or sleeping)"
                )
            elif time.monotonic() - window[0] >= self.limits.idle_s:
                if self.cpu() - window[1] < 0.02 * self.limits.idle_s and not busy:
                    why = (
                        f"was waiting or sleeping, not computing, for {self.limits.idle_s:g} s "
                        f"(it had used {cpu:.1f} s of CPU)"
                    )
                window, busy = (time.monotonic(), self.cpu()), False
            busy = busy or self.runnable
            now = time.monotonic()
            if interrupted is not None:
                grace, hard, cpu_at, first = interrupted
                if now > hard or (now > grace and (self.cpu() - cpu_at > 2.0 or not self.runnable)):
                    self.kill()
                    return ("timeout", b"", first, cpu, wall)
            elif why and interrupt:
                with contextlib.suppress(OSError):
                    os.kill(self.pid, signal.SIGINT)
                interrupted = (now + 2.0, now + self.limits.backstop(2.0), self.cpu(), why)
            elif why:
                self.kill()
                return ("timeout", b"", why, cpu, wall)
            self.pump(0.02)

    def take(self, fd: int) -> str:
        """What ``fd`` brought since the last call, as text: the runner flushed it before its record, so it is
        already in the pipe (read here; a background writer cannot hold this up for long)."""
        for _ in range(64):
            if fd not in self.open or not select.select([fd], [], [], 0)[0]:
                break
            self.pump(0)
        start = self.taken.get(fd, 0)
        self.taken[fd] = len(self.bufs[fd])
        return self.bufs[fd][start:].decode("utf-8", "replace")

    def text(self, fd: int) -> str:
        s = self.bufs[fd].decode("utf-8", "replace")
        return s + (f"\n[... {self.dropped[fd]} more bytes not shown]" if self.dropped[fd] else "")


def _describe_exit(exit: tuple[str, int | None, int | None]) -> str:
    how, code, sig = exit
    if how == "exited":
        return f"the process exited (status {code})"
    name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
    hint = {"SIGXCPU": " (CPU time limit)", "SIGKILL": " (memory limit?)", "SIGXFSZ": " (file-size limit)"}
    return f"the process was killed by {name}{hint.get(name, '')}"


def _warden(template_pid: int) -> None:
    """Runs in the forked child of the template as root: read the job, isolate, fork the runner, supervise."""
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # the template died: so does this run
    if os.getppid() != template_pid:
        os._exit(72)
    kind, raw = _recv(0)
    if kind != b"J":
        os._exit(73)
    job = Job.from_json(raw)
    start = time.monotonic()
    notes: list[str] = []
    os.setsid()
    newns = _unshare(_CLONE_NEWNS)
    for flag, what in (
        (_CLONE_NEWNET, "network namespace unavailable: the submission was not cut off from the network"),
        (_CLONE_NEWIPC, "IPC namespace unavailable: System V IPC and message queues are shared"),
        (_CLONE_NEWPID, "PID namespace unavailable: process-group kill only"),
    ):
        if not _unshare(flag):
            notes.append(what)
    proc_dir = os.open(
        "/proc", os.O_RDONLY | os.O_DIRECTORY
    )  # the host's /proc: the runner's clock is read there
    if newns:
        try:
            _isolate_filesystem(job.limits, job.hide + _BLOCKED_FILES, notes)
        except OSError as exc:
            notes.append(f"filesystem isolation incomplete: {exc}")
    else:
        notes.append("mount namespace unavailable: course files are protected by permissions only")
    import tempfile

    scratch = tempfile.mkdtemp(prefix="scratch-", dir="/tmp")
    is_root = os.getuid() == 0
    if is_root:
        os.chown(scratch, session_uid(os.getpid()), session_uid(os.getpid()))
    else:
        notes.append("grader not running as root: no privilege drop")
    uid = session_uid(os.getpid()) if is_root else None
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    res_r, res_w = os.pipe()
    req_r, req_w = os.pipe()
    nonce = secrets.token_hex(16)
    pid = os.fork()
    if pid == 0:
        try:
            for fd in (out_r, err_r, res_r, req_w, proc_dir):
                os.close(fd)
            _runner(job, scratch, out_w, err_w, res_w, req_r, uid, nonce)
        except BaseException:  # noqa: BLE001 - the sandbox's own failure: shown in its stderr
            with contextlib.suppress(BaseException):
                os.write(2, traceback.format_exc().encode())
        finally:
            os._exit(70)
    for fd in (out_w, err_w, res_w, req_r):
        os.close(fd)
    sup = _Supervisor(pid, proc_dir, out_r, err_r, res_r, req_w, job.limits)
    # the runner isolates itself and says it is ready; then it runs the cells one by one, on request, each on its
    # own CPU clock (over it: interrupted, as nbgrader's per-cell timeout does, and the next cell runs)
    status, _, detail, cpu_total, wall_total = sup.wait_for(nonce, job.limits.cell_s)
    cells: list[bytes] = []
    outputs: list[list[str]] = []  # each cell's stdout and stderr (for the executed notebook)
    sup.take(out_r), sup.take(err_r)  # what came before the first cell
    for index, (cell_id, _) in enumerate(job.cells if status == "ok" else []):
        tag = secrets.token_hex(16)
        body = _pack({"nonce": tag, "cell": index})
        status, record, detail, cpu, wall = sup.wait_for(
            tag, job.limits.cell_s, send=b"P" + struct.pack("!Q", len(body)) + body, interrupt=True
        )
        cpu_total, wall_total = cpu_total + cpu, wall_total + wall
        outputs.append([sup.take(out_r), sup.take(err_r)])
        if status == "interrupted":
            cells.append(encode_record("cell-error", cell_id, error=f"KeyboardInterrupt: the cell {detail}"))
            status = "ok"
        elif status == "ok" and record[_HEADER.size :].startswith(b'{"kind": "cell-error"'):
            cells.append(record)
        elif status != "ok":
            detail = f"cell {cell_id}: {detail}"
            break
    header = {
        "status": status,
        "detail": detail,
        "cpu_s": cpu_total,
        "wall_s": wall_total,
        "outputs": outputs,
    }
    _send(1, b"L", _pack(header, b"".join(cells)))
    while True:
        try:
            kind, data = _recv(0)
        except EOFError:
            kind = b"E"
        if kind != b"P":
            break
        request, payload = _unpack(data)
        if sup.exit is not None or sup.broken:
            reply = {
                "status": "dead",
                "detail": sup.broken or _describe_exit(sup.exit),
                "cpu_s": 0.0,
                "wall_s": 0.0,
            }  # type: ignore[arg-type]
            _send(1, b"R", _pack(reply))
            continue
        nonce = secrets.token_hex(16)
        msg = b"P" + struct.pack("!Q", len(body := _pack({"nonce": nonce}, payload))) + body
        limit = min(float(request["cpu_s"]), float(job.limits.cpu_s))
        status, record, detail, cpu, wall = sup.wait_for(nonce, limit, send=msg)
        _send(1, b"R", _pack({"status": status, "detail": detail, "cpu_s": cpu, "wall_s": wall}, record))
    total_cpu = sup.cpu()
    ended = sup.exit
    sup.kill()
    deadline = time.monotonic() + 1.0
    while sup.open - {res_r} and time.monotonic() < deadline:
        sup.pump(0.02)
        sup.open.discard(res_r)
    if ended is None:
        how, code, sig = "ok", None, None
    else:
        how, code, sig = ended
        how = "ok" if how == "exited" and code == 0 else how
    final = RunResult(
        status=how,
        stdout=sup.text(out_r),
        stderr=sup.text(err_r),
        exit_code=code,
        signal=sig,
        wall_s=time.monotonic() - start,
        cpu_s=total_cpu,
        notes=notes,
    )
    _send(1, b"X", json.dumps(dataclasses.asdict(final)).encode())


def _set_limits(limits: Limits, device: str) -> None:
    import resource

    def setl(res: int, soft: int, hard: int | None = None) -> None:
        resource.setrlimit(res, (soft, soft if hard is None else hard))

    setl(resource.RLIMIT_CPU, limits.cpu_s, limits.cpu_s + 1)
    setl(resource.RLIMIT_FSIZE, limits.fsize_mb << 20)
    setl(resource.RLIMIT_NOFILE, limits.nofile)
    setl(resource.RLIMIT_NPROC, limits.nproc)
    setl(resource.RLIMIT_CORE, 0)
    setl(resource.RLIMIT_MSGQUEUE, min(1 << 18, resource.getrlimit(resource.RLIMIT_MSGQUEUE)[1]))
    if not device.startswith("cuda"):  # the CUDA driver reserves tens of GB of address space
        vm_kb = 0
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmSize:"):
                    vm_kb = int(line.split()[1])
        setl(resource.RLIMIT_AS, (vm_kb << 10) + (limits.memory_mb << 20))


# System calls the student's process never needs; each fails with EPERM.
SECCOMP_DENIED = (
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "pidfd_getfd",
    "kcmp",
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "unshare",
    "setns",
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "bpf",
    "perf_event_open",
    "keyctl",
    "add_key",
    "request_key",
    "userfaultfd",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "reboot",
    "swapon",
    "swapoff",
    "syslog",
    "acct",
    "quotactl",
    "open_by_handle_at",
    "name_to_handle_at",
    "fanotify_init",
    "settimeofday",
    "clock_settime",
    "clock_adjtime",
    "adjtimex",
    "personality",
)


def _seccomp(notes: list[str]) -> None:
    """Install the seccomp filter (libseccomp's Python binding): :data:`SECCOMP_DENIED` fail with EPERM."""
    try:
        import pyseccomp as seccomp
    except (ImportError, RuntimeError):
        notes.append("seccomp unavailable (install pyseccomp and libseccomp2): no system-call filter")
        return
    import errno

    filt = seccomp.SyscallFilter(seccomp.ALLOW)
    for name in SECCOMP_DENIED:
        with contextlib.suppress(Exception):  # a call this kernel/architecture does not have
            filt.add_rule(seccomp.ERRNO(errno.EPERM), name)
    # clone() with any namespace flag (a new user namespace would give the student root in it)
    for flag in (
        0x10000000,
        _CLONE_NEWNS,
        _CLONE_NEWIPC,
        _CLONE_NEWNET,
        _CLONE_NEWPID,
        0x04000000,
        0x02000000,
    ):
        with contextlib.suppress(Exception):
            filt.add_rule(seccomp.ERRNO(errno.EPERM), "clone", seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag))
    with contextlib.suppress(Exception):  # clone3 passes its flags in memory: make glibc fall back to clone
        filt.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
    filt.load()


def _restrict_ipc(limits: Limits, notes: list[str]) -> None:
    """System V shared memory and message queues of this IPC namespace: capped at ``shm_mb``."""
    values = {
        "shmmax": limits.shm_mb << 20,
        "shmall": (limits.shm_mb << 20) // os.sysconf("SC_PAGE_SIZE"),
        "shmmni": 16,
        "msgmnb": 1 << 16,
        "msgmni": 16,
    }
    for key, value in values.items():
        try:
            with open(f"/proc/sys/kernel/{key}", "w") as fh:
                fh.write(str(value))
        except OSError as exc:
            notes.append(f"could not cap System V IPC ({key}): {exc.strerror}")
            return


def _runner(
    job: Job, scratch: str, out_w: int, err_w: int, res_w: int, req_r: int, uid: int | None, nonce: str
) -> None:
    """PID 1 of the sandbox: isolate further, drop privileges, run the cells, then answer probes."""
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    os.setpgid(0, 0)
    # a cell over its clock is interrupted with SIGINT: KeyboardInterrupt, whatever the grader inherited (a grader
    # started in the background by a shell inherits SIGINT ignored, and a stalled cell would never be interrupted)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(out_w, 1)
    os.dup2(err_w, 2)
    notes: list[str] = []
    if os.getpid() == 1:
        try:  # a /proc that shows this PID namespace only
            _mount("proc", "/proc", "proc", _MS_NOSUID | _MS_NODEV | _MS_NOEXEC, None)
        except OSError as exc:
            notes.append(f"fresh /proc unavailable: {exc}")
        _restrict_ipc(job.limits, notes)
    _set_limits(job.limits, job.device)
    os.chdir(scratch)
    if uid is not None:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
    if _libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        notes.append("no_new_privs unavailable")
    _seccomp(notes)
    os.environ.clear()
    os.environ.update(
        PATH="/usr/bin:/bin",
        HOME=scratch,
        TMPDIR=scratch,
        MPLBACKEND="Agg",
        OMP_NUM_THREADS="1",
        OPENBLAS_NUM_THREADS="1",
        LANG="C.UTF-8",
    )
    if job.device.startswith("cuda"):
        torch = sys.modules.get("torch")
        if torch is not None and torch.cuda.is_available():
            torch.cuda.set_per_process_memory_fraction(job.limits.cuda_memory_fraction)
    sys.stdout = open(1, "w", buffering=1 << 16, closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", buffering=1 << 16, closefd=False)  # noqa: SIM115
    sys.stdin = open(0, closefd=False)  # noqa: SIM115
    for note in notes:
        print(f"[sandbox] {note}", file=sys.stderr)
    sys.stderr.flush()  # before "ready": the notes belong to no cell
    serve_probes(job, lambda b: _write_all(res_w, b), req_r, nonce)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(0)


def serve_probes(job: Job, emit: Any, req_r: int, nonce: str) -> None:
    """Report ``ready``, then run each cell and each probe the warden asks for, until the pipe closes.

    Runs inside the sandbox. What the encoder needs is captured before student code runs and the builtins are
    restored before each encoding, so a submission that vandalises the interpreter only breaks its own results.
    """
    import builtins
    import pickle

    torch = sys.modules.get("torch")
    saved_builtins = dict(builtins.__dict__)
    encode, to_plain_, loads, recv, unpack = encode_record, to_plain, pickle.loads, _recv, _unpack
    fmt_exc = traceback.format_exception
    restore = builtins.__dict__.update
    me = os.getpid()
    cap = job.limits.result_bytes
    namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": builtins}

    def settle() -> None:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(BaseException):
                stream.flush()
        # A forked copy of the runner (a fork bomb, a stray fork) never reports: only the runner itself does.
        if os.getpid() != me:
            os._exit(0)
        if me == 1:  # PID 1 of our own PID namespace: end the submission's leftover processes, reap them
            with contextlib.suppress(OSError):
                os.kill(-1, signal.SIGKILL)
            while True:
                try:
                    os.waitpid(-1, 0)
                except ChildProcessError:
                    break

    device: Any = torch.device(job.device) if torch else job.device
    dtype: Any = getattr(torch, job.dtype) if torch else job.dtype
    emit(encode("ready", "", nonce=nonce))
    while True:
        try:
            _, data = recv(req_r)
        except EOFError:
            return
        request, payload = unpack(data)
        tag = request["nonce"]
        if "cell" in request:  # the next code cell of the notebook
            cell_id, source = job.cells[request["cell"]]
            try:
                exec(compile(source, f"<cell {cell_id}>", "exec"), namespace)
                restore(saved_builtins)
                record = encode("cell-ok", cell_id, nonce=tag)
            except BaseException as exc:  # noqa: BLE001 - SystemExit and KeyboardInterrupt are student errors too
                restore(saved_builtins)
                msg = "".join(fmt_exc(type(exc), exc, exc.__traceback__, limit=-3))[-2000:]
                record = encode("cell-error", cell_id, error=msg, nonce=tag)
            settle()
            emit(record)
            continue
        try:
            out = loads(payload)(namespace, device, dtype)
            restore(saved_builtins)
            record = encode("check", "", to_plain_(out), nonce=tag)
        except BaseException as exc:  # noqa: BLE001
            restore(saved_builtins)
            msg = "".join(fmt_exc(type(exc), exc, exc.__traceback__, limit=-3))[-2000:]
            record = encode("check", "", error=msg, nonce=tag)
        if len(record) > cap:
            record = encode("check", "", error=f"the check's result is over {cap} bytes", nonce=tag)
        settle()
        emit(record)


def to_plain(out: Any) -> dict[str, Any]:
    """Convert a sandbox function's result to plain data, reading tensor values with torch functions disabled.

    Tensors (subclasses included) become numpy arrays of their true storage values, with ``<key>.dtype`` and
    ``<key>.device`` strings recorded; numbers (numpy scalars included), strings, booleans and lists of numbers pass; anything else raises.
    """
    torch = sys.modules.get("torch")
    if not isinstance(out, dict):
        raise TypeError(f"the check returned {type(out).__name__}, expected dict")
    plain: dict[str, Any] = {}
    for key, value in out.items():
        key = str(key)
        if torch is not None and isinstance(value, torch.Tensor):
            with torch._C.DisableTorchFunction():
                t = torch.Tensor.detach(value)
                plain[key + ".dtype"] = str(torch.Tensor.__getattribute__(t, "dtype")).removeprefix("torch.")
                plain[key + ".device"] = str(torch.Tensor.__getattribute__(t, "device"))
                t = torch.Tensor.cpu(t)
                if t.dtype in (torch.bfloat16, torch.complex64, torch.complex128):
                    t = torch.Tensor.to(t, torch.float64)
                plain[key] = np.array(torch.Tensor.numpy(torch.Tensor.contiguous(t)), copy=True)
        elif isinstance(value, np.ndarray):
            plain[key] = np.array(value, copy=True)
            if plain[key].dtype.name not in _ALLOWED_DTYPES:
                raise TypeError(f"{key}: arrays of dtype {plain[key].dtype} cannot be graded")
        elif type(value) in (bool, str) or value is None:
            plain[key] = value
        elif isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_):
            plain[key] = int(value) if abs(int(value)) <= 2**63 else float(value)
        elif isinstance(value, float | np.floating):
            plain[key] = float(value)
        elif type(value) in (list, tuple):
            plain[key] = np.array([float(v) for v in value], dtype=np.float64) if value else np.zeros(0)
        else:
            raise TypeError(
                f"{key}: the check produced a {type(value).__name__}, expected a tensor or a number"
            )
    return plain
