"""Command line of the autograder: ``autograder --help``."""

from __future__ import annotations

import argparse

from autograder import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="autograder",
        description="Grade nbgrader submissions of the course in sandboxes, in parallel, into nbgrader's gradebook.",
    )
    parser.add_argument("--version", action="version", version=f"autograder {__version__}")
    return parser


def main(argv: list[str] | None = None) -> int:
    build_parser().parse_args(argv)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
