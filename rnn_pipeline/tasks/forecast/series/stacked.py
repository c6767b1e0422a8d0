"""Many series laid end to end for one global model: one `Series` of every row, and each
split's windows as explicit start rows (`windows.panel_starts`), so that the window code
of one series serves a panel unchanged."""

import dataclasses

import numpy as np
import pandas as pd

from rnn_pipeline.tasks.forecast.series.reader import Series
from rnn_pipeline.tasks.forecast.series.splits import per_series_ranges
from rnn_pipeline.tasks.forecast.series.windows import panel_starts


@dataclasses.dataclass
class StackedPanel:
    """Args:
        series: every series' rows, end to end (``times`` restart at each series).
        ids: the series ids, in order.
        offsets: the first row of each series in ``series``.
        ranges: {split: [start, end) rows of each series}.
        starts: {split: (windows,) first rows of its windows}.
        owners: {split: (windows,) the index of each window's series}.
    """

    series: Series
    ids: list
    offsets: np.ndarray
    ranges: dict
    starts: dict
    owners: dict

    def rows(self, split):
        """The rows of ``split``, of every series: (rows, columns) (the scaler's)."""
        return self.rows_of(self.series.values, split)

    def rows_of(self, table, split):
        """The rows of ``split`` of a per-row ``table`` aligned with ``series``."""
        return np.concatenate([table[o + a:o + b] for o, (a, b)
                               in zip(self.offsets, self.ranges[split])])

    def window_ids(self, split):
        """The series id of each window of ``split``: str (windows,)."""
        return np.asarray(self.ids, str)[self.owners[split]]

    def insample(self, split, lookback, target):
        """What each window of ``split`` saw of its series' ``target`` column: every row
        before its first forecast row (MASE's and Naive2's in-sample). A list of arrays."""
        values = self.series.values[:, target]
        ends = self.starts[split] + lookback
        return [values[self.offsets[k]:end] for k, end in zip(self.owners[split], ends)]


def stack_panel(panel, lookback, horizon, stride=1, valid_windows=1, test_windows=1):
    """A `Panel` (each series long enough) -> a `StackedPanel` with the per-series splits
    (`per_series_ranges`); training windows every ``stride`` rows, the others every row."""
    parts = panel.series
    lengths = [len(part.values) for part in parts]
    first = parts[0]
    categories = None if first.categories is None else np.concatenate(
        [part.categories for part in parts])
    times = pd.DatetimeIndex(np.concatenate([part.times.to_numpy() for part in parts]))
    series = dataclasses.replace(first, times=times,
                                 values=np.concatenate([part.values for part in parts]),
                                 filled=sum(part.filled for part in parts),
                                 categories=categories, frequency=panel.frequency)
    ranges = {name: [] for name in ("train", "valid", "test")}
    for length in lengths:
        for name, rows in per_series_ranges(length, lookback, horizon, valid_windows,
                                            test_windows).items():
            ranges[name].append(rows)
    starts, owners = {}, {}
    for name, rows in ranges.items():
        starts[name], owners[name] = panel_starts(lengths, rows, lookback, horizon,
                                                  stride if name == "train" else 1)
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    return StackedPanel(series, list(panel.ids), offsets, ranges, starts, owners)
