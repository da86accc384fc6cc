"""Assignment a6-lbfgs-averaging-init: L-BFGS's two-loop recursion, Polyak/EMA averaging, He/Glorot initializers."""

from __future__ import annotations

from nbcells import SETUP, chapter_url, locked_code, md, notebook, solution, tests

NAME = "a6-lbfgs-averaging-init"

INTRO = f"""
# Assignment 6 — L-BFGS's two-loop recursion, averaging the iterates, and initialization

Three small pieces that sit around an optimizer, each checked against PyTorch:

1. `two_loop`: the search direction of L-BFGS from its memory of curvature pairs, the computation inside
   `torch.optim.LBFGS.step`;
2. `polyak_update_` and `ema_update_`: the uniform (Polyak) and exponential moving averages of the iterates that
   `torch.optim.swa_utils.AveragedModel` keeps;
3. `glorot_uniform`, `glorot_normal`, `he_uniform`, `he_normal`: the initializers of `torch.nn.init` — from the same
   random generator, the same tensors.

Background: the book chapters [Second-order methods]({chapter_url("curvature/second_order")}),
[Averaging, continuation and pretraining]({chapter_url("beyond/averaging")}) and
[Initialization and normalization]({chapter_url("deepnets/init_norm")}).

**How this notebook is graded.** Write your code only where it says `YOUR CODE HERE` (replace the
`raise NotImplementedError()`). Every cell that starts with `# Tests:` is worth the points shown in its first line;
it earns them when it runs without an error. The visible checks are part of each test cell; more (hidden) checks
of the same feature run when your notebook is graded. Do not call `torch.optim.LBFGS`, `torch.optim.swa_utils` or
`torch.nn.init`'s `xavier_*`/`kaiming_*` in your own code: they are the references (they do not work in the
grader's sandbox).

**Notation** (as in the book). $\\theta_t$: the parameters after step $t$; $g$: a gradient; $s_k$, $y_k$: L-BFGS's
curvature pairs; $Q$: the L-BFGS approximation of the inverse Hessian; $\\bar\\theta_t$: the Polyak average;
$\\tilde\\theta_t$: the EMA, with decay $\\beta_{{\\text{{ema}}}}$ (torch's `decay`).
"""

TWO_LOOP_SPEC = r"""
## 1. L-BFGS's two-loop recursion (4 points)

L-BFGS keeps the $m$ most recent curvature pairs $s_k = \theta_{k+1} - \theta_k$ (a step) and
$y_k = g_{k+1} - g_k$ (the change of the gradient over that step), oldest first. It never forms a matrix: the
product $Q g$ of its inverse-Hessian approximation $Q$ with a gradient $g$ costs $O(md)$ with the **two-loop
recursion** (Nocedal & Wright, Algorithm 7.4). With $\rho_k = 1/(y_k^\top s_k)$ and the pairs numbered
$0, \dots, m-1$ (oldest first):

$$
\begin{aligned}
&q \leftarrow g\\
&\text{for } k = m-1, \dots, 0:\quad a_k = \rho_k\, s_k^\top q,\quad q \leftarrow q - a_k\, y_k\\
&r \leftarrow \gamma\, q, \qquad \gamma = \frac{s_{m-1}^\top y_{m-1}}{y_{m-1}^\top y_{m-1}}\\
&\text{for } k = 0, \dots, m-1:\quad b = \rho_k\, y_k^\top r,\quad r \leftarrow r + (a_k - b)\, s_k\\
&\text{return } p = -r \qquad (\text{so } p = -Q g)
\end{aligned}
$$

The initial matrix $\gamma I$ uses the newest pair. Specification:

* `two_loop(g, s_list, y_list)` takes a 1-D tensor `g` and two lists of 1-D tensors of the same length (the pairs,
  oldest first) and returns the **direction** $p = -Qg$ as a new tensor (do not modify the arguments);
* with empty lists it returns $-g$ (the first step of L-BFGS is a gradient step);
* this is exactly the direction `torch.optim.LBFGS` stores in `state["d"]` (its memory: `state["old_stps"]` are the
  $s_k$, `state["old_dirs"]` the $y_k$, `state["prev_flat_grad"]` the gradient it used).

Tests: against the BFGS inverse-Hessian matrix built explicitly from the same pairs and the secant equation
$Q y_{m-1} = s_{m-1}$ (2 points); against the direction of `torch.optim.LBFGS` after several iterations, with and
without its strong-Wolfe line search, with a memory that is full and overwritten (2 points).
"""

TWO_LOOP_SOLUTION = """
def two_loop(g, s_list, y_list):
    \"\"\"L-BFGS direction p = -Q g from the curvature pairs (oldest first), by the two-loop recursion.\"\"\"
    ### BEGIN SOLUTION
    q = g.clone()
    if len(s_list) == 0:
        return -q
    rho = [1.0 / torch.dot(y, s) for s, y in zip(s_list, y_list)]
    a = [None] * len(s_list)
    for k in range(len(s_list) - 1, -1, -1):
        a[k] = rho[k] * torch.dot(s_list[k], q)
        q = q - a[k] * y_list[k]
    gamma = torch.dot(s_list[-1], y_list[-1]) / torch.dot(y_list[-1], y_list[-1])
    r = gamma * q
    for k in range(len(s_list)):
        b = rho[k] * torch.dot(y_list[k], r)
        r = r + (a[k] - b) * s_list[k]
    return -r
    ### END SOLUTION
"""

LBFGS_HELPERS = '''
# Helpers of the L-BFGS tests: curvature pairs of a random quadratic, the BFGS inverse-Hessian matrix built
# explicitly from them (the matrix that the two-loop recursion applies without forming it), and a run of
# torch.optim.LBFGS whose final memory and direction are returned.
def quadratic(d, seed, kappa=20.0):
    """A random symmetric positive definite matrix A (eigenvalues from 1 to kappa) and a vector b."""
    gen = torch.Generator().manual_seed(seed)
    Qm, _ = torch.linalg.qr(torch.randn(d, d, generator=gen, dtype=DTYPE))
    A = Qm @ torch.diag(torch.logspace(0, math.log10(kappa), d, dtype=DTYPE)) @ Qm.T
    return A, torch.randn(d, generator=gen, dtype=DTYPE)


def random_pairs(A, m, seed):
    """m pairs (s_k, y_k = A s_k) with random steps s_k: curvature pairs of the quadratic with Hessian A."""
    gen = torch.Generator().manual_seed(seed + 1000)
    s_list = [torch.randn(A.shape[0], generator=gen, dtype=DTYPE) for _ in range(m)]
    return s_list, [A @ s for s in s_list]


def bfgs_inverse(s_list, y_list):
    """Q after BFGS updates with the pairs in order, from Q_0 = gamma I (gamma of the newest pair)."""
    d = s_list[0].numel()
    eye = torch.eye(d, dtype=DTYPE)
    Q = (s_list[-1] @ y_list[-1]) / (y_list[-1] @ y_list[-1]) * eye
    for s, y in zip(s_list, y_list):
        rho = 1.0 / (y @ s)
        V = eye - rho * torch.outer(y, s)
        Q = V.T @ Q @ V + rho * torch.outer(s, s)
    return Q


def torch_lbfgs_memory(d, seed, max_iter, history_size, line_search_fn=None):
    """Run torch.optim.LBFGS for max_iter iterations on a quadratic; return its gradient, memory and direction."""
    A, b = quadratic(d, seed)
    theta = torch.zeros(d, dtype=DTYPE, requires_grad=True)
    opt = torch.optim.LBFGS([theta], lr=1, max_iter=max_iter, history_size=history_size,
                            line_search_fn=line_search_fn, tolerance_grad=0.0, tolerance_change=0.0)

    def closure():
        opt.zero_grad()
        loss = 0.5 * theta @ A @ theta - b @ theta
        loss.backward()
        return loss

    opt.step(closure)
    state = opt.state[theta]
    return state["prev_flat_grad"], list(state["old_stps"]), list(state["old_dirs"]), state["d"]


def check_direction(got, expected, what, rtol=1e-9):
    assert isinstance(got, torch.Tensor), f"{what}: two_loop returned {type(got).__name__}, not a tensor"
    assert got.shape == expected.shape, f"{what}: shape {tuple(got.shape)}, expected {tuple(expected.shape)}"
    err = ((got - expected).norm() / expected.norm()).item()
    assert err <= rtol, f"{what}: relative error {err:.2e} of your direction"
'''

TWO_LOOP_TESTS = [
    (
        "test_two_loop",
        2,
        """
        # Tests: the two-loop recursion against the BFGS matrix and the secant equation (2 points)
        A, _ = quadratic(6, seed=0)
        s_list, y_list = random_pairs(A, 3, seed=0)
        g = torch.randn(6, generator=torch.Generator().manual_seed(7), dtype=DTYPE)
        g_before = g.clone()
        p = two_loop(g, s_list, y_list)
        check_direction(p, -bfgs_inverse(s_list, y_list) @ g, "3 pairs in dimension 6")
        assert torch.equal(g, g_before), "two_loop modified its argument g"
        check_direction(two_loop(y_list[-1], s_list, y_list), -s_list[-1], "secant equation Q y = s")
        check_direction(two_loop(g, [], []), -g, "empty memory (expected -g)", rtol=0.0)
        ### BEGIN HIDDEN TESTS
        for d, m, seed in [(5, 1, 1), (10, 4, 2), (8, 8, 3), (12, 5, 4)]:
            A, _ = quadratic(d, seed=seed)
            s_list, y_list = random_pairs(A, m, seed=seed)
            g = torch.randn(d, generator=torch.Generator().manual_seed(seed), dtype=DTYPE)
            check_direction(two_loop(g, s_list, y_list), -bfgs_inverse(s_list, y_list) @ g, f"d={d}, m={m}")
            check_direction(two_loop(y_list[-1], s_list, y_list), -s_list[-1], f"secant equation, d={d}, m={m}")
        ### END HIDDEN TESTS
        print("two-loop recursion: OK")
        """,
    ),
    (
        "test_two_loop_torch",
        2,
        """
        # Tests: the two-loop recursion against torch.optim.LBFGS's direction (2 points)
        g, s_list, y_list, d = torch_lbfgs_memory(8, seed=0, max_iter=4, history_size=10)
        assert len(s_list) == 3
        check_direction(two_loop(g, s_list, y_list), d, "torch.optim.LBFGS, 4 iterations, memory 10")
        ### BEGIN HIDDEN TESTS
        for max_iter, history_size, search in [(7, 3, None), (2, 5, None), (6, 2, "strong_wolfe"), (9, 4, "strong_wolfe")]:
            g, s_list, y_list, d = torch_lbfgs_memory(10, 1, max_iter, history_size, search)
            what = f"torch.optim.LBFGS, {max_iter} iterations, memory {history_size}, line search {search}"
            check_direction(two_loop(g, s_list, y_list), d, what)
        ### END HIDDEN TESTS
        print("two-loop recursion agrees with torch.optim.LBFGS: OK")
        """,
    ),
]

AVERAGING_SPEC = r"""
## 2. Averaging the iterates (4 points)

With a constant learning rate SGD keeps bouncing around a minimum; an average of its iterates
$\theta_1, \theta_2, \dots$ cancels much of that noise. Write the two averages that
`torch.optim.swa_utils.AveragedModel` keeps, as **in-place** updates of a list of tensors `averaged` (the
average) from a list `current` (the model's tensors now, same shapes, in the same order):

* `polyak_update_(averaged, current, n_averaged)`: the uniform running mean (Polyak averaging, and SWA),
  $\bar\theta \leftarrow \bar\theta + (\theta - \bar\theta)/(n + 1)$, where $n$ = `n_averaged` iterates have been
  averaged before this call; after the call, `averaged` holds the mean of $n + 1$ iterates;
* `ema_update_(averaged, current, decay)`: the exponential moving average
  $\tilde\theta \leftarrow \beta_{\text{ema}}\,\tilde\theta + (1 - \beta_{\text{ema}})\,\theta$ with
  $\beta_{\text{ema}}$ = `decay`; if `decay` is not in $[0, 1]$, raise `ValueError` with torch's text
  `Invalid decay value {decay} provided. Please provide a value in [0,1] range.` (before changing anything).

Both modify the tensors of `averaged` in place (under `torch.no_grad()`), return `None` and leave `current`
unchanged. As in `AveragedModel`, the first iterate is *copied* into the average (the tests do that, with
`copy_`); your functions are called from the second iterate on. The tensors may be parameters or floating-point
buffers (BatchNorm's running statistics: `AveragedModel(..., use_buffers=True)` averages them too).

Tests: a small network with batch normalization trained for 12 steps, averaged by your functions and by
`AveragedModel` (default average; EMA with `get_ema_multi_avg_fn`), parameters and buffers compared after every
step, and the average compared with the mean of the stored iterates.
"""

AVERAGING_SOLUTION = """
@torch.no_grad()
def polyak_update_(averaged, current, n_averaged):
    \"\"\"Uniform running mean, in place: averaged <- averaged + (current - averaged) / (n_averaged + 1).\"\"\"
    ### BEGIN SOLUTION
    for a, theta in zip(averaged, current):
        a.add_((theta - a) / (n_averaged + 1))
    ### END SOLUTION


@torch.no_grad()
def ema_update_(averaged, current, decay):
    \"\"\"Exponential moving average, in place: averaged <- decay * averaged + (1 - decay) * current.\"\"\"
    ### BEGIN SOLUTION
    if not 0.0 <= decay <= 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in [0,1] range.")
    for a, theta in zip(averaged, current):
        a.mul_(decay).add_(theta, alpha=1 - decay)
    ### END SOLUTION
"""

AVERAGING_HELPERS = '''
# Helpers of the averaging tests: a small network with batch normalization, trained by torch.optim.SGD on a fresh
# random batch at each step, and averaged side by side by your functions and by torch.optim.swa_utils.
from torch.optim import swa_utils


def make_bn_model(seed=0):
    torch.manual_seed(seed)
    return torch.nn.Sequential(
        torch.nn.Linear(5, 8), torch.nn.BatchNorm1d(8), torch.nn.ReLU(), torch.nn.Linear(8, 3)
    ).to(DTYPE)


def float_tensors(model, use_buffers):
    """The parameters (and, with use_buffers, the floating-point buffers) of a model, detached, in order."""
    tensors = [p.detach() for p in model.parameters()]
    if use_buffers:
        tensors += [b.detach() for b in model.buffers() if b.is_floating_point()]
    return tensors


def check_averaging(update, torch_kwargs, use_buffers, steps=12, seed=0, decay=None):
    """Train a model; after every step average it with your `update` and with AveragedModel.

    `update(averaged, current, n)` with n the number of iterates averaged so far, or, when `decay` is given,
    `update(averaged, current, decay)`."""
    model = make_bn_model(seed)
    reference = swa_utils.AveragedModel(model, use_buffers=use_buffers, **torch_kwargs)
    averaged = None
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    gen = torch.Generator().manual_seed(seed + 1)
    iterates = []
    for t in range(1, steps + 1):
        x, y = torch.randn(16, 5, generator=gen, dtype=DTYPE), torch.randint(0, 3, (16,), generator=gen)
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
        current = float_tensors(model, use_buffers)
        before = [c.clone() for c in current]
        if averaged is None:
            averaged = [c.clone() for c in current]  # the first iterate is copied
        else:
            out = update(averaged, current, t - 1 if decay is None else decay)
            assert out is None, f"your function returned {type(out).__name__}; it must update in place and return None"
        assert all(torch.equal(c, b) for c, b in zip(current, before)), "your function modified `current`"
        reference.update_parameters(model)
        for i, (mine, ref) in enumerate(zip(averaged, float_tensors(reference.module, use_buffers))):
            err = (mine - ref).abs().max().item()
            assert err <= 1e-12 * (1 + ref.abs().max().item()), (
                f"step {t}, tensor {i} (shape {tuple(ref.shape)}): your average differs from AveragedModel's by {err:.2e}"
            )
        iterates.append([c.clone() for c in current])
    return averaged, iterates
'''

AVERAGING_TESTS = [
    (
        "test_polyak",
        2,
        """
        # Tests: Polyak averaging against AveragedModel (2 points)
        averaged, iterates = check_averaging(polyak_update_, {}, use_buffers=False)
        for i, a in enumerate(averaged):
            mean = torch.stack([it[i] for it in iterates]).mean(0)
            assert torch.allclose(a, mean, rtol=1e-12, atol=1e-14), f"tensor {i} is not the mean of the 12 iterates"
        ### BEGIN HIDDEN TESTS
        check_averaging(polyak_update_, {}, use_buffers=True, steps=9, seed=3)
        # a late start (SWA): the count passed in is the number averaged so far, not the step
        a = [torch.tensor([1.0, 2.0], dtype=DTYPE)]
        for n, value in enumerate([3.0, 5.0, 7.0], start=1):
            polyak_update_(a, [torch.tensor([value, value], dtype=DTYPE)], n)
        assert torch.allclose(a[0], torch.tensor([4.0, 4.25], dtype=DTYPE)), f"mean of [1,3,5,7] and [2,3,5,7]: got {a[0]}"
        ### END HIDDEN TESTS
        print("Polyak averaging: OK")
        """,
    ),
    (
        "test_ema",
        2,
        """
        # Tests: EMA of parameters and buffers against AveragedModel (2 points)
        check_averaging(ema_update_, {"multi_avg_fn": swa_utils.get_ema_multi_avg_fn(0.9)}, True, decay=0.9)
        for bad in [1.5, -0.1]:
            try:
                swa_utils.get_ema_multi_avg_fn(bad)
            except ValueError as err:
                expected = str(err)
            a = [torch.zeros(2, dtype=DTYPE)]
            try:
                ema_update_(a, [torch.ones(2, dtype=DTYPE)], bad)
            except ValueError as err:
                assert str(err) == expected, f"decay={bad}: ValueError({str(err)!r}), expected {expected!r}"
            else:
                raise AssertionError(f"ema_update_ with decay={bad} should raise ValueError({expected!r})")
            assert torch.equal(a[0], torch.zeros(2, dtype=DTYPE)), f"decay={bad}: the average changed before the error"
        ### BEGIN HIDDEN TESTS
        for decay, use_buffers in [(0.0, True), (1.0, True), (0.5, False), (0.99, True)]:
            multi_avg_fn = swa_utils.get_ema_multi_avg_fn(decay)
            check_averaging(ema_update_, {"multi_avg_fn": multi_avg_fn}, use_buffers, seed=5, decay=decay)
        ### END HIDDEN TESTS
        print("EMA: OK")
        """,
    ),
]

INIT_SPEC = r"""
## 3. Glorot and He initialization (4 points)

A weight of shape `(out, in, *kernel)` has $\mathrm{fan}_{\mathrm{in}} = \mathrm{in} \cdot \prod \mathrm{kernel}$ and
$\mathrm{fan}_{\mathrm{out}} = \mathrm{out} \cdot \prod \mathrm{kernel}$ (a linear layer has no kernel dimensions).
Glorot & Bengio (2010) and He et al. (2015) choose the standard deviation $\mathrm{std}$ of the weights so that the
variance of the signal neither shrinks nor grows from layer to layer:

$$
\text{Glorot: } \mathrm{std} = \text{gain}\sqrt{\frac{2}{\mathrm{fan}_{\mathrm{in}} + \mathrm{fan}_{\mathrm{out}}}},
\qquad
\text{He: } \mathrm{std} = \frac{\text{gain}}{\sqrt{\mathrm{fan}}},\quad
\mathrm{fan} = \mathrm{fan}_{\mathrm{in}} \text{ (mode "fan_in") or } \mathrm{fan}_{\mathrm{out}} \text{ ("fan_out")},
$$

drawn from $\mathcal N(0, \mathrm{std}^2)$ (`*_normal`) or from the uniform distribution on $[-a, a]$ with
$a = \sqrt{3}\,\mathrm{std}$, which has the same variance (`*_uniform`). He's gain depends on the nonlinearity:
$\sqrt2$ for `"relu"`, $\sqrt{2/(1 + a_{\text{neg}}^2)}$ for `"leaky_relu"` with negative slope
$a_{\text{neg}}$ = `a`, $1$ for `"linear"`, $5/3$ for `"tanh"`.

Specification (`torch.nn.init`'s conventions):

* `glorot_uniform(shape, gain=1.0, generator=None)` and `glorot_normal(shape, gain=1.0, generator=None)`,
  `he_uniform(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None)` and
  `he_normal(...)` (same arguments) return a new float32 tensor of the given shape (a tuple of ints);
* draw with `tensor.uniform_(-bound, bound, generator=generator)` or `tensor.normal_(0.0, std,
  generator=generator)` on a new tensor, so that from the same `torch.Generator` state you get the tensors of
  `torch.nn.init.xavier_uniform_` / `xavier_normal_` / `kaiming_uniform_` / `kaiming_normal_`;
* a shape with fewer than 2 dimensions raises `ValueError("Fan in and fan out can not be computed for tensor with
  fewer than 2 dimensions")`.
"""

INIT_SOLUTION = """
def fans(shape):
    \"\"\"(fan_in, fan_out) of a weight of shape (out, in, *kernel).\"\"\"
    ### BEGIN SOLUTION
    if len(shape) < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions")
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive
    ### END SOLUTION


def glorot_uniform(shape, gain=1.0, generator=None):
    ### BEGIN SOLUTION
    fan_in, fan_out = fans(shape)
    bound = math.sqrt(3.0) * gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return torch.empty(shape).uniform_(-bound, bound, generator=generator)
    ### END SOLUTION


def glorot_normal(shape, gain=1.0, generator=None):
    ### BEGIN SOLUTION
    fan_in, fan_out = fans(shape)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return torch.empty(shape).normal_(0.0, std, generator=generator)
    ### END SOLUTION


def he_std(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu"):
    \"\"\"The standard deviation gain / sqrt(fan) of He's initialization.\"\"\"
    ### BEGIN SOLUTION
    fan_in, fan_out = fans(shape)
    fan = fan_in if mode == "fan_in" else fan_out
    gain = {
        "linear": 1.0,
        "relu": math.sqrt(2.0),
        "leaky_relu": math.sqrt(2.0 / (1 + a**2)),
        "tanh": 5.0 / 3,
    }[nonlinearity]
    return gain / math.sqrt(fan)
    ### END SOLUTION


def he_uniform(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    ### BEGIN SOLUTION
    bound = math.sqrt(3.0) * he_std(shape, a, mode, nonlinearity)
    return torch.empty(shape).uniform_(-bound, bound, generator=generator)
    ### END SOLUTION


def he_normal(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    ### BEGIN SOLUTION
    return torch.empty(shape).normal_(0.0, he_std(shape, a, mode, nonlinearity), generator=generator)
    ### END SOLUTION
"""

INIT_HELPERS = """
# Helper of the initializer tests: your tensor and torch.nn.init's, drawn from two generators in the same state.
def check_init(mine, theirs, shape, seed, **kwargs):
    got = mine(shape, generator=torch.Generator().manual_seed(seed), **kwargs)
    want = theirs(torch.empty(shape), generator=torch.Generator().manual_seed(seed), **kwargs)
    what = f"{mine.__name__}{shape} with {kwargs or 'the defaults'}"
    assert isinstance(got, torch.Tensor), f"{what}: returned {type(got).__name__}, not a tensor"
    assert got.shape == want.shape and got.dtype == want.dtype, (
        f"{what}: shape {tuple(got.shape)} {got.dtype}, expected {tuple(want.shape)} {want.dtype}"
    )
    err = (got - want).abs().max().item()
    assert err <= 1e-6 * want.abs().max().item(), f"{what}: differs from torch.nn.init.{theirs.__name__} by {err:.2e}"


def check_fan_error(fn):
    try:
        fn((5,))
    except ValueError as err:
        assert "fewer than 2 dimensions" in str(err), f"{fn.__name__}((5,)): ValueError({str(err)!r})"
    else:
        raise AssertionError(f"{fn.__name__}((5,)) should raise ValueError (a 1-D shape has no fan-out)")
"""

INIT_TESTS = [
    (
        "test_glorot",
        2,
        """
        # Tests: Glorot initialization against torch.nn.init.xavier_* (2 points)
        from torch.nn import init

        check_init(glorot_uniform, init.xavier_uniform_, (7, 5), seed=0)
        check_init(glorot_normal, init.xavier_normal_, (64, 32, 3, 3), seed=1, gain=5 / 3)
        check_fan_error(glorot_uniform)
        ### BEGIN HIDDEN TESTS
        for shape, gain, seed in [((128, 64), 1.0, 2), ((16, 3, 5, 5), 0.5, 3), ((4, 6, 2), 2.0, 4), ((1, 1), 1.0, 5)]:
            check_init(glorot_uniform, init.xavier_uniform_, shape, seed, gain=gain)
            check_init(glorot_normal, init.xavier_normal_, shape, seed, gain=gain)
        check_fan_error(glorot_normal)
        w = glorot_normal((400, 300), generator=torch.Generator().manual_seed(9))
        assert abs(w.std().item() / math.sqrt(2 / 700) - 1) < 0.02, "glorot_normal's spread is not sqrt(2/(fan_in+fan_out))"
        ### END HIDDEN TESTS
        print("Glorot: OK")
        """,
    ),
    (
        "test_he",
        2,
        """
        # Tests: He initialization against torch.nn.init.kaiming_* (2 points)
        from torch.nn import init

        check_init(he_uniform, init.kaiming_uniform_, (7, 5), seed=0)
        check_init(he_normal, init.kaiming_normal_, (64, 32, 3, 3), seed=1, nonlinearity="relu")
        check_fan_error(he_normal)
        ### BEGIN HIDDEN TESTS
        cases = [
            {"mode": "fan_out", "nonlinearity": "relu"},
            {"a": 0.2, "nonlinearity": "leaky_relu"},
            {"a": 0.1, "mode": "fan_out"},
            {"nonlinearity": "linear"},
            {"nonlinearity": "tanh", "mode": "fan_out"},
        ]
        for i, kwargs in enumerate(cases):
            for shape in [(128, 64), (16, 3, 5, 5), (4, 6, 2)]:
                check_init(he_uniform, init.kaiming_uniform_, shape, 10 + i, **kwargs)
                check_init(he_normal, init.kaiming_normal_, shape, 20 + i, **kwargs)
        w = he_normal((400, 300), nonlinearity="relu", generator=torch.Generator().manual_seed(9))
        assert abs(w.std().item() / math.sqrt(2 / 300) - 1) < 0.02, "he_normal's spread is not sqrt(2/fan_in) for ReLU"
        ### END HIDDEN TESTS
        print("He: OK")
        """,
    ),
]


def cells() -> list:
    """All cells of the a6 notebook, in order."""
    out = [md(INTRO), locked_code("setup", SETUP)]
    out += [
        md(TWO_LOOP_SPEC),
        solution("two_loop", TWO_LOOP_SOLUTION),
        locked_code("lbfgs_helpers", LBFGS_HELPERS),
    ]
    out += [tests(gid, pts, code) for gid, pts, code in TWO_LOOP_TESTS]
    out += [
        md(AVERAGING_SPEC),
        solution("averaging", AVERAGING_SOLUTION),
        locked_code("averaging_helpers", AVERAGING_HELPERS),
    ]
    out += [tests(gid, pts, code) for gid, pts, code in AVERAGING_TESTS]
    out += [md(INIT_SPEC), solution("initializers", INIT_SOLUTION), locked_code("init_helpers", INIT_HELPERS)]
    out += [tests(gid, pts, code) for gid, pts, code in INIT_TESTS]
    return out


def build():
    """The a6 notebook."""
    return notebook(cells())
