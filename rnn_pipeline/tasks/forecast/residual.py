"""The recurrent head's correction to the forecaster's linear highway, kept only where the
validation windows show that it helps (`check_residual`).

With a highway, the forecast's location is the highway's plus what the head writes into
it. A network trained and early-stopped on a few validation windows can lower their loss
by chance and still forecast worse than its linear part (BENCHMARKS.md, issue 20), so
after training the two are compared window by window with a Diebold-Mariano test.
"""

import numpy as np

from rnn_pipeline.errors import pipeline_error
from rnn_pipeline.tasks.forecast.series.comparison import diebold_mariano
from rnn_pipeline.tasks.forecast.series.windows import numeric_history


def check_level(level):
    """``model.residual_test``: a significance level in (0, 1]."""
    if not isinstance(level, (int, float)) or isinstance(level, bool) or not 0 < level <= 1:
        raise pipeline_error("model.residual_test", "must be a significance level in (0, 1] "
                             "(1 keeps the recurrent head's correction always)", level)
    return float(level)


def location_columns(model):
    """Boolean mask over the units of the head's last layer (`ForecasterParts.head_output`):
    True where a unit writes the location, the distribution's parameter 0."""
    c = model.task_config
    units = model.parts.head_output.kernel.shape[-1]
    params = model.family.num_params
    inner = c["segment_length"] if c["head"] == "segment" else c["num_targets"]
    mask = np.zeros((units // (params * inner), params, inner), bool)  # (.., params, inner)
    mask[:, 0, :] = True
    return mask.reshape(-1)


def drop_residual(model):
    """Zeroes the head's location units: the forecast's location becomes the highway's
    (plus any seasonal covariate term); a distribution keeps its trained spread."""
    layer = model.parts.head_output
    mask = location_columns(model)
    for variable in (layer.kernel, layer.bias) if layer.use_bias else (layer.kernel,):
        value = np.array(variable.numpy())
        value[..., mask] = 0
        variable.assign(value)


def _window_losses(model, inputs, actual):
    """Scaled MSE of each window's point forecast (on its own axis where the model scales
    each window): (windows,)."""
    forecast = model.point_forecast(model.predict_windows(inputs))
    window = np.asarray(model.window_scales(numeric_history(inputs)))
    scaled = (forecast - np.asarray(actual, np.float32)) / model.target_std / window
    return np.mean(np.square(scaled), axis=(1, 2))


def check_residual(model, inputs, actual, level, log=print, overlap=None):
    """Keeps the head's correction only if, on the validation windows, the model's point
    forecast has a lower scaled MSE than the same model without it, at significance
    ``level`` (one-sided Diebold-Mariano); otherwise drops it (`drop_residual`).

    Args:
        model: a trained `Forecaster` with a highway.
        inputs, actual: the validation windows (stride 1, in time order), raw.
        level: the significance level (`check_level`).
        log: callable for the one line that says what was decided.
        overlap: how many consecutive windows share rows (default the horizon: one
            series, stride 1); windows of many series, one or a few per series, are
            nearly independent (`ForecastWorkflow` passes min(horizon, valid windows)).

    Returns:
        the test's figures (`diebold_mariano`) with "kept" and both MSEs.
    """
    layer = model.parts.head_output
    trained = [v.numpy() for v in layer.weights]
    with_head = _window_losses(model, inputs, actual)
    drop_residual(model)
    without = _window_losses(model, inputs, actual)
    found = diebold_mariano(with_head, without, overlap or model.task_config["horizon"])
    found.update(kept=found["p_value"] <= level, mse_with=float(with_head.mean()),
                 mse_without=float(without.mean()))
    if found["kept"]:
        layer.set_weights(trained)
    if np.allclose(with_head, without, rtol=0, atol=1e-9):
        log("Residual check: the recurrent head adds no correction to the highway")
        return found
    test = f"p = {found['p_value']:.3g}" if found["statistic"] is not None else \
        f"{found['reason']} at horizon {model.task_config['horizon']}"
    verdict = "kept" if found["kept"] else "dropped: the forecast's location is the " \
        "highway's"
    log(f"Residual check: the recurrent head's correction moves the validation MSE from "
        f"{found['mse_without']:.4f} (highway alone) to {found['mse_with']:.4f} over "
        f"{found['windows']:,} windows (Diebold-Mariano, {test}; level {level:g}): {verdict}")
    return found
