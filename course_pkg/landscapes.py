"""Two-dimensional test functions with analytic gradients, usable from numpy and torch.

Every landscape is a :class:`Landscape`: ``value(θ)`` and ``gradient(θ)`` take an array or tensor ``θ`` of
shape ``(..., 2)`` (numpy array or torch tensor; the result has the same type, dtype and device), and carry
their known minima, saddle points, a sensible plotting window and a starting point for demonstrations.

>>> from course_pkg.landscapes import rosenbrock
>>> import numpy as np
>>> rb = rosenbrock()
>>> float(rb.value(np.array([1.0, 1.0])))
0.0

Factories: :func:`quadratic` (ill-conditioned, optionally rotated), :func:`rosenbrock`, :func:`beale`,
:func:`saddle`, :func:`himmelblau`, :func:`cliff`; :data:`LANDSCAPES` maps their names to them.
:func:`gradient_descent` runs plain (optionally clipped, optionally noisy) gradient descent from any gradient
function and returns its path.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "LANDSCAPES",
    "Landscape",
    "beale",
    "cliff",
    "gradient_descent",
    "himmelblau",
    "quadratic",
    "rosenbrock",
    "saddle",
]


def _is_torch(x: Any) -> bool:
    return type(x).__module__.startswith("torch")


def _stack(a: Any, b: Any, like: Any) -> Any:
    if _is_torch(like):
        import torch

        return torch.stack([a, b], dim=-1)
    return np.stack([a, b], axis=-1)


def _softplus(z: Any) -> Any:
    """log(1 + e^z), numerically stable, for numpy arrays and torch tensors."""
    if _is_torch(z):
        import torch

        return torch.logaddexp(torch.zeros_like(z), z)
    return np.logaddexp(0.0, z)


def _sigmoid(z: Any) -> Any:
    if _is_torch(z):
        import torch

        return torch.sigmoid(z)
    return 0.5 * (1.0 + np.tanh(0.5 * z))


@dataclass(frozen=True)
class Landscape:
    """A 2-D loss surface ``L(θ)``, θ = (x, y), with its analytic gradient.

    Attributes
    ----------
    name : str
        Short identifier (a key of :data:`LANDSCAPES`).
    title : str
        Formula or description for figure titles.
    window : tuple of float
        Plotting window ``(x_min, x_max, y_min, y_max)``.
    minima : numpy.ndarray
        ``(k, 2)`` known minimizers (global and local).
    saddles : numpy.ndarray
        ``(s, 2)`` known saddle points (may be empty).
    start : tuple of float
        A starting point that shows the landscape's difficulty.
    hessian : numpy.ndarray or None
        The constant Hessian of a quadratic, else ``None``.
    """

    name: str
    title: str
    _value: Callable[[Any, Any], Any] = field(repr=False)
    _grad: Callable[[Any, Any], tuple[Any, Any]] = field(repr=False)
    window: tuple[float, float, float, float]
    minima: np.ndarray = field(repr=False)
    saddles: np.ndarray = field(repr=False)
    start: tuple[float, float]
    hessian: np.ndarray | None = field(default=None, repr=False)

    @staticmethod
    def _split(theta: Any) -> tuple[Any, Any]:
        if theta.shape[-1:] != (2,):
            raise ValueError(f"θ must have shape (..., 2), got {tuple(theta.shape)}")
        return theta[..., 0], theta[..., 1]

    def value(self, theta: Any) -> Any:
        """The loss ``L(θ)``.

        Parameters
        ----------
        theta : numpy.ndarray or torch.Tensor
            Points of shape ``(..., 2)``.

        Returns
        -------
        numpy.ndarray or torch.Tensor
            Shape ``(...)``, same type as ``theta``; differentiable by torch.autograd for tensors.
        """
        if not _is_torch(theta):
            theta = np.asarray(theta, dtype=float)
        return self._value(*self._split(theta))

    def gradient(self, theta: Any) -> Any:
        """The analytic gradient ``∇L(θ)``.

        Parameters
        ----------
        theta : numpy.ndarray or torch.Tensor
            Points of shape ``(..., 2)``.

        Returns
        -------
        numpy.ndarray or torch.Tensor
            Shape ``(..., 2)``, same type as ``theta``.
        """
        if not _is_torch(theta):
            theta = np.asarray(theta, dtype=float)
        gx, gy = self._grad(*self._split(theta))
        return _stack(gx, gy, theta)

    __call__ = value

    def grid(self, n: int = 200) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The loss on an ``n × n`` grid over :attr:`window` (for contour plots).

        Parameters
        ----------
        n : int
            Points per axis.

        Returns
        -------
        X, Y, Z : numpy.ndarray
            Meshgrid coordinates and loss values, each ``(n, n)``.
        """
        if n < 2:
            raise ValueError(f"grid needs n >= 2, got {n}")
        x0, x1, y0, y1 = self.window
        X, Y = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
        return X, Y, self._value(X, Y)


def quadratic(kappa: float = 10.0, angle: float = 0.0, mu: float = 1.0) -> Landscape:
    """Ill-conditioned quadratic ``L(θ) = ½ θᵀ H θ`` with eigenvalues ``μ`` and ``κμ``.

    Parameters
    ----------
    kappa : float
        Condition number κ = λ_max / λ_min ≥ 1.
    angle : float
        Rotation of the eigenvectors, in radians (0: axis-aligned, the steep direction is y).
    mu : float
        Smallest eigenvalue μ > 0 (the largest is the smoothness constant ``κμ``).

    Returns
    -------
    Landscape
        Minimum at the origin; :attr:`Landscape.hessian` holds ``H``.
    """
    if not kappa >= 1:
        raise ValueError(f"quadratic needs kappa >= 1, got {kappa}")
    if not mu > 0:
        raise ValueError(f"quadratic needs mu > 0, got {mu}")
    c, s = math.cos(angle), math.sin(angle)
    R = np.array([[c, -s], [s, c]])
    H = R @ np.diag([mu, kappa * mu]) @ R.T
    a, b, d = float(H[0, 0]), float(H[0, 1]), float(H[1, 1])

    def value(x: Any, y: Any) -> Any:
        return 0.5 * (a * x * x + 2.0 * b * x * y + d * y * y)

    def grad(x: Any, y: Any) -> tuple[Any, Any]:
        return a * x + b * y, b * x + d * y

    return Landscape(
        name="quadratic",
        title=f"quadratic, κ = {kappa:g}",
        _value=value,
        _grad=grad,
        window=(-2.0, 2.0, -1.5, 1.5),
        minima=np.zeros((1, 2)),
        saddles=np.zeros((0, 2)),
        start=(-1.8, 1.2),
        hessian=H,
    )


def rosenbrock(a: float = 1.0, b: float = 100.0) -> Landscape:
    """Rosenbrock's banana valley ``L = (a − x)² + b (y − x²)²``; minimum ``(a, a²)``."""

    def value(x: Any, y: Any) -> Any:
        return (a - x) ** 2 + b * (y - x * x) ** 2

    def grad(x: Any, y: Any) -> tuple[Any, Any]:
        r = y - x * x
        return -2.0 * (a - x) - 4.0 * b * x * r, 2.0 * b * r

    return Landscape(
        name="rosenbrock",
        title="Rosenbrock (a − x)² + b (y − x²)²",
        _value=value,
        _grad=grad,
        window=(-2.0, 2.0, -1.0, 3.0),
        minima=np.array([[a, a * a]]),
        saddles=np.zeros((0, 2)),
        start=(-1.5, 2.0),
    )


def beale() -> Landscape:
    """Beale's function ``Σᵢ (cᵢ − x + x yⁱ)²`` with c = (1.5, 2.25, 2.625); minimum ``(3, 0.5)``."""
    cs = (1.5, 2.25, 2.625)

    def value(x: Any, y: Any) -> Any:
        return sum((c - x + x * y ** (i + 1)) ** 2 for i, c in enumerate(cs))

    def grad(x: Any, y: Any) -> tuple[Any, Any]:
        gx = 0.0
        gy = 0.0
        for i, c in enumerate(cs):
            k = i + 1
            r = c - x + x * y**k
            gx = gx + 2.0 * r * (y**k - 1.0)
            gy = gy + 2.0 * r * k * x * y ** (k - 1)
        return gx, gy

    return Landscape(
        name="beale",
        title="Beale",
        _value=value,
        _grad=grad,
        window=(-4.5, 4.5, -4.5, 4.5),
        minima=np.array([[3.0, 0.5]]),
        saddles=np.array([[0.0, 1.0]]),
        start=(1.0, 1.5),
    )


def saddle() -> Landscape:
    """A saddle between two minima: ``L = ½ x² + ¼ y⁴ − ½ y²``.

    The origin is a saddle point (curvature +1 along x, −1 along y); the minima are ``(0, ±1)`` with
    ``L = −¼``. Gradient descent started exactly on the x-axis converges to the saddle; any perturbation in
    y grows like ``(1 + η)ᵗ`` and escapes.
    """

    def value(x: Any, y: Any) -> Any:
        return 0.5 * x * x + 0.25 * y**4 - 0.5 * y * y

    def grad(x: Any, y: Any) -> tuple[Any, Any]:
        return x * 1.0, y**3 - y

    return Landscape(
        name="saddle",
        title="saddle ½x² + ¼y⁴ − ½y²",
        _value=value,
        _grad=grad,
        window=(-2.0, 2.0, -1.6, 1.6),
        minima=np.array([[0.0, 1.0], [0.0, -1.0]]),
        saddles=np.array([[0.0, 0.0]]),
        start=(-1.8, 0.0),
    )


def himmelblau() -> Landscape:
    """Himmelblau's function ``L = (x² + y − 11)² + (x + y² − 7)²``: four global minima (L = 0)."""

    def value(x: Any, y: Any) -> Any:
        return (x * x + y - 11.0) ** 2 + (x + y * y - 7.0) ** 2

    def grad(x: Any, y: Any) -> tuple[Any, Any]:
        u = x * x + y - 11.0
        v = x + y * y - 7.0
        return 4.0 * x * u + 2.0 * v, 2.0 * u + 4.0 * y * v

    return Landscape(
        name="himmelblau",
        title="Himmelblau (x² + y − 11)² + (x + y² − 7)²",
        _value=value,
        _grad=grad,
        window=(-5.0, 5.0, -5.0, 5.0),
        minima=np.array(
            [
                [3.0, 2.0],
                [-2.805118086952745, 3.131312518250573],
                [-3.779310253377747, -3.283185991286170],
                [3.584428340330492, -1.848126526964404],
            ]
        ),
        saddles=np.zeros((0, 2)),
        start=(0.0, 0.0),
    )


def cliff(height: float = 40.0, sharpness: float = 10.0, wall: float = 2.0, slope: float = 0.5) -> Landscape:
    """A gentle slope that ends at a steep wall (the "cliff" of recurrent networks' losses).

    ``L(x, y) = −s x + ½ y² + (h / k) · softplus(k (x − c))``: walking towards +x the loss decreases with slope
    ``s`` until the wall at ``x ≈ c``, where the slope jumps to ``h − s``. The minimum sits at the foot of the
    wall, ``x* = c + logit(s / h) / k``, ``y* = 0``. A gradient step taken on the wall is ``h / s`` times longer
    than one on the slope and throws θ far back: the exploding gradient that clipping tames.

    Parameters
    ----------
    height : float
        Steepness ``h`` of the wall (its gradient), ``h > slope``.
    sharpness : float
        ``k``: how abruptly the slope turns into the wall.
    wall : float
        Position ``c`` of the wall.
    slope : float
        Slope ``s > 0`` of the approach.
    """
    if not height > slope > 0:
        raise ValueError(f"cliff needs height > slope > 0, got height={height}, slope={slope}")
    if not sharpness > 0:
        raise ValueError(f"cliff needs sharpness > 0, got {sharpness}")
    h, k, c, s = float(height), float(sharpness), float(wall), float(slope)
    x_star = c + math.log((s / h) / (1.0 - s / h)) / k

    def value(x: Any, y: Any) -> Any:
        return -s * x + 0.5 * y * y + (h / k) * _softplus(k * (x - c))

    def grad(x: Any, y: Any) -> tuple[Any, Any]:
        return -s + h * _sigmoid(k * (x - c)), y * 1.0

    return Landscape(
        name="cliff",
        title="cliff: a gentle slope ending at a steep wall",
        _value=value,
        _grad=grad,
        window=(-3.0, 3.0, -1.5, 1.5),
        minima=np.array([[x_star, 0.0]]),
        saddles=np.zeros((0, 2)),
        start=(-2.5, 1.0),
    )


#: Every landscape factory by name.
LANDSCAPES: dict[str, Callable[..., Landscape]] = {
    "quadratic": quadratic,
    "rosenbrock": rosenbrock,
    "beale": beale,
    "saddle": saddle,
    "himmelblau": himmelblau,
    "cliff": cliff,
}


def gradient_descent(
    grad: Any,
    theta0: np.ndarray,
    lr: float,
    steps: int,
    clip: float | None = None,
    noise: float = 0.0,
    seed: int = 0,
) -> np.ndarray:
    """Run ``θ_t = θ_{t−1} − η ĝ_t`` and return the path.

    ``ĝ_t`` is the gradient ``g_t = ∇L(θ_{t−1})``, plus Gaussian noise of standard deviation ``noise`` per
    coordinate, rescaled to norm ``clip`` when its norm exceeds ``clip`` (clipping by norm, as
    :func:`torch.nn.utils.clip_grad_norm_`).

    Parameters
    ----------
    grad : callable
        ``grad(θ) -> g`` for ``θ`` of shape ``(2,)``.
    theta0 : numpy.ndarray
        Starting point θ₀.
    lr : float
        Learning rate η > 0.
    steps : int
        Number of steps T.
    clip : float, optional
        Clipping threshold; ``None`` for no clipping.
    noise : float
        Standard deviation of the gradient noise.
    seed : int
        Seed of the noise.

    Returns
    -------
    numpy.ndarray
        ``(T + 1, 2)`` path θ₀ … θ_T; once a coordinate overflows the rest of the path is ``inf``.
    """
    if not lr > 0:
        raise ValueError(f"Invalid learning rate: {lr}")
    if clip is not None and not clip > 0:
        raise ValueError(f"clipping threshold must be > 0, got {clip}")
    rng = np.random.default_rng(seed)
    path = np.empty((steps + 1, len(theta0)))
    path[0] = theta = np.asarray(theta0, dtype=float)
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(1, steps + 1):
            g = grad(theta)
            if noise:
                g = g + noise * rng.standard_normal(g.shape)
            if clip is not None:
                norm = float(np.linalg.norm(g))
                if norm > clip:
                    g = g * (clip / norm)
            theta = theta - lr * g
            if not np.all(np.isfinite(theta)) or np.abs(theta).max() > 1e150:
                path[t:] = np.inf
                break
            path[t] = theta
    return path
