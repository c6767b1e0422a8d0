"""The sections of a forecasting pipeline: ``[series]``, ``[model]`` and ``[train]``
(no TensorFlow)."""

from dataclasses import dataclass, field
from typing import Optional

from rnn_pipeline import choices
from rnn_pipeline.config.schema import PipelineConfig, RecurrentConfig
from rnn_pipeline.config.training import at_least, one_of, path_key


@dataclass
class ForecastModelConfig(RecurrentConfig):
    """The forecaster: recurrent encoder and a forecasting head.

    Args:
        head: "direct", "autoregressive", "seq2seq" or "segment".
        segment_length: steps per segment of the "segment" head.
        highway: add a linear map from each target's lookback to its horizon (LSTNet's
            highway, fitted by ridge least squares on the training windows before training,
            its penalty and its pull toward zero or seasonal naive chosen on the validation
            windows, then kept fixed), so the recurrent head learns the residual.
        residual_test: significance level in (0, 1] at which the recurrent head's
            correction to the highway must beat the highway alone on the validation
            windows (one-sided Diebold-Mariano on scaled MSE) to be kept after training;
            otherwise the forecast's location is the highway's. 1 keeps it always.
        distribution: "none" (a point forecast, trained on MSE), "gaussian" or
            "student_t" (a likelihood per step, as DeepAR), or "quantile" (the
            ``quantiles`` themselves, trained on the pinball loss).
        quantiles: increasing levels in (0, 1): the quantiles forecast, exported and
            written by ``rnn-pipeline forecast`` (lower, median, upper).
        conformal: "quantile" only: after training, shift each central pair of levels
            so that it covers its share of the validation values (conformalized quantile
            regression); the shift is saved in the model and its export.
    """

    head: str = one_of(choices.HEADS, "direct")
    segment_length: Optional[int] = None
    highway: bool = True
    residual_test: float = 0.1
    distribution: str = one_of(choices.DISTRIBUTIONS, "none")
    quantiles: list[float] = field(default_factory=lambda: [0.1, 0.5, 0.9])
    conformal: bool = False


@dataclass
class SeriesConfig:
    """Time-series input of a forecasting pipeline.

    Args:
        dataset: a registry series ("etth1", "ettm1", "airline_passengers",
            "melbourne_temperatures"); its file and defaults; or None with ``csv``.
        csv: a CSV file (or, with ``id_column``, a CSV or Parquet file).
        id_column: the series id column of a long-format file of many series (one row per
            id and timestamp, as statsforecast and neuralforecast read them); one global
            model is trained on the windows of every series. None: one series.
        time_column: the timestamp column.
        targets: columns to forecast (a dataset's default when empty).
        covariates: extra input columns; a column of strings is categorical (its
            values, learned from the training rows, are embedded inside the model).
        calendar: known-future features of the timestamps ("minute", "hour",
            "day_of_week", "day_of_month", "day_of_year", "month"), for the history and
            the horizon.
        frequency: pandas offset alias ("h", "15min", "D", "MS"); None infers it.
        fill: missing values and timestamps: "none" (an error), "ffill" or "interpolate".
        split: "fractions", "ett" (12/4/4 months of 30 days) or "per_series" (the last
            ``horizon + test_windows - 1`` rows of each series are test rows, the
            ``horizon + valid_windows - 1`` rows before them valid rows: the M4 protocol);
            None: "per_series" with ``id_column``, otherwise "fractions".
        test_windows: "per_series": forecast origins per series in the test rows.
        valid_windows: "per_series": forecast origins per series in the valid rows.
        too_short: a series shorter than its splits need: "refuse" (an error naming it) or
            "drop" (dropped, with a count in the log).
        id_embedding: with ``id_column``: size of a learned embedding of the series id fed
            to the encoder (0: none). An id not seen in training, or none, gets the
            embedding of unknown series, which training learns from 1 window in 10 whose
            id is hidden.
        scale: "global" (each column's mean and std over the training rows) or "window"
            (each window divided by its own std per column, so series of any level share
            one model; the loss is on that axis); None: "window" with ``id_column``,
            otherwise "global".
        valid_fraction: "fractions": share of rows for validation.
        test_fraction: "fractions": share of rows for test (the last ones).
        lookback: history rows per window.
        horizon: rows to forecast.
        stride: rows between training windows.
        instance_norm: per-window "none", "last" or "mean" subtraction.
        season: season length in rows (seasonal naive, MASE); None = the dataset's.
        max_rows: keep only the first rows (smoke runs).
        drop_last: leave out the last rows of each series, as if it ended earlier (a
            backtest's refit at an earlier forecast origin).
    """

    dataset: Optional[str] = None
    csv: Optional[str] = path_key()
    time_column: str = "date"
    targets: list[str] = field(default_factory=list)
    covariates: list[str] = field(default_factory=list)
    calendar: list[str] = field(default_factory=list,
                                metadata={"choices": choices.CALENDAR_FEATURES})
    frequency: Optional[str] = None
    fill: str = one_of(choices.FILL_POLICIES, "none")
    id_column: Optional[str] = None
    split: Optional[str] = one_of(choices.SERIES_SPLITS, None)
    test_windows: int = at_least(1, 1)
    valid_windows: int = at_least(1, 1)
    too_short: str = one_of(choices.TOO_SHORT_POLICIES, "refuse")
    id_embedding: int = at_least(0, 0)
    scale: Optional[str] = one_of(choices.SERIES_SCALES, None)
    valid_fraction: float = 0.1
    test_fraction: float = 0.2
    lookback: int = at_least(1, 96)
    horizon: int = at_least(1, 24)
    stride: int = at_least(1, 1)
    instance_norm: str = one_of(choices.INSTANCE_NORMS, "last")
    season: Optional[int] = None
    max_rows: Optional[int] = None
    drop_last: int = at_least(0, 0)


@dataclass
class ForecastConfig(PipelineConfig):
    """A forecaster: ``[series]``, ``[model]`` and ``[train]``."""

    task: str = "forecast"
    series: SeriesConfig = field(default_factory=SeriesConfig)
    model: ForecastModelConfig = field(default_factory=ForecastModelConfig)
