"""``[series]`` -> a checked `Series`: a registry dataset (with its defaults) or a CSV."""

import dataclasses

from rnn_pipeline.datasets import DATASETS, fetch_file
from rnn_pipeline.errors import pipeline_error
from rnn_pipeline.tasks.forecast.series.reader import read_series
from rnn_pipeline.tasks.forecast.series.splits import per_series_rows, rows_needed


def _panel_keys(config):
    """``split`` and ``scale`` resolved (their defaults follow ``id_column``), and the keys
    that only a long-format file of many series takes refused without one."""
    many = config.id_column is not None
    config = dataclasses.replace(
        config, split=config.split or ("per_series" if many else "fractions"),
        scale=config.scale or ("window" if many else "global"))
    if many and config.split != "per_series":
        raise pipeline_error("series.split", "must be 'per_series' with series.id_column "
                             "(each series is split at its own end)", config.split)
    for key, value in (("split", config.split == "per_series" and config.split),
                       ("id_embedding", config.id_embedding)):
        if value and not many:
            raise pipeline_error(f"series.{key}", "needs series.id_column (a long-format file "
                                 "of many series)", value)
    return config


def resolve(series_config):
    """The series settings with a dataset's defaults filled in where left at default, and
    ``split`` and ``scale`` resolved."""
    name = series_config.dataset
    if name is None:
        if series_config.csv is None:
            raise pipeline_error("series.csv", "must name a CSV file when series.dataset is "
                                 "not set", None)
        return _panel_keys(series_config)
    spec = DATASETS.get(name)
    if spec.kind != "timeseries":
        names = [n for n in DATASETS.names() if DATASETS.get(n).kind == "timeseries"]
        raise pipeline_error("series.dataset", "must be a time-series dataset: "
                             + ", ".join(map(repr, names)), name)
    defaults = type(series_config)()
    updates = {key: value for key, value in spec.defaults.items()
               if getattr(series_config, key) == getattr(defaults, key)}
    return _panel_keys(dataclasses.replace(series_config, **updates))


def load_series(series_config, progress=True):
    """Reads the configured series (dataset file from cache/mirror/download, or the CSV)."""
    config = resolve(series_config)
    if config.dataset is not None:
        path = fetch_file(DATASETS.get(config.dataset).files["data"], progress=progress)
    else:
        path = config.csv
    rows, reason = rows_needed(config.frequency, config.lookback, config.horizon,
                               config.split, config.valid_fraction, config.test_fraction)
    need = (rows + config.drop_last, reason if not config.drop_last else
            f"{reason}, after series.drop_last = {config.drop_last}")
    series = read_series(path, config.time_column, config.targets, config.covariates,
                         config.frequency, config.fill, need=need,
                         argument="series.csv" if config.dataset is None else "series.dataset")
    if config.max_rows is not None:
        series = first_rows(series, config.max_rows)
    if config.drop_last:
        series = first_rows(series, len(series.values) - config.drop_last)
    return config, series


def first_rows(series, count):
    """The first ``count`` rows of a `Series`."""
    return dataclasses.replace(
        series, times=series.times[:count], values=series.values[:count],
        categories=None if series.categories is None else series.categories[:count])


def load_panel(series_config, progress=True):
    """Reads a long-format file of many series (``series.id_column``): the resolved
    config and a `Panel`, each series long enough for its per-series splits."""
    from rnn_pipeline.tasks.forecast.series.panel import read_panel

    config = resolve(series_config)
    path = config.csv if config.dataset is None else fetch_file(
        DATASETS.get(config.dataset).files["data"], progress=progress)
    need = per_series_rows(config.lookback, config.horizon, config.valid_windows,
                           config.test_windows) + config.drop_last
    panel = read_panel(path, config.id_column, config.time_column, config.targets,
                       config.covariates, config.frequency, config.fill, min_rows=need,
                       too_short=config.too_short,
                       argument="series.csv" if config.dataset is None else "series.dataset")
    if config.drop_last:
        panel = dataclasses.replace(panel, series=[
            first_rows(part, len(part.values) - config.drop_last) for part in panel.series])
    return config, panel
