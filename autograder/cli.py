"""Command line of the autograder: ``autograder --help``."""

from __future__ import annotations

import argparse
import gc
import logging
import sys
from pathlib import Path

from autograder import __version__
from autograder._lazy import defer_rfc3987_syntax

GLOBAL_DEFAULTS = {"course": Path("assignments"), "specs": None, "verbose": False}


def _global_options() -> argparse.ArgumentParser:
    """Options accepted before or after the subcommand (``autograder --course C grade a3`` and
    ``autograder grade a3 --course C``); their defaults are filled in after parsing (``GLOBAL_DEFAULTS``), so a
    subcommand never overwrites a value given before it."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--course",
        type=Path,
        default=argparse.SUPPRESS,
        help="nbgrader course directory (default: assignments)",
    )
    common.add_argument(
        "--specs",
        type=Path,
        default=argparse.SUPPRESS,
        help="directory of hidden grading specs (default: autograder/specs)",
    )
    common.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=argparse.SUPPRESS,
        help="log what the sandbox could not isolate",
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    """The ``autograder`` argument parser (subcommands grade, collect, feedback, export, bench)."""
    common = _global_options()
    parser = argparse.ArgumentParser(
        prog="autograder",
        description="Grade nbgrader submissions of the course in sandboxes, in parallel, into nbgrader's gradebook.",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"autograder {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    g = sub.add_parser("grade", parents=[common], help="grade submissions into the gradebook")
    g.add_argument("assignment")
    g.add_argument("--student", action="append", default=None, help="only this student (repeatable)")
    g.add_argument("--workers", type=int, default=None, help="parallel sandboxes (default: cores)")
    g.add_argument("--executor", choices=["local", "dask"], default="local")
    g.add_argument("--scheduler", default=None, help="Dask scheduler address (default: a LocalCluster)")
    g.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    g.add_argument("--force", action="store_true", help="regrade students already graded")
    g.add_argument("--no-progress", action="store_true", help="no progress bar")

    c = sub.add_parser(
        "collect",
        parents=[common],
        help="import an LMS download (Canvas, Moodle, Blackboard zip, or a folder per student) into submitted/",
    )
    c.add_argument("assignment")
    c.add_argument(
        "download", nargs="?", type=Path, help="the LMS's zip, or a folder (one folder per student)"
    )
    c.add_argument("--zip", type=Path, default=None, help="same as DOWNLOAD")
    c.add_argument("--lms", choices=["auto", "canvas", "moodle", "blackboard", "folders"], default="auto")
    c.add_argument(
        "--id-from",
        choices=["name", "lms-id"],
        default="name",
        help="make new student ids from the uploader's full name (tara_smith) or the LMS's user id",
    )
    c.add_argument(
        "--lms-timezone",
        default="UTC",
        help="IANA time zone of the LMS's times (zip entry times, Blackboard)",
    )
    c.add_argument("--replace", action="store_true", help="replace changed submissions (resubmissions)")
    c.add_argument("--dry-run", action="store_true", help="check and report; write nothing")
    c.add_argument("--max-files", type=int, default=5000, help="most entries in the download")
    c.add_argument("--max-file-mb", type=float, default=20.0, help="largest file, in MB")
    c.add_argument("--max-total-mb", type=float, default=500.0, help="most bytes unpacked in all, in MB")

    f = sub.add_parser("feedback", parents=[common], help="write per-student HTML feedback under feedback/")
    f.add_argument("assignment")
    f.add_argument("--student", action="append", default=None)

    e = sub.add_parser("export", parents=[common], help="export scores as CSV or Gradescope results.json")
    e.add_argument("assignment")
    e.add_argument("--format", choices=["csv", "gradescope"], default="csv")
    e.add_argument(
        "--output", type=Path, required=True, help="CSV file, or directory for <student>/results.json"
    )

    b = sub.add_parser(
        "bench",
        parents=[common],
        help="stock nbgrader autograde vs autograder grade on generated submissions",
    )
    b.add_argument("-n", type=int, default=40, help="number of generated submissions")
    b.add_argument("--workers", type=int, default=None)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    args = build_parser().parse_args(argv)
    defer_rfc3987_syntax()  # every command imports nbgrader: without jsonschema's RFC 3987 parser (seconds)
    for name, default in GLOBAL_DEFAULTS.items():
        if not hasattr(args, name):
            setattr(args, name, default)
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

        run_bench(sizes=(args.n,), workers=args.workers)
        return 0
    if not (course.root / "nbgrader_config.py").is_file():
        raise ValueError(
            f"{course.root} is not an nbgrader course directory (no nbgrader_config.py); use --course"
        )
    if args.command == "grade":  # loads the spec itself, after starting the sandbox template
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
        gc.freeze()  # the exit's last collection would walk torch's and nbgrader's objects: seconds
        return 0
    spec = load_spec(spec_path(args.assignment, args.specs, course.root), course.root)
    if args.command == "collect":
        from autograder.collect import Caps, CollectError, collect

        download = args.download or args.zip
        if download is None or (args.download and args.zip):
            raise ValueError("collect needs the download: a zip or a folder (DOWNLOAD or --zip, once)")
        caps = Caps(
            max_files=args.max_files,
            max_file_bytes=int(args.max_file_mb * 1e6),
            max_total_bytes=int(args.max_total_mb * 1e6),
        )
        try:
            done = collect(
                course,
                args.assignment,
                spec.notebook,
                download,
                layout=args.lms,
                id_from=args.id_from,
                timezone=args.lms_timezone,
                replace=args.replace,
                dry_run=args.dry_run,
                caps=caps,
            )
        except CollectError as exc:
            print(f"autograder: collect {args.assignment}: {exc}", file=sys.stderr)
            return 1
        print(("dry run, nothing written\n" if args.dry_run else "") + done.summary())
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
