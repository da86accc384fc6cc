"""What a student may see of the checks: hidden checks by name and verdict only; one verdict per grade cell.

Used by the feedback page, the exports and the autograded notebook (whose locked test cells show these verdicts
as their outputs), so that every view says the same thing and none reveals a hidden test.
"""

from __future__ import annotations

from typing import Any

from autograder.spec import Check, Spec

HIDDEN_MESSAGE = "failed (a hidden test: its arguments and values are not shown)"


def find_check(spec: Spec, name: str) -> Check | None:
    """The spec's check called ``name`` (None if the spec no longer has it)."""
    return next((c for c in spec.checks if c.name == name), None)


def is_hidden(check: Check | None) -> bool:
    """A check from a hidden test, or one the spec no longer has: shown by name and verdict only."""
    return check is None or check.hidden


def public_messages(outcome: dict[str, Any], spec: Spec) -> list[str]:
    """What feedback and exports may show of an outcome: its messages, or for a hidden check only that it
    failed."""
    if outcome["passed"]:
        return []
    if is_hidden(find_check(spec, outcome["name"])):
        return [HIDDEN_MESSAGE]
    return [str(m) for m in outcome["messages"]]


def cell_verdict(
    result: dict[str, Any], spec: Spec, grade_id: str, score: float | None, max_score: float | None
) -> tuple[bool | None, list[str]]:
    """The verdict of one grade cell as lines of text: (True, ["PASSED ..."]), (False, ["FAILED ...", then for
    each failed check its name and its messages, each on a line of its own]) or (None, [...]) when the autograder
    does not grade the cell."""
    outcomes = [o for o in result.get("outcomes", []) if o.get("grade_id") == grade_id]
    points = "" if score is None or max_score is None else f" Score: {score:g} / {max_score:g}."
    if not outcomes:
        return None, ["Not graded by the autograder (graded by hand, or not graded)." + points]
    failed = [o for o in outcomes if not o["passed"]]
    if not failed:
        return True, [f"PASSED: all {len(outcomes)} check(s) of this cell passed.{points}"]
    lines = [f"FAILED: {len(failed)} of {len(outcomes)} check(s) of this cell failed.{points}"]
    for o in failed:
        msgs = public_messages(o, spec)
        head = f"{o['name']} ({o['device']}, {o['dtype']}):"
        if msgs == [HIDDEN_MESSAGE] or not msgs:
            lines.append(f"{head} {msgs[0] if msgs else 'failed'}")
        else:  # each message starts its own line: where and by how much come first
            lines += [head, *msgs]
    return False, lines


def redact_hidden(result: dict[str, Any], spec: Spec) -> dict[str, Any]:
    """``result`` (plain data) with every hidden check's messages and plot replaced by its bare verdict.

    The results file sits next to the autograded notebook, and ``nbgrader generate_feedback`` copies every
    file of that folder into the student's feedback: nothing of a hidden test may be in it.
    """
    for o in result.get("outcomes", []):
        if is_hidden(find_check(spec, o["name"])):
            o["messages"] = public_messages(o, spec)
            o["plot"] = None
    return result
