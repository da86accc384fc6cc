"""``make gpu-check``: the GPU path of the course, in one command, on a machine with CUDA.

1. runs the CUDA tests (``pytest -m cuda``: lockstep optimizers and the grader's cuda checks);
2. builds the demo class of ``make grade-demo`` and grades it through the Dask executor (a ``LocalCluster`` with
   one single-threaded worker per GPU, each owning the resource ``GPU=1``) with ``--device cpu`` and then
   ``--device cuda`` (every check on cuda in float64 and in float32);
3. checks that the cuda run graded in both precisions and gave the same scores as the cpu run, and prints the
   timings and the CPU-vs-GPU ratio.

Without a CUDA device it says so and exits with status 2 (nothing is run).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "a3-sgd-momentum-schedules"


def cuda_status() -> tuple[bool, str]:
    """Whether torch sees a CUDA device, and a sentence saying what was found."""
    import torch

    if not torch.cuda.is_available():
        build = f"built for CUDA {torch.version.cuda}" if torch.version.cuda else "a CPU-only build"
        return False, (
            f"no CUDA device: torch {torch.__version__} ({build}) reports torch.cuda.is_available() == False. "
            "make gpu-check needs an NVIDIA GPU with its driver and a CUDA build of torch "
            "(pip install torch==<the version of requirements.txt> from https://download.pytorch.org/whl/cu126). "
            "Nothing was run: the GPU path is not tested on this machine."
        )
    names = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return (
        True,
        f"{len(names)} CUDA device(s): {', '.join(names)} (torch {torch.__version__}, CUDA {torch.version.cuda})",
    )


def run(command: list[str], **kwargs: object) -> float:
    """Run ``command`` from the repository root; its wall time in seconds (raises on failure)."""
    print("$", " ".join(command), flush=True)
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, **kwargs)
    return time.perf_counter() - start


def grades(course: Path, out: Path) -> dict[str, str]:
    run(
        ["autograder", "--course", str(course), "export", ASSIGNMENT, "--format", "csv", "--output", str(out)]
    )
    with out.open() as f:
        return {row["student_id"]: row.get("score", row.get("raw_score", "")) for row in csv.DictReader(f)}


def precisions(course: Path) -> set[tuple[str, str]]:
    """The (device, dtype) pairs recorded in the autograder's results of every student."""
    found: set[tuple[str, str]] = set()
    for path in (course / "autograded").glob(f"*/{ASSIGNMENT}/autograder.json"):
        text = path.read_text()
        for device in ("cpu", "cuda"):
            for dtype in ("float64", "float32"):
                if f'"{device}"' in text and f'"{dtype}"' in text:
                    found.add((device, dtype))
        json.loads(text)  # a result that is not JSON is an error of the run
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, default=ROOT / "_build" / "gpu-check", help="scratch directory")
    args = parser.parse_args(argv)
    ok, message = cuda_status()
    if not ok:
        print(f"make gpu-check: {message}", file=sys.stderr)
        return 2
    print(message, flush=True)
    if shutil.which("nvidia-smi"):
        subprocess.run(
            ["nvidia-smi", "--query-gpu=name,memory.total,driver_version", "--format=csv"], check=False
        )
    env = {**os.environ, "MPLBACKEND": "Agg"}
    timings = {
        "CUDA tests (pytest -m cuda)": run([sys.executable, "-m", "pytest", "-m", "cuda", "-q"], env=env)
    }
    shutil.rmtree(args.work, ignore_errors=True)
    course = args.work / "course"
    run([sys.executable, "-m", "autograder.demo", str(course), "--assignment", ASSIGNMENT], env=env)
    scores = {}
    for device in ("cpu", "cuda"):
        command = ["autograder", "--course", str(course), "grade", ASSIGNMENT, "--executor", "dask"]
        command += ["--device", device, "--force", "--no-progress"]
        timings[f"grade the demo class, Dask, --device {device}"] = run(command, env=env)
        scores[device] = grades(course, args.work / f"grades-{device}.csv")
        if device == "cuda":
            missing = {("cuda", "float64"), ("cuda", "float32")} - precisions(course)
            if missing:
                print(
                    f"make gpu-check: the cuda run recorded no checks in {sorted(missing)}", file=sys.stderr
                )
                return 1
    print("\nmake gpu-check timings (wall seconds)")
    for what, seconds in timings.items():
        print(f"  {what:<48} {seconds:8.1f}")
    cpu, gpu = (timings[f"grade the demo class, Dask, --device {d}"] for d in ("cpu", "cuda"))
    print(f"  CPU-vs-GPU ratio (cpu time / cuda time)          {cpu / gpu:8.2f}")
    if scores["cpu"] != scores["cuda"]:
        print(f"make gpu-check: scores differ between cpu and cuda: {scores}", file=sys.stderr)
        return 1
    print(f"  scores identical on cpu and cuda: {scores['cuda']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
