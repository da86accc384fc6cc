"""Grade on a SLURM cluster through dask-jobqueue (``pip install dask-jobqueue``), one GPU per Dask worker.

    python autograder/deploy/slurm_dask.py a3-sgd-momentum-schedules --jobs 4

Each SLURM job starts one Dask worker with the resource ``GPU=1`` and one thread, so a GPU grades one submission at
a time; the grader (this process) keeps the gradebook and writes every result as it arrives.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from autograder.pipeline import grade_assignment


def main() -> None:
    """Start a SLURMCluster, grade, stop it."""
    from dask_jobqueue import SLURMCluster

    parser = argparse.ArgumentParser()
    parser.add_argument("assignment")
    parser.add_argument("--jobs", type=int, default=2, help="SLURM jobs (= Dask workers = GPUs)")
    parser.add_argument("--course", type=Path, default=Path("assignments"))
    parser.add_argument("--partition", default=None)
    args = parser.parse_args()
    cluster = SLURMCluster(
        queue=args.partition,
        cores=8,
        processes=1,
        memory="32GB",
        walltime="01:00:00",
        job_extra_directives=["--gres=gpu:1"],
        worker_extra_args=["--nthreads", "1", "--resources", "GPU=1"],
        job_script_prologue=[f"cd {Path.cwd()}", f"export PATH={Path.cwd() / '.venv' / 'bin'}:$PATH"],
    )
    cluster.scale(jobs=args.jobs)
    try:
        summary = grade_assignment(
            args.assignment,
            args.course,
            executor="dask",
            scheduler=cluster.scheduler_address,
            device="auto",
            progress=True,
        )
        print(summary.table())
    finally:
        cluster.close()


if __name__ == "__main__":
    main()
