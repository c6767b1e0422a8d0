"""The PNGs are readable: dates on a forecast's time axis, the forecast drawn on from the
last history point, legends outside the data area, a log scale where positive lines would
overlap, and no empty panel. Each figure is built from real runs or real scores through
the functions the commands use, then drawn and measured."""

import warnings

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg


def _draw(fig):
    """Lays out and draws ``fig`` off screen; returns its renderer."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return canvas.get_renderer()


def _legends(fig):
    return [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None] + fig.legends


def _assert_legends_clear_of_data(fig):
    """Every legend's box lies outside every axes' data area (in pixels, drawn)."""
    renderer = _draw(fig)
    legends = _legends(fig)
    assert legends, "the figure has no legend"
    for legend in legends:
        box = legend.get_window_extent(renderer)
        for ax in fig.axes:
            assert not box.overlaps(ax.get_window_extent(renderer)), (
                f"legend {[t.get_text() for t in legend.get_texts()]} covers the axes "
                f"{ax.get_title()!r}")


def _assert_no_empty_axes(fig):
    """Each axes draws a line with points or a patch with an area."""
    for ax in fig.axes:
        lines = [line for line in ax.get_lines() if len(line.get_xdata()) > 0]
        patches = [p for p in ax.patches if p.get_width() * p.get_height() > 0] \
            if ax.patches else []
        assert lines or patches or ax.collections, f"axes {ax.get_title()!r} is empty"


@pytest.fixture(scope="module")
def forecast_figures(fitted_forecast, tmp_path_factory):
    """(workflow, {name: Figure}) of ``rnn-pipeline evaluate RUN --split test``'s plots of
    the shared forecasting run, through `evaluation_plots` as the command draws them."""
    from rnn_pipeline.tasks.forecast.workflow import ForecastWorkflow

    _, run = fitted_forecast
    workflow = ForecastWorkflow.from_run(run, log=lambda *_: None)
    folder = tmp_path_factory.mktemp("evaluation")
    paths = workflow.evaluation_plots("test", workflow.evaluate("test"), folder)
    assert [p.name for p in paths] == ["test_forecast.png", "test_error_by_step.png"]
    assert all(p.read_bytes()[:4] == b"\x89PNG" for p in paths)
    return workflow, dict(zip(("forecast", "error_by_step"), workflow.figures))


def test_forecast_x_axis_is_dates_of_the_window(forecast_figures):
    workflow, figures = forecast_figures
    fig = figures["forecast"]
    _draw(fig)
    start = workflow.ranges.test[0]  # the test split's first row in the series
    lookback, horizon = workflow.series_config.lookback, workflow.series_config.horizon
    for ax in fig.axes:
        assert isinstance(ax.xaxis.get_major_formatter(), mdates.DateFormatter)
        assert type(ax.xaxis.get_converter()).__module__ == "matplotlib.dates"
        low, high = sorted(ax.get_xlim())  # the labels drawn: those of ticks in view
        labels = [t.get_text() for x, t in zip(ax.get_xticks(), ax.get_xticklabels())
                  if low <= x <= high]
        assert len(labels) >= 2
        dates = pd.to_datetime(labels, format="%Y-%m-%d")  # raises unless each is a date
        window = int(ax.get_title().split()[-1])  # "test window 5"
        first = workflow.series.times[start + window]
        last = workflow.series.times[start + window + lookback + horizon - 1]
        margin = (last - first) / 10  # the axes' margins around the drawn rows
        assert first - margin <= dates.min() and dates.max() <= last + margin
        history = next(line for line in ax.get_lines() if line.get_label() == "history")
        origin = pd.Timestamp(history.get_xdata()[-1])  # the forecast origin's row
        assert origin == workflow.series.times[start + window + lookback - 1]


def test_forecast_lines_start_at_the_last_history_point(forecast_figures):
    workflow, figures = forecast_figures
    table = workflow._scored["test"][0]
    for ax in figures["forecast"].axes:
        lines = {line.get_label(): line for line in ax.get_lines()}
        history = lines["history"]
        joined = [lines[name] for name in ("actual", table[0]["model"])]
        assert len(joined[0].get_xdata()) == workflow.series_config.horizon + 1
        for line in joined:
            assert line.get_xdata()[0] == history.get_xdata()[-1]
            assert line.get_ydata()[0] == history.get_ydata()[-1]


def test_forecast_and_error_legends_are_outside_the_data(forecast_figures):
    _, figures = forecast_figures
    for fig in figures.values():
        _assert_legends_clear_of_data(fig)


def test_error_by_step_is_log_scaled_and_every_line_stays_visible(forecast_figures):
    workflow, figures = forecast_figures
    ax = figures["error_by_step"].axes[0]
    errors = workflow._scored["test"][2]
    values = np.concatenate(list(errors.values()))
    assert values.min() > 0
    # On a linear axis from 0 to the largest error, lines less than 2% of its height apart
    # lie on top of each other: the run has such lines, so the scale must be log.
    height = values.max()
    means = np.sort([np.mean(e) for e in errors.values()])
    assert np.sum(np.diff(means) < 0.02 * height) >= 2
    assert ax.get_yscale() == "log"
    lines = ax.get_lines()
    assert len(lines) == len(errors) == 8
    styles = {(line.get_marker(), line.get_linestyle()) for line in lines}
    assert len(styles) == len(lines)  # lines that coincide still differ in marker and dash
    assert {line.get_label() for line in lines} == set(errors)


def test_error_by_step_with_a_zero_error_stays_linear(forecast_figures, tmp_path):
    from rnn_pipeline.tasks.forecast.plots import plot_error_by_step

    workflow, _ = forecast_figures
    errors = dict(workflow._scored["test"][2])
    name = next(iter(errors))
    errors[name] = np.concatenate([[0.0], errors[name][1:]])  # a log axis would drop it
    fig = plot_error_by_step(errors, tmp_path / "e.png", "zero")
    assert fig.axes[0].get_yscale() == "linear"


def test_forecast_without_timestamps_draws_steps_from_the_origin(forecast_figures,
                                                                 tmp_path):
    from rnn_pipeline.tasks.forecast.plots import plot_forecasts

    workflow, _ = forecast_figures
    table, forecasts, _, history, actual = workflow._scored["test"]
    fig = plot_forecasts(history, actual, {table[0]["model"]: forecasts[table[0]["model"]]},
                         "Passengers", tmp_path / "f.png", times=None)
    ax = fig.axes[0]
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert lines["history"].get_xdata()[-1] == 0 == lines["actual"].get_xdata()[0]
    assert list(lines["actual"].get_xdata()) == list(range(actual.shape[1] + 1))
    assert not isinstance(ax.xaxis.get_major_formatter(), mdates.DateFormatter)
    assert "steps from the forecast origin" in fig.axes[-1].get_xlabel()


def _clipping_figure(run, path, clipped=None):
    """The clipping figure of a real run's gradient log, as ``rnn-pipeline diagnose RUN``
    draws it (``clipped`` replaces the log's column)."""
    from rnn_pipeline.diagnostics.plots import plot_clipping
    from rnn_pipeline.runs import RunFolder
    from rnn_pipeline.training.gradients import read_gradient_log

    folder = RunFolder(run)
    train = folder.load_config().train
    columns = read_gradient_log(folder.file(folder.GRADIENTS_CSV))
    threshold = train.global_clipnorm
    if clipped is not None:  # a threshold the median norm would have set
        threshold = float(np.median(columns["grad_norm"]))
        columns["clipped"] = (columns["grad_norm"] > threshold).astype(float)
    kind = "global_clipnorm" if threshold else None
    return columns, threshold, plot_clipping(columns, path, "tiny: gradient norm and "
                                             "clipping", threshold, kind)


def test_clipping_without_clipped_steps_has_no_empty_panel(fitted_lm_run, tmp_path):
    from rnn_pipeline.runs import RunFolder
    from rnn_pipeline.workflows.diagnose import clipping_plot

    said = []
    assert clipping_plot(fitted_lm_run, RunFolder(fitted_lm_run).load_config().train,
                         tmp_path / "clipping.png", said.append) == [tmp_path / "clipping.png"]
    assert said[0].startswith("clipping: 0.0% of ")
    columns, threshold, fig = _clipping_figure(fitted_lm_run, tmp_path / "again.png")
    assert columns["clipped"].sum() == 0 and len(columns["step"]) > 1
    assert len(fig.axes) == 1  # the share panel (all zeros) is left out
    assert fig.axes[0].get_title() == (f"gradient norm: no step was clipped (global_clipnorm "
                                       f"{threshold:g})")
    assert [line.get_label() for line in fig.axes[0].get_lines()] == [
        "global norm before clipping", f"global_clipnorm {threshold}"]
    _assert_no_empty_axes(fig)
    _assert_legends_clear_of_data(fig)


def test_clipping_with_clipped_steps_draws_both_panels(fitted_lm_run, tmp_path):
    columns, _, fig = _clipping_figure(fitted_lm_run, tmp_path / "clipping.png", clipped=True)
    assert 0 < columns["clipped"].sum() < len(columns["clipped"])
    assert len(fig.axes) == 2
    _assert_no_empty_axes(fig)
    _assert_legends_clear_of_data(fig)
    bars = fig.axes[1].patches
    assert [b.get_height() for b in bars] == pytest.approx([columns["clipped"].mean()])


def test_curves_legend_is_outside_and_epochs_are_whole(fitted_lm_run, tmp_path):
    from rnn_pipeline.runs import RunFolder
    from rnn_pipeline.runs.plots import plot_curves

    metrics = RunFolder(fitted_lm_run).load_metrics()
    fig = plot_curves(metrics["epochs"], metrics["final"], tmp_path / "curves.png", "tiny")
    _assert_legends_clear_of_data(fig)
    _assert_no_empty_axes(fig)
    for ax in fig.axes:
        ticks = ax.get_xticks()
        assert np.allclose(ticks, np.round(ticks)) and ax.get_xlabel() == "epoch"


def test_japanese_entity_f1_legend_is_outside_with_every_glyph(tmp_path):
    from rnn_pipeline.runs.confusion import plot_entity_f1
    from rnn_pipeline.tasks.tagging.metrics import entity_scores

    gold = [["B-人名", "I-人名", "O", "B-地名"], ["B-人名", "O"]]
    predicted = [["B-人名", "I-人名", "O", "O"], ["B-人名", "O"]]
    scores = entity_scores(gold, predicted)
    assert scores["per_type"]["人名"]["f1"] == 1.0  # a bar that reaches the right edge
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="Glyph .* missing")
        fig = plot_entity_f1(scores, entity_scores(gold, gold), tmp_path / "f1.png",
                             "ja: test entity F1")
        _assert_legends_clear_of_data(fig)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert "人名 (2)" in labels
