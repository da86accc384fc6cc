"""L-BFGS (Liu & Nocedal, 1989): a quasi-Newton method that remembers the last m steps and gradient changes."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import torch
from torch import Tensor

from ._base import as_scalar, check_lr
from .line_search import strong_wolfe

__all__ = ["LBFGS", "lbfgs_direction"]


def lbfgs_direction(
    grad: Tensor,
    steps: Sequence[Tensor],
    grad_changes: Sequence[Tensor],
    rho: Sequence[float | Tensor],
    h_diag: float | Tensor,
    alpha: list[Any] | None = None,
) -> Tensor:
    """The L-BFGS direction p = -Q g by the two-loop recursion (Nocedal & Wright 2006, Algorithm 7.4).

    Q is the inverse-Hessian approximation (Nocedal & Wright's H_k; in the book H is the true Hessian) that BFGS would
    build from the initial matrix γ I by the updates Q ← (I - ρ s yᵀ) Q (I - ρ y sᵀ) + ρ s sᵀ, one per stored pair
    (s_i, y_i), oldest first, with ρ_i = 1/(y_iᵀ s_i).
    The recursion applies it to g in O(m d) operations without forming any d × d matrix.

    Parameters
    ----------
    grad : Tensor
        The flat gradient g (1-D).
    steps, grad_changes : sequence of Tensor
        s_i = θ_{i+1} - θ_i and y_i = g_{i+1} - g_i, oldest first (m pairs).
    rho : sequence
        ρ_i = 1 / (y_iᵀ s_i).
    h_diag : float or Tensor
        γ, the scale of the initial matrix (usually s_mᵀ y_m / y_mᵀ y_m, the newest pair's).
    alpha : list, optional
        A list of length ≥ m that receives the first loop's coefficients α_i (``torch.optim.LBFGS`` keeps it in its
        state as ``al``).

    Returns
    -------
    Tensor
        p = -Q g.
    """
    m = len(steps)
    alpha = [None] * m if alpha is None else alpha
    q = grad.neg()
    for i in range(m - 1, -1, -1):  # newest to oldest: q ← q - α_i y_i with α_i = ρ_i s_iᵀ q
        alpha[i] = steps[i].dot(q) * rho[i]
        q.add_(grad_changes[i], alpha=-alpha[i])
    r = torch.mul(q, h_diag)  # r = γ q
    for i in range(m):  # oldest to newest: r ← r + (α_i - β_i) s_i with β_i = ρ_i y_iᵀ r
        beta = grad_changes[i].dot(r) * rho[i]
        r.add_(steps[i], alpha=alpha[i] - beta)
    return r


def _as_float_loss(loss: Any) -> float:
    """A closure's loss as a Python float (a tensor is detached first)."""
    return loss.detach().item() if isinstance(loss, Tensor) else float(loss)


class LBFGS(torch.optim.Optimizer):
    r"""L-BFGS with an optional strong Wolfe line search (same interface and numbers as ``torch.optim.LBFGS``).

    All parameters are treated as one flat vector θ ∈ ℝ^d. One call of ``step(closure)`` runs up to ``max_iter``
    iterations k = 1, 2, ...; with g_k = ∇L(θ_k) (from the closure):

    1. direction (torch's ``d``): p_1 = -g_1 at the very first iteration; afterwards p_k = -Q_k g_k by the
       two-loop recursion (:func:`lbfgs_direction`) over the last m = ``history_size`` pairs s_i = t_i p_i (the
       steps) and y_i = g_{i+1} - g_i (the gradient changes), with Q_k's initial matrix γ I, γ = sᵀy / yᵀy of the newest pair;
       a pair is stored only if yᵀs > 10⁻¹⁰ (the curvature condition that keeps Q positive definite);
    2. step length (torch's ``t``): t = η (t = η min(1, 1/‖g_1‖₁) at the very first iteration), or, with
       ``line_search_fn="strong_wolfe"``, a step satisfying the strong Wolfe conditions from that first trial
       (:func:`course_pkg.optim.line_search.strong_wolfe`);
    3. update: θ_{k+1} = θ_k + t p_k.

    It stops early when ‖g‖_∞ ≤ ``tolerance_grad``, when ‖t p‖_∞ or the change of the loss is below
    ``tolerance_change``, when gᵀp > -``tolerance_change`` (no descent), or after ``max_eval`` closure calls. The
    history survives between calls of ``step``.

    State (of the first parameter, as in torch): ``func_evals``, ``n_iter``, ``d`` (p), ``t``, ``old_dirs`` (the y_i),
    ``old_stps`` (the s_i), ``ro`` (the ρ_i), ``H_diag`` (γ), ``prev_flat_grad``, ``prev_loss`` and ``al``.

    Parameters
    ----------
    params : iterable
        Tensors to optimize (one parameter group only; complex tensors are optimized through their real view).
    lr : float, optional
        The step size η (default 1).
    max_iter : int, optional
        Iterations per call of ``step`` (default 20).
    max_eval : int, optional
        Closure calls per ``step`` (default ``max_iter * 5 // 4``).
    tolerance_grad, tolerance_change : float, optional
        The stopping tolerances (default 1e-7 and 1e-9).
    history_size : int, optional
        m, the number of stored pairs (default 100).
    line_search_fn : str, optional
        ``"strong_wolfe"`` or ``None`` (default ``None``: fixed steps).

    Raises
    ------
    ValueError
        For an invalid learning rate or more than one parameter group (torch's messages).
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float | Tensor = 1,
        max_iter: int = 20,
        max_eval: int | None = None,
        tolerance_grad: float = 1e-7,
        tolerance_change: float = 1e-9,
        history_size: int = 100,
        line_search_fn: str | None = None,
    ) -> None:
        check_lr(lr)
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = {
            "lr": lr,
            "max_iter": max_iter,
            "max_eval": max_eval,
            "tolerance_grad": tolerance_grad,
            "tolerance_change": tolerance_change,
            "history_size": history_size,
            "line_search_fn": line_search_fn,
        }
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]

    # --- the parameters as one flat vector ---------------------------------------------------------------------

    def _flat_grad(self) -> Tensor:
        views = []
        for p in self._params:
            if p.grad is None:
                view = p.new_zeros(p.numel())
            elif p.grad.is_sparse:
                view = p.grad.to_dense().view(-1)
            else:
                view = p.grad.view(-1)
            views.append(torch.view_as_real(view).view(-1) if torch.is_complex(view) else view)
        return torch.cat(views, 0)

    def _add_step(self, t: float | Tensor, direction: Tensor) -> None:
        """θ ← θ + t d, parameter by parameter."""
        offset = 0
        for p in self._params:
            p = torch.view_as_real(p) if torch.is_complex(p) else p
            p.add_(direction[offset : offset + p.numel()].view_as(p), alpha=t)
            offset += p.numel()

    def _evaluate_along(
        self, closure: Callable[[], Any], t: float, direction: Tensor
    ) -> tuple[float, Tensor]:
        """L(θ + t d) and its flat gradient, leaving θ unchanged."""
        saved = [p.clone(memory_format=torch.contiguous_format) for p in self._params]
        self._add_step(t, direction)
        loss = _as_float_loss(closure())
        grad = self._flat_grad()
        for p, value in zip(self._params, saved):
            p.copy_(value)
        return loss, grad

    @torch.no_grad()
    def step(self, closure: Callable[[], Any]) -> Any:  # type: ignore[override]
        """Run up to ``max_iter`` L-BFGS iterations.

        Parameters
        ----------
        closure : callable
            Re-evaluates the model (zeroing and recomputing the gradients) and returns the loss; required.

        Returns
        -------
        Any
            The loss the closure returned at the starting point.
        """
        closure = torch.enable_grad()(closure)
        group = self.param_groups[0]
        lr = as_scalar(group["lr"])  # a tensor lr stays a tensor, as in torch
        max_iter, max_eval = group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        history_size, line_search_fn = group["history_size"], group["line_search_fn"]

        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        orig_loss = closure()
        loss = _as_float_loss(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = self._flat_grad()
        if flat_grad.abs().max() <= tolerance_grad:
            return orig_loss  # already stationary

        d, t = state.get("d"), state.get("t")
        old_dirs, old_stps, ro = state.get("old_dirs"), state.get("old_stps"), state.get("ro")
        h_diag, prev_flat_grad = state.get("H_diag"), state.get("prev_flat_grad")
        prev_loss = state.get("prev_loss")

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:
                d = flat_grad.neg()
                old_dirs, old_stps, ro, h_diag = [], [], [], 1
            else:
                y = flat_grad.sub(prev_flat_grad)  # y = g_k - g_{k-1}
                s = d.mul(t)  # s = θ_k - θ_{k-1}
                ys = y.dot(s)
                if ys > 1e-10:  # curvature condition: keep the pair
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    h_diag = ys / y.dot(y)  # γ = sᵀy / yᵀy
                if "al" not in state:
                    state["al"] = [None] * history_size
                d = lbfgs_direction(flat_grad, old_stps, old_dirs, ro, h_diag, alpha=state["al"])

            if prev_flat_grad is None:
                prev_flat_grad = flat_grad.clone(memory_format=torch.contiguous_format)
            else:
                prev_flat_grad.copy_(flat_grad)
            prev_loss = loss

            t = min(1.0, 1.0 / flat_grad.abs().sum()) * lr if state["n_iter"] == 1 else lr
            gtd = flat_grad.dot(d)  # directional derivative gᵀd
            if gtd > -tolerance_change:
                break  # not a descent direction any more

            ls_func_evals = 0
            if line_search_fn is not None:
                if line_search_fn != "strong_wolfe":
                    raise RuntimeError("only 'strong_wolfe' is supported")
                direction = d

                def phi(step: float | Tensor, direction: Tensor = direction) -> tuple[float, Tensor, Tensor]:
                    f, g = self._evaluate_along(closure, step, direction)
                    return f, g.dot(direction), g

                # t, gᵀd and ‖d‖_∞ stay tensors where torch's are: the line search then rounds as torch's does
                loss, flat_grad, t, ls_func_evals = strong_wolfe(
                    phi,
                    t,
                    loss,
                    gtd,
                    flat_grad.clone(memory_format=torch.contiguous_format),
                    direction_scale=d.abs().max(),
                    tolerance_change=1e-9,  # torch.optim.LBFGS does not pass its own tolerance_change on
                    max_ls=max_eval - current_evals,
                )
                self._add_step(t, d)
                opt_cond = flat_grad.abs().max() <= tolerance_grad
            else:
                self._add_step(t, d)
                opt_cond = False
                if n_iter != max_iter:  # the last iteration's loss is evaluated by the next call
                    with torch.enable_grad():
                        loss = _as_float_loss(closure())
                    flat_grad = self._flat_grad()
                    opt_cond = flat_grad.abs().max() <= tolerance_grad
                    ls_func_evals = 1
            current_evals += ls_func_evals
            state["func_evals"] += ls_func_evals

            if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                break
            if d.mul(t).abs().max() <= tolerance_change or abs(loss - prev_loss) < tolerance_change:
                break  # no progress

        state.update(
            d=d, t=t, old_dirs=old_dirs, old_stps=old_stps, ro=ro, H_diag=h_diag,
            prev_flat_grad=prev_flat_grad, prev_loss=prev_loss,
        )  # fmt: skip
        return orig_loss
