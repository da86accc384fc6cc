"""Deferred start-up work (:mod:`autograder._lazy`): the same results as the library's own path, less CPU.

The test runs in a fresh interpreter (what is imported is the point); the references are known valid and invalid
IRIs (RFC 3987) and the library's own answers once the deferred module is loaded.
"""

from __future__ import annotations

import subprocess
import sys

RFC = r"""
import sys
from autograder._lazy import defer_rfc3987_syntax

defer_rfc3987_syntax()
import jsonschema
import nbformat

assert "rfc3987_syntax.syntax_helpers" not in sys.modules, "the RFC 3987 parser was built at import"
nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
nbformat.validate(nb)  # what nbgrader does with notebooks: no format checker needed
assert "rfc3987_syntax.syntax_helpers" not in sys.modules
checker = jsonschema.Draft7Validator.FORMAT_CHECKER  # the "iri" format loads the real parser on first use
assert "iri" in checker.checkers
assert checker.conforms("https://example.org/r\u00e9sum\u00e9?q=1#top", "iri")
assert not checker.conforms("http://exa mple.org/", "iri")
assert not checker.conforms("no scheme", "iri")
assert "rfc3987_syntax.syntax_helpers" in sys.modules
import rfc3987_syntax

assert rfc3987_syntax.is_valid_syntax("iri", "urn:isbn:0451450523")
assert rfc3987_syntax.RFC3987_SYNTAX_PARSER_TYPE == "earley"  # the real module, every attribute
print("ok")
"""


def _run(code: str) -> None:
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0 and run.stdout.strip().endswith("ok"), run.stderr[-3000:]


def test_deferred_rfc3987_parser_is_built_only_when_an_iri_is_checked() -> None:
    _run(RFC)
