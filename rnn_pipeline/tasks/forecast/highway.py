"""The forecaster's linear highway, fitted outside the model: a ridge least-squares fit on
the training windows (numpy), its penalty and what it pulls toward chosen on the validation
windows, then written into the model's `LinearHighway` (``model.parts.highway``), which
stays fixed while the recurrent head trains."""

import numpy as np

from rnn_pipeline.tasks.forecast.series.baselines import (RIDGES, channel_rows, highway_priors,
                                                          moments, ridge_fit, ridge_solve)


def highway_problem(model, history, future):
    """The highway's least-squares problem in its own units: features (rows, lookback +
    1), the shifted lookback and the window statistic of each target channel, and target
    (rows, horizon), the shifted future.

    Args:
        model: a `Forecaster` (its scaler and window shift).
        history: (windows, lookback, inputs) raw; future: (windows, horizon, targets) raw.
    """
    t = model.task_config["num_targets"]
    shifted, statistic = model.shifted(history)
    features = np.concatenate([channel_rows(shifted[:, :, :t]),
                               channel_rows(statistic[:, :, :t])], axis=1)
    mean, std = model.target_scaler()
    window = np.asarray(model.window_scales(np.asarray(history, np.float32)))
    target = (np.asarray(future, np.float32) - mean) / std / window - statistic[:, :, :t]
    return features, channel_rows(target)


def choose_highway(train_problem, valid_problem, lookback, horizon, season=None):
    """The penalty (`RIDGES`) and prior (zero weights, or seasonal naive's when ``season``
    fits in the lookback) whose ridge fit on ``train_problem`` has the lowest MSE on
    ``valid_problem``; every candidate from the training moments, its validation SSE from
    the validation moments (one pass over each split's windows).

    Returns:
        (weights (lookback + 2, horizon), {"prior", "ridge", "valid_mse"}).
    """
    choice, weights = {"valid_mse": np.inf}, None
    priors = highway_priors(lookback, horizon, season)
    train_gram, train_moment = moments(*train_problem)
    v_features, v_target = valid_problem
    gram, moment = moments(v_features, v_target)
    constant = np.sum(np.square(v_target, dtype=np.float64))
    for prior, penalty in ((p, r) for p in priors for r in RIDGES):
        candidate = ridge_solve(train_gram, train_moment, penalty, priors[prior])
        mse = float((np.sum(candidate * (gram @ candidate))
                     - 2 * np.sum(candidate * moment) + constant) / v_target.size)
        if mse < choice["valid_mse"]:
            choice, weights = {"prior": prior, "ridge": penalty, "valid_mse": mse}, candidate
    return weights, choice


def set_highway(model, weights):
    """Writes ridge ``weights`` (rows: lookback, the statistic, the bias) into the model's
    `LinearHighway`."""
    lookback = model.task_config["lookback"]
    weights = np.asarray(weights).astype(np.float32)
    model.parts.highway.set_weights([weights[:lookback], weights[lookback], weights[-1]])


def fit_highway(model, history, future, valid=None, season=None, ridge=1e-3):
    """Sets the model's highway to a ridge least-squares fit on the training windows.
    Given ``valid`` windows, the penalty and prior are chosen on them (`choose_highway`);
    otherwise the penalty is ``ridge``, toward zero.

    Args:
        model: a `Forecaster` built with ``highway=True``.
        history: (windows, lookback, inputs) raw; future: (windows, horizon, targets) raw.
        valid: (history, future) validation windows, raw, or None.
        season: season length in rows (the seasonal prior), or None.
        ridge: the penalty without ``valid`` (`ridge_fit`).

    Returns:
        {"prior": "zero" or "seasonal naive", "ridge": penalty, "valid_mse": scaled
        validation MSE or None}.
    """
    problem = highway_problem(model, history, future)
    if valid is None:
        choice = {"prior": "zero", "ridge": ridge, "valid_mse": None}
        weights = ridge_fit(*problem, ridge)
    else:
        weights, choice = choose_highway(problem, highway_problem(model, *valid),
                                         model.task_config["lookback"],
                                         model.task_config["horizon"], season)
    set_highway(model, weights)
    return choice
