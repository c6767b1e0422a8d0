"""``[series]`` -> a checked `Series`: a registry dataset (with its defaults) or a CSV."""

import dataclasses

from rnn_pipeline.datasets import DATASETS, fetch_file
from rnn_pipeline.errors import pipeline_error
from rnn_pipeline.tasks.forecast.series.reader import read_series
from rnn_pipeline.tasks.forecast.series.splits import rows_needed


def resolve(series_config):
    """The series settings with a dataset's defaults filled in where left at default."""
    name = series_config.dataset
    if name is None:
        if series_config.csv is None:
            raise pipeline_error("series.csv", "must name a CSV file when series.dataset is "
                                 "not set", None)
        return series_config
    spec = DATASETS.get(name)
    if spec.kind != "timeseries":
        names = [n for n in DATASETS.names() if DATASETS.get(n).kind == "timeseries"]
        raise pipeline_error("series.dataset", "must be a time-series dataset: "
                             + ", ".join(map(repr, names)), name)
    defaults = type(series_config)()
    updates = {key: value for key, value in spec.defaults.items()
               if getattr(series_config, key) == getattr(defaults, key)}
    return dataclasses.replace(series_config, **updates)


def load_series(series_config, progress=True):
    """Reads the configured series (dataset file from cache/mirror/download, or the CSV)."""
    config = resolve(series_config)
    if config.dataset is not None:
        path = fetch_file(DATASETS.get(config.dataset).files["data"], progress=progress)
    else:
        path = config.csv
    need = rows_needed(config.frequency, config.lookback, config.horizon, config.split,
                       config.valid_fraction, config.test_fraction)
    series = read_series(path, config.time_column, config.targets, config.covariates,
                         config.frequency, config.fill, need=need,
                         argument="series.csv" if config.dataset is None else "series.dataset")
    if config.max_rows is not None:
        cut = config.max_rows
        series = dataclasses.replace(
            series, times=series.times[:cut], values=series.values[:cut],
            categories=None if series.categories is None else series.categories[:cut])
    return config, series
