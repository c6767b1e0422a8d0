"""Forecast distributions: a likelihood per step (DeepAR, Salinas et al. 2020) or a set of
quantiles (quantile regression), each as the parameters of every (step, target).

A head writes ``P`` raw numbers per (step, target) on the scaled axis; the first is the
location (the highway and the window's statistic are added to it). A `Distribution`
constrains them (a positive scale, increasing quantiles), moves them to the original
scale, scores a target under them and reads off means and quantiles, all with core
TensorFlow ops so that the export keeps them.
"""

import math

import keras
import numpy as np
import tensorflow as tf

from rnn_pipeline import choices
from rnn_pipeline.errors import pipeline_error

DISTRIBUTIONS = choices.DISTRIBUTIONS
MIN_SCALE = 1e-3  # on the scaled axis: a floor that keeps the likelihood finite


def check_quantiles(quantiles, argument="quantiles"):
    """``quantiles`` as a list of floats: at least one, each in (0, 1), increasing."""
    levels = [float(q) for q in quantiles]
    if not levels or any(not 0.0 < q < 1.0 for q in levels) or any(
            b <= a for a, b in zip(levels, levels[1:])):
        raise pipeline_error(argument, "must be strictly increasing levels in (0, 1), at "
                             "least one", list(quantiles))
    return levels


def normal_cdf(z):
    """The standard normal CDF."""
    return 0.5 * tf.math.erfc(-z / math.sqrt(2.0))


def pinball(error, level):
    """The quantile (pinball) loss of ``error = actual - quantile`` at ``level``."""
    return tf.maximum(level * error, (level - 1.0) * error)


class Distribution:
    """The parameters of one distribution family, on the last axis (..., P).

    Args:
        quantiles: the levels that `quantiles` reports (and, for "quantile", that the
            head predicts).
    """

    num_params = 1

    def __init__(self, quantiles):
        self.levels = check_quantiles(quantiles)

    def constrain(self, raw):
        """Raw head outputs (..., P) -> parameters on the same (scaled) axis."""
        return raw

    def rescale(self, params, mean, std):
        """Parameters of the scaled axis -> the original one (``x * std + mean``)."""
        return tf.concat([params[..., :1] * std[..., None] + mean[..., None],
                          params[..., 1:2] * std[..., None], params[..., 2:]], axis=-1)

    def nll(self, actual, params):
        """The training loss of each ``actual`` value (...,) under ``params`` (..., P),
        both on the scaled axis."""
        raise NotImplementedError

    def mean(self, params):
        return params[..., 0]

    def quantile(self, params, level):
        """The ``level`` quantile (...,), or None when the family cannot tell it."""
        raise NotImplementedError

    def crps(self, params, actual):
        """The continuous ranked probability score of each ``actual`` (...,), on the axis
        of ``params``: the mean absolute error of a point forecast, generalised."""
        raise NotImplementedError

    def covered(self, params, actual, share):
        """Whether each ``actual`` lies in the central ``share`` interval (bool, ...),
        or None when the family has no such interval."""
        cdf = self.cdf(params, actual)
        return tf.abs(cdf - 0.5) <= share / 2


@DISTRIBUTIONS.register("none")
class Point(Distribution):
    """A point forecast: the `Forecaster` then has no distribution layer and trains on
    the squared error (`ScaledMSE`); its CRPS is its absolute error."""


@DISTRIBUTIONS.register("gaussian")
class Gaussian(Distribution):
    """Normal(loc, scale): parameters (loc, scale)."""

    num_params = 2

    def constrain(self, raw):
        return tf.stack([raw[..., 0], tf.nn.softplus(raw[..., 1]) + MIN_SCALE], axis=-1)

    def nll(self, actual, params):
        z = (actual - params[..., 0]) / params[..., 1]
        return 0.5 * math.log(2 * math.pi) + tf.math.log(params[..., 1]) + 0.5 * tf.square(z)

    def quantile(self, params, level):
        return params[..., 0] + params[..., 1] * tf.math.ndtri(tf.constant(level, params.dtype))

    def cdf(self, params, actual):
        return normal_cdf((actual - params[..., 0]) / params[..., 1])

    def crps(self, params, actual):
        """Closed form (Gneiting & Raftery 2007): sigma (z (2 Phi(z) - 1) + 2 phi(z) -
        1 / sqrt(pi))."""
        scale = params[..., 1]
        z = (actual - params[..., 0]) / scale
        density = tf.exp(-0.5 * tf.square(z)) / math.sqrt(2 * math.pi)
        return scale * (z * (2 * normal_cdf(z) - 1) + 2 * density - 1 / math.sqrt(math.pi))


@DISTRIBUTIONS.register("student_t")
class StudentT(Distribution):
    """Student's t(df, loc, scale) with df > 2 (a finite variance): heavy tails for spikes.
    Parameters (loc, scale, df)."""

    num_params = 3

    def constrain(self, raw):
        return tf.stack([raw[..., 0], tf.nn.softplus(raw[..., 1]) + MIN_SCALE,
                         2.0 + tf.nn.softplus(raw[..., 2])], axis=-1)

    def nll(self, actual, params):
        loc, scale, df = params[..., 0], params[..., 1], params[..., 2]
        z = (actual - loc) / scale
        return (tf.math.lgamma(df / 2) - tf.math.lgamma((df + 1) / 2)
                + 0.5 * tf.math.log(df * math.pi) + tf.math.log(scale)
                + (df + 1) / 2 * tf.math.log1p(tf.square(z) / df))

    def quantile(self, params, level):
        return params[..., 0] + params[..., 1] * student_t_quantile(params[..., 2], level)

    def cdf(self, params, actual):
        return student_t_cdf((actual - params[..., 0]) / params[..., 1], params[..., 2])

    def crps(self, params, actual):
        """Closed form for df > 1 (Jordan, Krueger & Lerch 2019): sigma (z (2 F(z) - 1) +
        2 f(z) (df + z^2) / (df - 1) - 2 sqrt(df) B(1/2, df - 1/2) /
        ((df - 1) B(1/2, df/2)^2))."""
        scale, df = params[..., 1], params[..., 2]
        z = (actual - params[..., 0]) / scale
        log_density = (tf.math.lgamma((df + 1) / 2) - tf.math.lgamma(df / 2)
                       - 0.5 * tf.math.log(df * math.pi)
                       - (df + 1) / 2 * tf.math.log1p(tf.square(z) / df))
        half = tf.constant(0.5, df.dtype)
        constant = 2 * tf.sqrt(df) * tf.exp(log_beta(half, df - 0.5) - 2 * log_beta(half, df / 2))
        return scale * (z * (2 * student_t_cdf(z, df) - 1)
                        + 2 * tf.exp(log_density) * (df + tf.square(z)) / (df - 1)
                        - constant / (df - 1))


def log_beta(a, b):
    return tf.math.lgamma(a) + tf.math.lgamma(b) - tf.math.lgamma(a + b)


def student_t_cdf(z, df):
    """P(T <= z) of the standard t with ``df`` degrees of freedom."""
    tail = 0.5 * tf.math.betainc(df / 2, tf.fill(tf.shape(df), tf.constant(0.5, df.dtype)),
                                 df / (df + tf.square(z)))  # P(T > |z|)
    return tf.where(z >= 0, 1.0 - tail, tail)


def student_t_quantile(df, level, iterations=60):
    """The standard t quantile at ``level`` for every ``df`` (a tensor), by bisection on
    the regularised incomplete beta function (core TF: the export keeps it).

    For x > 0, P(T > x) = I_z(df / 2, 1 / 2) / 2 with z = df / (df + x^2); z is found in
    (0, 1) to 2^-iterations, then x = sqrt(df (1 - z) / z).
    """
    if level == 0.5:
        return tf.zeros_like(df)
    tail = 2.0 * (1.0 - max(level, 1.0 - level))  # I_z(df/2, 1/2) at the answer
    low, high = tf.zeros_like(df), tf.ones_like(df)
    for _ in range(iterations):
        middle = (low + high) / 2
        above = tf.math.betainc(df / 2, tf.fill(tf.shape(df), tf.constant(0.5, df.dtype)),
                                middle) > tail
        low, high = tf.where(above, low, middle), tf.where(above, middle, high)
    z = (low + high) / 2
    x = tf.sqrt(df * (1.0 - z) / z)
    return x if level > 0.5 else -x


@DISTRIBUTIONS.register("quantile")
class Quantiles(Distribution):
    """The quantiles at ``levels`` themselves, trained with the pinball loss. The first
    raw output is the quantile nearest 0.5 (the anchor); the others are positive gaps
    (softplus) stacked above and below it, so the quantiles never cross."""

    def __init__(self, quantiles):
        super().__init__(quantiles)
        self.num_params = len(self.levels)
        self.anchor = int(np.argmin([abs(q - 0.5) for q in self.levels]))

    def constrain(self, raw):
        k = self.anchor
        anchor = raw[..., :1]
        gaps = tf.nn.softplus(raw[..., 1:])  # (..., Q - 1)
        below = anchor - tf.reverse(tf.cumsum(tf.reverse(gaps[..., :k], [-1]), axis=-1), [-1])
        above = anchor + tf.cumsum(gaps[..., k:], axis=-1)
        return tf.concat([below, anchor, above], axis=-1)  # (..., Q) in level order

    def rescale(self, params, mean, std):
        return params * std[..., None] + mean[..., None]

    def nll(self, actual, params):
        levels = tf.constant(self.levels, params.dtype)
        return tf.reduce_mean(pinball(actual[..., None] - params, levels), axis=-1)

    def mean(self, params):
        """The anchor quantile (the median when 0.5 is a level): the point forecast."""
        return params[..., self.anchor]

    def quantile(self, params, level):
        for i, known in enumerate(self.levels):
            if abs(known - level) < 1e-9:
                return params[..., i]
        return None

    def crps(self, params, actual):
        """Twice the mean pinball loss over the levels: CRPS read on these quantiles
        only (exact as the levels fill (0, 1) evenly; coarse with three)."""
        return 2.0 * self.nll(actual, params)

    def covered(self, params, actual, share):
        lower, upper = self.quantile(params, (1 - share) / 2), self.quantile(params,
                                                                             (1 + share) / 2)
        if lower is None or upper is None:
            return None
        return tf.logical_and(actual >= lower, actual <= upper)


def get_distribution(name, quantiles, argument="distribution"):
    """The `Distribution` named ``name`` ("gaussian", "student_t" or "quantile")."""
    return DISTRIBUTIONS.get(name, argument)(quantiles)


@keras.saving.register_keras_serializable(package="rnn_pipeline")
class DistributionOutput(keras.layers.Layer):
    """The head's raw outputs (batch, horizon, targets, P) on the scaled axis -> the
    distribution's parameters on the original scale.

    Args:
        distribution: "gaussian", "student_t" or "quantile".
        quantiles: the levels (`check_quantiles`).
        mean, std: per-target scaler of the training rows.
        offsets: "quantile" only: one shift per level on the scaled axis, added to the
            quantiles (then kept in order), as conformal calibration sets them after
            training (`calibration.calibrate_quantiles`); None: no shift.
    """

    def __init__(self, distribution, quantiles, mean, std, offsets=None, **kwargs):
        super().__init__(**kwargs)
        self.family = get_distribution(distribution, quantiles)
        self.distribution, self.quantiles = distribution, self.family.levels
        self.mean, self.std = [float(v) for v in mean], [float(v) for v in std]
        self.offsets = None if offsets is None else [float(v) for v in offsets]

    def call(self, raw, window_scale=None):
        """Args:
            raw: (batch, horizon, targets, P) head outputs.
            window_scale: (batch, 1, targets) each window's own scale (`WindowScale`), or
                None.
        """
        params = self.family.constrain(raw)
        if self.offsets is not None:  # (batch, horizon, targets, Q), in level order
            params = self._shifted(params)
        std = tf.constant(self.std, params.dtype)
        if window_scale is not None:
            std = std * window_scale
        return self.family.rescale(params, tf.constant(self.mean, params.dtype), std)

    def _shifted(self, params):
        """The quantiles plus ``offsets``, kept in order from the median outward: a level
        below it is at most the one inside it, a level above at least (so an inner
        interval keeps its calibrated bounds, an outer one only widens)."""
        levels = tf.unstack(params + tf.constant(self.offsets, params.dtype), axis=-1)
        anchor = self.family.anchor
        for i in range(anchor - 1, -1, -1):
            levels[i] = tf.minimum(levels[i], levels[i + 1])
        for j in range(anchor + 1, len(levels)):
            levels[j] = tf.maximum(levels[j], levels[j - 1])
        return tf.stack(levels, axis=-1)

    def get_config(self):
        return {**super().get_config(), "distribution": self.distribution,
                "quantiles": self.quantiles, "mean": self.mean, "std": self.std,
                "offsets": self.offsets}


@keras.saving.register_keras_serializable(package="rnn_pipeline")
class DistributionLoss(keras.losses.Loss):
    """The distribution's loss (negative log-likelihood, or the mean pinball loss of the
    quantiles) of the targets on the scaled axis, averaged over steps and targets.

    Args:
        distribution: "gaussian", "student_t" or "quantile".
        quantiles: the levels.
        std: per-target standard deviation of the training rows.
    """

    def __init__(self, distribution, quantiles, std, name="distribution_loss", **kwargs):
        super().__init__(name=name, **kwargs)
        self.family = get_distribution(distribution, quantiles)
        self.distribution, self.quantiles = distribution, self.family.levels
        self.std = [float(v) for v in std]

    def call(self, y_true, y_pred):  # (batch, horizon, targets), (batch, horizon, targets, P)
        std = tf.constant(self.std, y_pred.dtype)
        scaled = self.family.rescale(y_pred, tf.zeros_like(std), 1.0 / std)
        return tf.reduce_mean(self.family.nll(y_true / std, scaled), axis=(-2, -1))

    def get_config(self):
        return {**super().get_config(), "distribution": self.distribution,
                "quantiles": self.quantiles, "std": self.std}
