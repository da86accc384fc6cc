"""Command line of the autograder: ``autograder --help``."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from autograder import __version__


def build_parser() -> argparse.ArgumentParser:
    """The ``autograder`` argument parser (subcommands grade, collect, feedback, export, bench)."""
    parser = argparse.ArgumentParser(
        prog="autograder",
        description="Grade nbgrader submissions of the course in sandboxes, in parallel, into nbgrader's gradebook.",
    )
    parser.add_argument("--version", action="version", version=f"autograder {__version__}")
    parser.add_argument("--course", type=Path, default=Path("assignments"), help="nbgrader course directory")
    parser.add_argument(
        "--specs",
        type=Path,
        default=None,
        help="directory of hidden grading specs (default: autograder/specs)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log what the sandbox could not isolate")
    sub = parser.add_subparsers(dest="command", required=True)

    g = sub.add_parser("grade", help="grade submissions into the gradebook")
    g.add_argument("assignment")
    g.add_argument("--student", action="append", default=None, help="only this student (repeatable)")
    g.add_argument("--workers", type=int, default=None, help="parallel sandboxes (default: cores)")
    g.add_argument("--executor", choices=["local", "dask"], default="local")
    g.add_argument("--scheduler", default=None, help="Dask scheduler address (default: a LocalCluster)")
    g.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    g.add_argument("--force", action="store_true", help="regrade students already graded")
    g.add_argument("--no-progress", action="store_true", help="no progress bar")

    c = sub.add_parser("collect", help="import an LMS zip of notebooks into submitted/")
    c.add_argument("assignment")
    c.add_argument("--zip", type=Path, required=True, help="zip with one notebook per student")
    c.add_argument(
        "--pattern",
        default=r"^(?P<student>[A-Za-z0-9][A-Za-z0-9.@-]*)",
        help="regex on each file name; the group (?P<student>...) is the student id (default: up to the first _)",
    )

    f = sub.add_parser("feedback", help="write per-student HTML feedback under feedback/")
    f.add_argument("assignment")
    f.add_argument("--student", action="append", default=None)

    e = sub.add_parser("export", help="export scores as CSV or Gradescope results.json")
    e.add_argument("assignment")
    e.add_argument("--format", choices=["csv", "gradescope"], default="csv")
    e.add_argument(
        "--output", type=Path, required=True, help="CSV file, or directory for <student>/results.json"
    )

    b = sub.add_parser("bench", help="stock nbgrader autograde vs autograder grade on generated submissions")
    b.add_argument("-n", type=int, default=40, help="number of generated submissions")
    b.add_argument("--workers", type=int, default=None)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s"
    )
    try:
        return _dispatch(args)
    except ValueError as exc:
        print(f"autograder: error: {exc}", file=sys.stderr)
        return 2


def _dispatch(args: argparse.Namespace) -> int:
    from autograder.notebook import Course
    from autograder.spec import load_spec, spec_path

    course = Course(args.course.resolve())
    if args.command == "bench":
        root = str(Path(__file__).resolve().parent.parent)  # the repository (benchmarks/ is not installed)
        if root not in sys.path:
            sys.path.insert(0, root)
        from benchmarks.bench_grading import run_bench

        run_bench(n=args.n, workers=args.workers)
        return 0
    if not (course.root / "nbgrader_config.py").is_file():
        raise ValueError(
            f"{course.root} is not an nbgrader course directory (no nbgrader_config.py); use --course"
        )
    spec = load_spec(spec_path(args.assignment, args.specs), course.root)
    if args.command == "grade":
        from autograder.pipeline import grade_assignment

        summary = grade_assignment(
            args.assignment,
            course.root,
            students=args.student,
            workers=args.workers,
            executor=args.executor,
            scheduler=args.scheduler,
            device=args.device,
            force=args.force,
            specs_dir=args.specs,
            progress=not args.no_progress,
        )
        if args.verbose:
            for res in summary.results:
                for p in res.problems:
                    logging.info("%s: %s", res.student, p.splitlines()[0])
        print(summary.table())
        return 0
    if args.command == "collect":
        from autograder.reports import collect_zip

        students = collect_zip(course, args.assignment, spec.notebook, args.zip, args.pattern)
        print(f"imported {len(students)} submission(s) of {args.assignment}: {', '.join(students)}")
        return 0
    if args.command == "feedback":
        from autograder.reports import write_feedback

        paths = write_feedback(course, spec, args.student)
        print(f"wrote {len(paths)} feedback page(s) under {course.root / 'feedback'}")
        return 0
    from autograder.reports import export

    out = export(course, spec, args.format, args.output)
    print(f"exported {args.assignment} ({args.format}) to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
