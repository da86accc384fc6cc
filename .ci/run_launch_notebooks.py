"""Run notebooks the way a reader who clicked a launch button does, and report which fail.

Used by the weekly workflow (``.github/workflows/weekly.yml``) in a fresh Python environment without the
course's checkout: each notebook runs top to bottom in its own temporary folder, so its first cell has to install
the course. Needs only ``nbclient`` and ``ipykernel``; the standard library does the rest.

Usage::

    python run_launch_notebooks.py [--timeout SECONDS] [--report report.md] NOTEBOOK.ipynb ...

Exit status 0 when every notebook ran without an error, 1 otherwise; the report (Markdown) lists each notebook
with its time and, for a failure, the cell and the end of the error.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path


def run_notebook(path: Path, timeout: int) -> tuple[bool, float, str]:
    """Execute ``path`` in a fresh temporary folder: (succeeded, seconds, what went wrong)."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="launch-") as folder:
        copy = Path(folder) / path.name
        shutil.copy(path, copy)
        nb = nbformat.read(copy, as_version=4)
        client = NotebookClient(
            nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": folder}}
        )
        try:
            client.execute()
        except (CellExecutionError, CellTimeoutError, DeadKernelError) as error:
            lines = [line for line in str(error).strip().splitlines() if line.strip()]
            return False, time.perf_counter() - start, "\n".join(lines[-12:])
    return True, time.perf_counter() - start, ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--timeout", type=int, default=600, help="per cell, seconds")
    parser.add_argument("--report", type=Path, default=None, help="write a Markdown report here")
    args = parser.parse_args(argv)
    rows, failures = [], []
    for path in sorted(args.notebooks):
        ok, seconds, problem = run_notebook(path, args.timeout)
        print(f"{'ok  ' if ok else 'FAIL'} {path.name} ({seconds:.0f} s)", flush=True)
        rows.append(f"| {path.name} | {'ok' if ok else '**failed**'} | {seconds:.0f} |")
        if not ok:
            failures.append(f"### {path.name}\n\n```\n{problem}\n```\n")
            print(problem, file=sys.stderr)
    report = "\n".join(
        [
            f"## Launch notebooks: {len(rows) - len(failures)} of {len(rows)} ran without an error",
            "",
            "| notebook | result | seconds |",
            "| --- | --- | ---: |",
            *rows,
            "",
            *failures,
        ]
    )
    if args.report:
        args.report.write_text(report + "\n", encoding="utf-8")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
