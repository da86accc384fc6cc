"""Sandboxed execution of student code from a pre-forked template process.

Three processes take part in every run:

* the **client** (:class:`Sandbox`, in the trusted grader) sends a job and receives raw bytes back;
* the **template** (``python -m autograder._template``), started once per worker, has already imported torch, numpy
  and the grading specs (CUDA is never initialised in it); for every job it forks
* a **warden** (root, trusted code only) that unshares mount, network and PID namespaces, mounts a private ``/tmp``,
  hides the course directory, then forks
* the **runner**, PID 1 of the new PID namespace: rlimits, privilege drop to ``nobody`` (65534), a private scratch
  directory as cwd, capped stdout/stderr; it executes the student's cells and the spec's sandbox functions and streams
  plain-data frames (JSON headers and raw array bytes, never pickle) back to the warden.

The warden enforces the wall-clock limit (SIGKILL of the runner kills its whole PID namespace and process group) and
returns everything to the template, which forwards it to the client. Nothing the runner sends is interpreted by
trusted code except by :func:`decode_frames`, which only parses JSON and builds numpy arrays from bytes.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import json
import logging
import os
import selectors
import signal
import struct
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger("autograder.sandbox")

NOBODY = 65534
_CLONE_NEWNS = 0x00020000
_CLONE_NEWNET = 0x40000000
_CLONE_NEWPID = 0x20000000
_MS_RDONLY = 1
_MS_NOSUID = 2
_MS_NODEV = 4
_MS_BIND = 4096
_MS_REC = 16384
_MS_PRIVATE = 1 << 18
_PR_SET_PDEATHSIG = 1
_MAGIC = b"AGF1"
_HEADER = struct.Struct("!4sII")  # magic, header length, payload length


@dataclass(frozen=True)
class Limits:
    """Resource limits of one sandbox run.

    Parameters
    ----------
    wall_s : float
        Wall-clock seconds of a whole run before the runner's whole process tree is killed.
    check_s : float
        Default wall-clock seconds of one phase (executing the cells, or one check) of a run.
    cpu_s : int
        ``RLIMIT_CPU`` of the runner (per process).
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
    output_bytes : int
        Bytes of stdout and of stderr kept (the rest is counted and discarded).
    result_bytes : int
        Largest result stream accepted from the runner.
    """

    wall_s: float = 60.0
    check_s: float = 10.0
    cpu_s: int = 60
    memory_mb: int = 2048
    nproc: int = 64
    fsize_mb: int = 16
    nofile: int = 256
    tmpfs_mb: int = 256
    output_bytes: int = 32_000
    result_bytes: int = 64_000_000


@dataclass
class Job:
    """One sandbox run: the student's code, which spec functions to call, on which device."""

    cells: list[tuple[str, str]]
    spec_path: str
    checks: list[str]
    device: str = "cpu"
    dtype: str = "float64"
    limits: Limits = field(default_factory=Limits)
    hide: list[str] = field(default_factory=list)
    timeouts: list[float] = field(default_factory=list)

    def phase_timeout(self, phase: int) -> float:
        """Seconds allowed for phase 0 (the cells) or phase ``i`` (the i-th check)."""
        if phase < len(self.timeouts):
            return self.timeouts[phase]
        return self.limits.check_s

    def to_json(self) -> bytes:
        data = dataclasses.asdict(self)
        return json.dumps(data).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Job:
        data = json.loads(raw)
        data["limits"] = Limits(**data["limits"])
        data["cells"] = [tuple(c) for c in data["cells"]]
        return cls(**data)


@dataclass
class RunResult:
    """What came back from one sandbox run (bytes are still untrusted: decode with :func:`decode_frames`)."""

    status: str  # "ok", "timeout", "exited", "signalled" or "error"
    frames: bytes = b""
    stdout: str = ""
    stderr: str = ""
    exit_code: int | None = None
    signal: int | None = None
    wall_s: float = 0.0
    phase: int = 0
    notes: list[str] = field(default_factory=list)


# ----------------------------------------------------------------------------------------------------------------
# Frames: the only format the runner can speak. Arrays travel as dtype + shape + raw bytes.

_ALLOWED_DTYPES = {"bool", "int8", "int16", "int32", "int64", "uint8", "float16", "float32", "float64"}


def encode_frame(kind: str, name: str, data: dict[str, Any] | None = None, error: str | None = None) -> bytes:
    """Encode one frame; values must be JSON scalars/strings/lists or numpy arrays (see :func:`to_plain`)."""
    scalars: dict[str, Any] = {}
    arrays: list[dict[str, Any]] = []
    chunks: list[bytes] = []
    for key, value in (data or {}).items():
        if isinstance(value, np.ndarray):
            arr = np.ascontiguousarray(value)
            raw = arr.tobytes()
            arrays.append({"key": key, "dtype": arr.dtype.name, "shape": list(arr.shape), "nbytes": len(raw)})
            chunks.append(raw)
        else:
            scalars[key] = value
    header = json.dumps(
        {"kind": kind, "name": name, "error": error, "scalars": scalars, "arrays": arrays}, allow_nan=True
    ).encode()
    payload = b"".join(chunks)
    return _HEADER.pack(_MAGIC, len(header), len(payload)) + header + payload


def decode_frames(raw: bytes) -> tuple[list[dict[str, Any]], str | None]:
    """Parse the runner's byte stream (untrusted) into frames; stop at the first malformed one.

    Returns
    -------
    frames : list of dict
        Each with ``kind``, ``name``, ``error`` and ``data`` (str → numpy array / JSON value).
    problem : str or None
        Why parsing stopped early, if it did.
    """
    frames: list[dict[str, Any]] = []
    pos = 0
    while pos < len(raw):
        if len(raw) - pos < _HEADER.size:
            return frames, "truncated frame header"
        magic, hlen, plen = _HEADER.unpack_from(raw, pos)
        pos += _HEADER.size
        if magic != _MAGIC or pos + hlen + plen > len(raw):
            return frames, "malformed frame"
        try:
            header = json.loads(raw[pos : pos + hlen])
            payload = raw[pos + hlen : pos + hlen + plen]
            data: dict[str, Any] = dict(header.get("scalars") or {})
            offset = 0
            for spec in header.get("arrays") or []:
                dtype = str(spec["dtype"])
                if dtype not in _ALLOWED_DTYPES:
                    raise ValueError(f"dtype {dtype!r} is not allowed")
                shape = tuple(int(s) for s in spec["shape"])
                nbytes = int(spec["nbytes"])
                arr = np.frombuffer(payload[offset : offset + nbytes], dtype=np.dtype(dtype)).reshape(shape)
                offset += nbytes
                data[str(spec["key"])] = arr.copy()
            frames.append(
                {
                    "kind": str(header["kind"]),
                    "name": str(header["name"]),
                    "error": None if header.get("error") is None else str(header["error"]),
                    "data": data,
                }
            )
        except (ValueError, KeyError, TypeError) as exc:
            return frames, f"malformed frame ({exc})"
        pos += hlen + plen
    return frames, None


# ----------------------------------------------------------------------------------------------------------------
# Client side

TORCH_WARMUP = """
import torch
_p = torch.nn.Parameter(torch.ones(3, dtype=torch.float64))
_opt = torch.optim.SGD([_p], lr=0.1, momentum=0.9)
_sched = torch.optim.lr_scheduler.StepLR(_opt, 1)
_opt.zero_grad()
(_p * _p).sum().backward()
torch.nn.utils.clip_grad_norm_([_p], 1.0)
_opt.step()
_sched.step()
"""


class Sandbox:
    """A template process that forks one isolated runner per :meth:`run`.

    Parameters
    ----------
    preload : list of str
        Modules the template imports before forking (the student-facing ones).
    specs : list of str
        Spec files the template loads before forking (runners cannot read them from disk).
    warmup : str
        Trusted code the template runs once, so that lazy imports (torch's first optimizer step imports
        ``torch._dynamo``: ~3 s) happen before the fork and not in every sandbox.
    """

    def __init__(
        self, preload: list[str] | None = None, specs: list[str] | None = None, warmup: str = TORCH_WARMUP
    ) -> None:
        self.preload = list(preload or ["torch", "numpy"])
        self.specs = list(specs or [])
        self.warmup = warmup
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    def _start(self) -> subprocess.Popen[bytes]:
        env = dict(os.environ)
        env.update(
            OMP_NUM_THREADS="1",
            MKL_NUM_THREADS="1",
            OPENBLAS_NUM_THREADS="1",
            MPLBACKEND="Agg",
            PYTHONDONTWRITEBYTECODE="1",
        )
        root = str(Path(__file__).resolve().parent.parent)
        env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "autograder._template",
                json.dumps({"preload": self.preload, "specs": self.specs, "warmup": self.warmup}),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            cwd=root,
        )
        ready = _read_exact(proc.stdout, 4)  # type: ignore[arg-type]
        if ready != b"RDY1":
            proc.kill()
            raise RuntimeError("the sandbox template failed to start (see stderr above)")
        return proc

    def run(self, job: Job) -> RunResult:
        """Run one job; restarts the template if it died. Never raises for anything the student did."""
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                self._proc = self._start()
            proc = self._proc
            try:
                _write_msg(proc.stdin, job.to_json())  # type: ignore[arg-type]
                header = json.loads(_read_msg(proc.stdout))  # type: ignore[arg-type]
                frames = _read_msg(proc.stdout)  # type: ignore[arg-type]
            except (OSError, EOFError, ValueError) as exc:
                self.close()
                return RunResult(status="error", notes=[f"sandbox template failed: {exc}"])
            header["frames"] = frames
            return RunResult(**header)

    def close(self) -> None:
        """Stop the template."""
        proc, self._proc = self._proc, None
        if proc is not None:
            with contextlib.suppress(OSError):
                proc.stdin.close()  # type: ignore[union-attr]
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _read_exact(stream: Any, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = stream.read(n - len(buf))
        if not chunk:
            raise EOFError("stream closed")
        buf += chunk
    return buf


def _write_msg(stream: Any, data: bytes) -> None:
    stream.write(struct.pack("!Q", len(data)) + data)
    stream.flush()


def _read_msg(stream: Any) -> bytes:
    (n,) = struct.unpack("!Q", _read_exact(stream, 8))
    return _read_exact(stream, n) if n else b""


# ----------------------------------------------------------------------------------------------------------------
# Template side (python -m autograder._template)

_libc = ctypes.CDLL(None, use_errno=True)
_SPECS: dict[str, Any] = {}


def _load_spec(path: str) -> Any:
    if path not in _SPECS:
        from autograder.spec import load_spec

        _SPECS[path] = load_spec(path)
    return _SPECS[path]


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


def _untraversable_roots(paths: list[str]) -> dict[str, list[str]]:
    """Directories on the way to ``paths`` that others cannot traverse, mapped to the paths below them."""
    out: dict[str, list[str]] = {}
    for p in paths:
        parts = Path(p).resolve().parts
        for i in range(1, len(parts)):
            d = str(Path(*parts[:i]))
            try:
                mode = os.stat(d).st_mode
            except OSError:
                break
            if not mode & 0o001:
                out.setdefault(d, []).append(str(Path(*parts)))
                break
    return out


def _isolate_filesystem(limits: Limits, hide: list[str], notes: list[str]) -> None:
    """In a fresh mount namespace: private /tmp, hidden course files, Python reachable by ``nobody``."""
    _mount("none", "/", None, _MS_REC | _MS_PRIVATE, None)
    # Python's own files (e.g. a pyenv under /root) must stay reachable after the privilege drop.
    needed = sorted({sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix})
    for root, below in _untraversable_roots(needed).items():
        fds = {p: os.open(p, os.O_PATH) for p in below}
        _mount("tmpfs", root, "tmpfs", _MS_NOSUID | _MS_NODEV, "size=64k,mode=0755")
        for p, fd in fds.items():
            os.makedirs(p, exist_ok=True)
            _mount(f"/proc/self/fd/{fd}", p, None, _MS_BIND | _MS_REC, None)
            os.close(fd)
    for d in hide:
        try:
            if os.path.isdir(d):
                _mount("tmpfs", d, "tmpfs", _MS_RDONLY | _MS_NOSUID | _MS_NODEV, "size=4k,mode=0000")
            elif os.path.exists(d):
                _mount("/dev/null", d, None, _MS_BIND, None)
        except OSError as exc:
            if os.path.exists(d):  # vanished meanwhile: nothing to hide
                notes.append(f"could not hide {d}: {exc}")
    # The private temporary directories would also cover Python and the grader when they live below one of them
    # (a checkout under /tmp): keep those trees, opened *after* the hiding above so that their hidden submounts
    # (e.g. autograder/specs) stay hidden, and bind them back into the fresh tmpfs at the same paths.
    private = [d for d in ("/tmp", "/var/tmp", "/dev/shm", "/run/lock") if os.path.isdir(d)]
    keep = {str(Path(p).resolve()) for p in (*needed, Path(__file__).resolve().parent)}
    keep = {p for p in keep if any(Path(d) in Path(p).parents for d in private)}
    kept = {p: os.open(p, os.O_PATH) for p in sorted(keep) if os.path.isdir(p)}
    for d in private:
        _mount("tmpfs", d, "tmpfs", _MS_NOSUID | _MS_NODEV, f"size={limits.tmpfs_mb}m,mode=1777")
    for p, fd in kept.items():
        os.makedirs(p, mode=0o755, exist_ok=True)
        _mount(f"/proc/self/fd/{fd}", p, None, _MS_BIND | _MS_REC, None)
        os.close(fd)


def _warden(job: Job, resp_fd: int, template_pid: int) -> None:
    """Runs in the forked child of the template as root: isolate, fork the runner, supervise it, report."""
    start = time.monotonic()
    notes: list[str] = []
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # the template died: so does this run
    if os.getppid() != template_pid:
        os._exit(72)
    os.setsid()
    newns = _unshare(_CLONE_NEWNS)
    newnet = _unshare(_CLONE_NEWNET)
    newpid = _unshare(_CLONE_NEWPID)
    if not newnet:
        notes.append("network namespace unavailable: the submission was not cut off from the network")
    if not newpid:
        notes.append("PID namespace unavailable: process-group kill only")
    if newns:
        try:
            _isolate_filesystem(job.limits, job.hide, notes)
        except OSError as exc:
            notes.append(f"filesystem isolation incomplete: {exc}")
    else:
        notes.append("mount namespace unavailable: course files are protected by permissions only")
    import tempfile

    scratch = tempfile.mkdtemp(prefix="scratch-", dir="/tmp")
    is_root = os.getuid() == 0
    if is_root:
        os.chown(scratch, NOBODY, NOBODY)
    else:
        notes.append("grader not running as root: no privilege drop")
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    res_r, res_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(out_r)
            os.close(err_r)
            os.close(res_r)
            os.close(resp_fd)
            _runner(job, scratch, out_w, err_w, res_w, is_root)
        finally:
            os._exit(70)
    os.close(out_w)
    os.close(err_w)
    os.close(res_w)
    caps = {out_r: job.limits.output_bytes, err_r: job.limits.output_bytes, res_r: job.limits.result_bytes}
    bufs: dict[int, bytearray] = {out_r: bytearray(), err_r: bytearray(), res_r: bytearray()}
    dropped = {out_r: 0, err_r: 0, res_r: 0}
    sel = selectors.DefaultSelector()
    for fd in bufs:
        os.set_blocking(fd, False)
        sel.register(fd, selectors.EVENT_READ)
    wall_deadline = start + job.limits.wall_s
    phase, phase_start, parse_pos = 0, start, 0

    def advance(now: float) -> None:
        # Count the runner's completed phases (frames "loaded" and "check") to restart the per-phase clock.
        nonlocal phase, phase_start, parse_pos
        buf = bufs[res_r]
        while len(buf) - parse_pos >= _HEADER.size:
            magic, hlen, plen = _HEADER.unpack_from(buf, parse_pos)
            end = parse_pos + _HEADER.size + hlen + plen
            if magic != _MAGIC:
                parse_pos = 1 << 62  # garbage: stop counting, the per-phase clock keeps running
                return
            if len(buf) < end:
                return
            try:
                kind = json.loads(bytes(buf[parse_pos + _HEADER.size : parse_pos + _HEADER.size + hlen]))[
                    "kind"
                ]
            except (ValueError, KeyError, TypeError):
                kind = None
            if kind in ("loaded", "check"):
                phase += 1
                phase_start = now
            parse_pos = end

    status = None
    exit_code = sig = None
    exited_at: float | None = None
    while True:
        now = time.monotonic()
        if exited_at is None:
            wpid, wstatus = os.waitpid(pid, os.WNOHANG)
            if wpid:
                exited_at = now
                if os.WIFEXITED(wstatus):
                    exit_code = os.WEXITSTATUS(wstatus)
                    status = "exited"
                else:
                    sig = os.WTERMSIG(wstatus)
                    status = "signalled"
                with contextlib.suppress(OSError):
                    os.killpg(pid, signal.SIGKILL)  # leftovers of the runner's process group
            elif now >= min(wall_deadline, phase_start + job.phase_timeout(phase)):
                status = "timeout"
                with contextlib.suppress(OSError):
                    os.killpg(pid, signal.SIGKILL)
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                exited_at = now
        if exited_at is not None and (not sel.get_map() or now - exited_at > 1.0):
            break
        if not sel.get_map():
            time.sleep(0.002)
            continue
        for key, _ in sel.select(timeout=0.01):
            fd = key.fd
            try:
                chunk = os.read(fd, 1 << 16)
            except BlockingIOError:
                continue
            if not chunk:
                sel.unregister(fd)
                continue
            room = caps[fd] - len(bufs[fd])
            bufs[fd] += chunk[: max(room, 0)]
            dropped[fd] += max(len(chunk) - max(room, 0), 0)
            if fd == res_r:
                advance(time.monotonic())
    frames = bytes(bufs[res_r])
    if status == "exited" and exit_code == 0:
        status = "ok"
    if dropped[res_r]:
        notes.append(f"result stream over {job.limits.result_bytes} bytes: truncated")

    def text(fd: int) -> str:
        s = bufs[fd].decode("utf-8", "replace")
        return s + (f"\n[... {dropped[fd]} more bytes not shown]" if dropped[fd] else "")

    header = {
        "status": status,
        "stdout": text(out_r),
        "stderr": text(err_r),
        "exit_code": exit_code,
        "signal": sig,
        "wall_s": time.monotonic() - start,
        "phase": phase,
        "notes": notes,
    }
    _write_fd(resp_fd, struct.pack("!Q", len(raw := json.dumps(header).encode())) + raw)
    _write_fd(resp_fd, struct.pack("!Q", len(frames)) + frames)


def _write_fd(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _set_limits(limits: Limits, device: str) -> None:
    import resource

    def setl(res: int, soft: int, hard: int | None = None) -> None:
        resource.setrlimit(res, (soft, soft if hard is None else hard))

    setl(resource.RLIMIT_CPU, limits.cpu_s, limits.cpu_s + 1)
    setl(resource.RLIMIT_FSIZE, limits.fsize_mb << 20)
    setl(resource.RLIMIT_NOFILE, limits.nofile)
    setl(resource.RLIMIT_NPROC, limits.nproc)
    setl(resource.RLIMIT_CORE, 0)
    if not device.startswith("cuda"):  # the CUDA driver reserves tens of GB of address space
        vm_kb = 0
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmSize:"):
                    vm_kb = int(line.split()[1])
        setl(resource.RLIMIT_AS, (vm_kb << 10) + (limits.memory_mb << 20))


def _runner(job: Job, scratch: str, out_w: int, err_w: int, res_w: int, drop: bool) -> None:
    """PID 1 of the sandbox: limit, drop privileges, run the student's cells and the spec's sandbox checks."""
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    os.setpgid(0, 0)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(out_w, 1)
    os.dup2(err_w, 2)
    spec = _load_spec(job.spec_path)
    _set_limits(job.limits, job.device)
    os.chdir(scratch)
    if drop:
        os.setgroups([])
        os.setgid(NOBODY)
        os.setuid(NOBODY)
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
    sys.stdout = open(1, "w", buffering=1 << 16, closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", buffering=1 << 16, closefd=False)  # noqa: SIM115
    sys.stdin = open(0, closefd=False)  # noqa: SIM115
    run_job(job, spec, lambda b: _write_fd(res_w, b))
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(0)


def run_job(job: Job, spec: Any, emit: Callable[[bytes], None]) -> None:
    """Execute the cells, then each requested check, emitting one frame per cell error and per check.

    Runs inside the sandbox. Everything the encoder needs is captured before student code runs, and the builtins
    are restored before each encoding, so a submission that vandalises the interpreter only breaks its own results.
    """
    import builtins

    torch = sys.modules.get("torch")  # numpy-only assignments do not load torch at all
    saved_builtins = dict(builtins.__dict__)
    encode, to_plain_ = encode_frame, to_plain
    fmt_exc = traceback.format_exception
    restore = builtins.__dict__.update
    me = os.getpid()
    namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": builtins}

    def settle() -> None:
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
    for cell_id, source in job.cells:
        try:
            exec(compile(source, f"<cell {cell_id}>", "exec"), namespace)
        except BaseException as exc:  # noqa: BLE001 - SystemExit and KeyboardInterrupt are student errors too
            restore(saved_builtins)
            msg = "".join(fmt_exc(type(exc), exc, exc.__traceback__, limit=-3))[-2000:]
            settle()
            emit(encode("cell-error", cell_id, error=msg))
    restore(saved_builtins)
    settle()
    emit(encode("loaded", "", None))
    clock = time.perf_counter
    for name in job.checks:
        try:
            started = clock()
            out = spec.sandbox_function(name)(namespace, device, dtype)
            elapsed = clock() - started
            restore(saved_builtins)
            plain = to_plain_(out)
            plain["__seconds__"] = elapsed
            frame = encode("check", name, plain)
        except BaseException as exc:  # noqa: BLE001
            restore(saved_builtins)
            msg = "".join(fmt_exc(type(exc), exc, exc.__traceback__, limit=-3))[-2000:]
            frame = encode("check", name, error=msg)
        settle()
        emit(frame)


def to_plain(out: Any) -> dict[str, Any]:
    """Convert a sandbox function's result to plain data, reading tensor values with torch functions disabled.

    Tensors (subclasses included) become numpy arrays of their true storage values, with ``<key>.dtype`` and
    ``<key>.device`` strings recorded; numbers, strings, booleans and lists of numbers pass; anything else raises.
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
        elif type(value) in (bool, int, float, str) or value is None:
            plain[key] = value
        elif type(value) in (list, tuple):
            plain[key] = np.array([float(v) for v in value], dtype=np.float64) if value else np.zeros(0)
        else:
            raise TypeError(
                f"{key}: the check produced a {type(value).__name__}, expected a tensor or a number"
            )
    return plain


def serve(config: dict[str, Any]) -> None:
    """Template main loop: preload, then fork a warden per request read from stdin."""
    import importlib

    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    for name in config.get("preload", []):
        importlib.import_module(name)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)
    for path in config.get("specs", []):
        spec = _load_spec(path)
        # Run every reference once: the code paths the checks use (lazy imports, first-use initialisation) are then
        # paid here, once, instead of in every forked sandbox.
        torch = sys.modules.get("torch")
        for check in spec.checks:
            with contextlib.suppress(Exception):
                if torch is not None:
                    check.reference(torch.device("cpu"), torch.float64)
                else:
                    check.reference("cpu", "float64")
    if config.get("warmup"):
        exec(compile(config["warmup"], "<warmup>", "exec"), {"__name__": "__warmup__"})
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    stdout.write(b"RDY1")
    stdout.flush()
    while True:
        try:
            raw = _read_msg(stdin)
        except EOFError:
            return
        job = Job.from_json(raw)
        _load_spec(job.spec_path)
        header, frames = _fork_warden(job)
        _write_msg(stdout, json.dumps(header).encode())
        _write_msg(stdout, frames)


def _fork_warden(job: Job) -> tuple[dict[str, Any], bytes]:
    resp_r, resp_w = os.pipe()
    template_pid = os.getpid()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(resp_r)
            _warden(job, resp_w, template_pid)
            os._exit(0)
        except BaseException:  # noqa: BLE001
            with contextlib.suppress(BaseException):
                os.write(2, traceback.format_exc().encode())
            os._exit(71)
    os.close(resp_w)
    data = bytearray()
    deadline = time.monotonic() + job.limits.wall_s + 15.0
    sel = selectors.DefaultSelector()
    sel.register(resp_r, selectors.EVENT_READ)
    while time.monotonic() < deadline:
        if sel.select(timeout=0.5):
            chunk = os.read(resp_r, 1 << 16)
            if not chunk:
                break
            data += chunk
    else:
        with contextlib.suppress(OSError):
            os.killpg(pid, signal.SIGKILL)
    sel.close()
    os.close(resp_r)
    os.waitpid(pid, 0)
    try:
        (n,) = struct.unpack_from("!Q", data, 0)
        header = json.loads(bytes(data[8 : 8 + n]))
        (m,) = struct.unpack_from("!Q", data, 8 + n)
        frames = bytes(data[16 + n : 16 + n + m])
    except (struct.error, ValueError):
        return {"status": "error", "notes": ["the sandbox warden failed"]}, b""
    return header, frames
