"""Is one forecaster better than another on the same windows? The Diebold-Mariano test
(Diebold & Mariano 1995) with the small-sample correction of Harvey, Leybourne & Newbold
(1997), for the overlapping windows of a split."""

import math

import numpy as np
import tensorflow as tf


def student_t_below(statistic, df):
    """P(T <= statistic) for Student's t with ``df`` degrees of freedom."""
    a, b, x = (tf.constant(v, tf.float64) for v in (df / 2, 0.5, df / (df + statistic ** 2)))
    tail = 0.5 * float(tf.math.betainc(a, b, x))
    return tail if statistic < 0 else 1.0 - tail


def diebold_mariano(loss_a, loss_b, horizon):
    """One-sided test that forecaster A has a lower expected loss than B.

    The loss differences of windows that overlap are correlated: their variance is
    estimated with the autocovariances up to lag ``horizon - 1`` (an h-step forecast's
    errors are at most MA(h - 1)), and the statistic is compared with Student's t on
    ``windows - 1`` degrees of freedom, both as Harvey et al. (1997) propose.

    Args:
        loss_a, loss_b: (windows,) the loss of each window, in time order, stride 1.
        horizon: forecast steps per window.

    Returns:
        {"windows", "mean_difference" (A minus B), "statistic", "p_value"}: a small
        p_value says that A is better. With no more windows than ``horizon`` or no
        positive variance estimate, statistic is None, p_value 1.0 and "reason" says why.
    """
    difference = np.asarray(loss_a, np.float64) - np.asarray(loss_b, np.float64)
    n = len(difference)
    found = {"windows": n, "mean_difference": float(difference.mean()) if n else 0.0,
             "statistic": None, "p_value": 1.0}
    # (n - h)(n - h + 1) / n^2: positive, as it must be, once there are more windows than steps
    correction = (n + 1 - 2 * horizon + horizon * (horizon - 1) / n) / n if n > 1 else 0.0
    if n <= horizon or correction <= 0:
        return dict(found, reason="too few windows for the test")
    centred = difference - difference.mean()
    lags = range(1, min(horizon, n))
    variance = (centred @ centred + 2 * sum(centred[k:] @ centred[:-k] for k in lags)) / n
    if variance <= 1e-12 * max(1.0, float(np.mean(np.square(difference)))):
        return dict(found, reason="no positive variance estimate of the difference")
    statistic = difference.mean() / math.sqrt(variance / n) * math.sqrt(correction)
    found.update(statistic=float(statistic), p_value=student_t_below(statistic, n - 1))
    return found
