"""Learning theory: empirical risk minimization, surrogate losses, cross-validation, bias-variance, trees and
ensembles.

The public names are re-exported here: ``from course_pkg.learning import kfold_indices``.
"""

from course_pkg.learning.bias_variance import (
    BiasVarianceResult,
    bias_variance_decomposition,
    decomposition_of_rounds,
)
from course_pkg.learning.cv import (
    CVCurve,
    NestedCV,
    cross_val_curve,
    cross_val_score,
    holdout_indices,
    kfold_indices,
    nested_cross_val_score,
)
from course_pkg.learning.ensembles import (
    AdaBoost,
    Bagging,
    BootstrapEstimate,
    GradientBoosting,
    bootstrap_estimate,
    bootstrap_indices,
)
from course_pkg.learning.erm import (
    EarlyStopping,
    RiskCurves,
    early_stopping,
    empirical_risk,
    fit_polynomial,
    gradient_descent_least_squares,
    mean_squared_error,
    minibatch_means,
    minibatch_standard_error,
    polynomial_features,
    polynomial_risk_curves,
    predict_polynomial,
    standard_error,
)
from course_pkg.learning.losses import (
    MARGIN_LOSSES,
    MarginLoss,
    bayes_margin,
    conditional_risk,
    error_rate,
    fit_linear_classifier,
)
from course_pkg.learning.trees import DecisionStump, DecisionTree

__all__ = [
    "AdaBoost",
    "Bagging",
    "BiasVarianceResult",
    "BootstrapEstimate",
    "DecisionStump",
    "DecisionTree",
    "GradientBoosting",
    "bias_variance_decomposition",
    "decomposition_of_rounds",
    "bootstrap_estimate",
    "bootstrap_indices",
    "MARGIN_LOSSES",
    "CVCurve",
    "EarlyStopping",
    "MarginLoss",
    "NestedCV",
    "RiskCurves",
    "bayes_margin",
    "conditional_risk",
    "cross_val_curve",
    "cross_val_score",
    "early_stopping",
    "empirical_risk",
    "error_rate",
    "fit_linear_classifier",
    "fit_polynomial",
    "gradient_descent_least_squares",
    "holdout_indices",
    "kfold_indices",
    "mean_squared_error",
    "minibatch_means",
    "minibatch_standard_error",
    "nested_cross_val_score",
    "polynomial_features",
    "polynomial_risk_curves",
    "predict_polynomial",
    "standard_error",
]
