"""Where grading tasks run: a local pool (one sandbox template per worker) or a Dask distributed cluster."""

from __future__ import annotations

import os
import threading
import traceback
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from autograder.grading import StudentResult, grade_submission
from autograder.notebook import Course
from autograder.sandbox import Sandbox
from autograder.spec import Spec, load_spec


@dataclass(frozen=True)
class Task:
    """One submission to grade (plain data, so it travels to Dask workers)."""

    spec_path: str
    course_root: str
    student: str
    variants: tuple[tuple[str, str], ...]
    points: tuple[tuple[str, float], ...]
    hide: tuple[str, ...]


_LOCAL = threading.local()
_SPECS: dict[tuple[str, str], Spec] = {}
_SPECS_LOCK = threading.Lock()


def _spec(path: str, course: str) -> Spec:
    """The spec at ``path`` as derived from ``course``'s instructor notebook (loaded once per process)."""
    with _SPECS_LOCK:
        if (path, course) not in _SPECS:
            _SPECS[path, course] = load_spec(path, course)
        return _SPECS[path, course]


def _thread_sandbox(spec: Spec) -> Sandbox:
    """The calling thread's sandbox template (one per worker thread, started on first use; on its own GPU when the
    thread was given one)."""
    boxes: dict[str, Sandbox] | None = getattr(_LOCAL, "boxes", None)
    if boxes is None:
        boxes = _LOCAL.boxes = {}
    if spec.path not in boxes:
        gpu = getattr(_LOCAL, "gpu", None)
        boxes[spec.path] = Sandbox(preload=spec.preload, warmup=spec.warmup, blocked=spec.blocked, gpu=gpu)
    return boxes[spec.path]


def run_task(task: Task) -> StudentResult:
    """Grade one submission in this process; an internal error becomes a failed result, never an exception."""
    try:
        spec = _spec(task.spec_path, task.course_root)
        return grade_submission(
            spec,
            Course(Path(task.course_root)),
            task.student,
            _thread_sandbox(spec),
            [tuple(v) for v in task.variants],  # type: ignore[misc]
            dict(task.points),
            list(task.hide),
        )
    except Exception:  # noqa: BLE001 - one broken submission or grader bug must not stop the batch
        res = StudentResult(student=task.student, assignment=Path(task.spec_path).stem, failed=True)
        res.problems.append(
            "internal grader error (not recorded; rerun to retry):\n" + traceback.format_exc()
        )
        res.max_scores = dict(task.points)
        return res


class LocalExecutor:
    """A pool of ``workers`` threads, each driving its own pre-forked sandbox template process.

    The sandboxes run in separate processes, so threads suffice here: the trusted comparison is cheap and the
    reference outputs are cached.
    """

    def __init__(self, workers: int | None = None, gpus: int = 0) -> None:
        self.workers = workers or os.cpu_count() or 1
        slots = iter(range(self.workers))

        def assign_gpu() -> None:  # worker thread i owns GPU i (the pipeline caps workers at the GPU count)
            _LOCAL.gpu = next(slots) if gpus else None

        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="grade", initializer=assign_gpu)
        self._sandboxes: list[Sandbox] = []

    def map(self, tasks: list[Task]) -> Iterator[StudentResult]:
        """Yield results as they complete."""

        def work(task: Task) -> StudentResult:
            res = run_task(task)
            boxes = getattr(_LOCAL, "boxes", {})
            for box in boxes.values():
                if box not in self._sandboxes:
                    self._sandboxes.append(box)
            return res

        futures = [self._pool.submit(work, t) for t in tasks]
        for fut in as_completed(futures):
            yield fut.result()

    def close(self) -> None:
        """Stop the pool and its sandbox templates."""
        self._pool.shutdown(wait=True)
        for box in self._sandboxes:
            box.close()


class DaskExecutor:
    """Grading tasks on a Dask distributed cluster.

    Parameters
    ----------
    scheduler : str, optional
        Address of a running scheduler (``tcp://host:8786``). Without it a ``LocalCluster`` with ``workers``
        single-threaded worker processes is started.
    workers : int, optional
        Workers of the local cluster.
    gpu : bool
        Ask every task for the worker resource ``GPU=1`` (start GPU workers with ``--resources GPU=1``) so that
        each GPU grades one submission at a time.
    """

    def __init__(self, scheduler: str | None = None, workers: int | None = None, gpu: bool = False) -> None:
        from distributed import Client, LocalCluster

        self.cluster = None
        if scheduler:
            self.client = Client(scheduler)
        else:
            if gpu:  # one single-threaded worker per GPU, each owning its GPU=1 resource
                import torch

                workers = min(workers or torch.cuda.device_count(), torch.cuda.device_count())
            self.cluster = LocalCluster(
                n_workers=workers or os.cpu_count() or 1,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                resources={"GPU": 1} if gpu else None,
            )
            self.client = Client(self.cluster)
        self.gpu = gpu

    def map(self, tasks: list[Task]) -> Iterator[StudentResult]:
        """Yield results as they complete."""
        from distributed import as_completed as dask_completed

        kwargs = {"resources": {"GPU": 1}} if self.gpu else {}
        futures = [
            self.client.submit(run_task, t, pure=False, key=f"grade-{t.student}", **kwargs) for t in tasks
        ]
        for fut in dask_completed(futures):
            yield fut.result()

    def close(self) -> None:
        """Disconnect (and stop the local cluster, if one was started)."""
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()
