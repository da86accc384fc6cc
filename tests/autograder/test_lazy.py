"""Deferred start-up work (:mod:`autograder._lazy`): the same results as the libraries' own paths, less CPU.

Each test runs in a fresh interpreter (what is imported is the point); the references are closed forms and the
libraries' own answers once the deferred module is loaded.
"""

from __future__ import annotations

import subprocess
import sys

DYNAMO = r"""
import sys
import numpy as np
import torch
from autograder._lazy import defer_dynamo_import

changed = defer_dynamo_import()
assert changed > 50, changed  # Optimizer.zero_grad, state_dict, load_state_dict, add_param_group, ...
assert defer_dynamo_import() == 0  # already deferred: nothing left to change


class Momentum(torch.optim.Optimizer):
    def __init__(self, params, lr=0.1, momentum=0.9):
        super().__init__(params, {"lr": lr, "momentum": momentum})

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    buf = self.state[p].setdefault("momentum_buffer", torch.zeros_like(p))
                    p.add_(buf.mul_(group["momentum"]).add_(p.grad), alpha=-group["lr"])


theta = torch.nn.Parameter(torch.tensor([1.0, -2.0], dtype=torch.float64))
opt = Momentum([theta])
for _ in range(3):
    opt.zero_grad()
    (0.5 * theta * theta).sum().backward()  # g_t = theta
    opt.step()
# closed form of heavy-ball momentum on L = |theta|^2 / 2 with eta = 0.1, beta = 0.9, b_0 = 0
t, b = np.array([1.0, -2.0]), np.zeros(2)
for _ in range(3):
    b = 0.9 * b + t
    t = t - 0.1 * b
np.testing.assert_allclose(theta.detach().numpy(), t, rtol=1e-15)
opt.zero_grad()
assert theta.grad is None  # zero_grad ran (set_to_none=True is torch's default)
saved = opt.state_dict()
fresh = Momentum([theta])
fresh.load_state_dict(saved)
np.testing.assert_allclose(fresh.state[theta]["momentum_buffer"].numpy(), b, rtol=1e-15)
assert "torch._dynamo" not in sys.modules, "torch._dynamo was imported"

# Once torch._dynamo is imported, the wrappers do what torch's own do: build and keep torch._dynamo.disable(fn).
import torch._dynamo

opt.zero_grad()
kept = torch.optim.Optimizer.zero_grad.__wrapped__.__dynamo_disable
assert "_until_dynamo" not in kept.__qualname__, kept.__qualname__
compiled = torch.compile(lambda x: x * 2, backend="eager")
np.testing.assert_array_equal(compiled(torch.ones(2)).numpy(), [2.0, 2.0])
print("ok")
"""

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


def test_deferred_dynamo_gives_torchs_results_without_importing_it() -> None:
    _run(DYNAMO)


def test_deferred_rfc3987_parser_is_built_only_when_an_iri_is_checked() -> None:
    _run(RFC)
