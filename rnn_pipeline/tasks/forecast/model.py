"""The forecasting task: raw history window -> raw forecast. Scaling (fitted on the
training rows) and instance normalisation live inside the model, so an export takes and
returns values on the original scale."""

import dataclasses

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from rnn_pipeline.choices import HEADS
from rnn_pipeline.errors import config_keys
from rnn_pipeline.models.builder import _keys
from rnn_pipeline.models.task import Task
from rnn_pipeline.tasks.forecast.distributions import (DistributionLoss, DistributionOutput,
                                                       get_distribution)
from rnn_pipeline.tasks.forecast import heads  # noqa: F401 (registers the heads)
from rnn_pipeline.tasks.forecast.layers import (CalendarFeatures, LinearHighway, WindowScale,
                                                WindowShift)


CATEGORY_DIM = 4  # embedding size of each categorical covariate


@dataclasses.dataclass(frozen=True)
class ForecasterParts:
    """The layers of a `Forecaster` that code outside its graph reads or sets (a plain
    holder, which Keras neither tracks nor saves: the layers are saved with the graph).

    Args:
        scale: the scaler (`keras.layers.Normalization`) of the raw history.
        window_scale: the `WindowScale` after it, or None.
        shift: the window shift (`WindowShift`) of the scaled history.
        highway: the `LinearHighway`, or None without one.
        head_output: the head's last Dense layer, the one that writes the forecast's
            parameters (`rnn_pipeline.tasks.forecast.residual`).
    """

    scale: object
    window_scale: object
    shift: object
    highway: object
    head_output: object


def _covariates(inputs, vocabularies, calendar, spec, instance_norm):
    """The extra encoder columns (embedded categories, past calendar features) and the
    calendar's effect on the horizon (or None).

    The effect is a small network of each step's calendar features, taken relative to
    its value at the window's end (the same `WindowShift` as the series), so that it moves
    the forecast by how the season changes from the last observed row.
    """
    extras, lookback = [], spec["lookback"]
    if vocabularies:
        categories = keras.Input((lookback, len(vocabularies)), dtype="string",
                                 name="categories")
        inputs["categories"] = categories
        for j, vocabulary in enumerate(vocabularies):
            ids = keras.layers.StringLookup(vocabulary=vocabulary, num_oov_indices=1,
                                            name=f"category_lookup_{j}")(categories[:, :, j])
            extras.append(keras.layers.Embedding(len(vocabulary) + 1, CATEGORY_DIM,
                                                 name=f"category_embedding_{j}")(ids))
    if not calendar:
        return extras, None
    time = keras.Input((lookback + spec["horizon"],), dtype="int64", name="time")
    inputs["time"] = time
    features = CalendarFeatures(calendar, name="calendar")(time)  # (batch, L + H, 2F)
    extras.append(features[:, :lookback])
    hidden = keras.layers.Dense(spec["units"], activation="tanh", name="calendar_hidden")(
        features)
    level = keras.layers.Dense(spec["num_targets"], kernel_initializer="zeros",
                               name="calendar_effect")(hidden)  # (batch, L + H, targets)
    _, end = WindowShift(instance_norm, name="calendar_shift")(level[:, :lookback])
    return extras, level[:, lookback:] - end


def _series_id(inputs, series_ids, dim, lookback):
    """The learned embedding of each window's series id, repeated over the lookback: an
    encoder column block (batch, lookback, dim). An id not in ``series_ids`` (or "") maps
    to the one out-of-vocabulary row: the embedding of an unknown series."""
    ids = keras.Input((), dtype="string", name="series_id")
    inputs["series_id"] = ids
    index = keras.layers.StringLookup(vocabulary=list(series_ids), num_oov_indices=1,
                                      name="series_lookup")(ids)
    vector = keras.layers.Embedding(len(series_ids) + 1, dim, name="series_embedding")(index)
    return ops.repeat(vector[:, None, :], lookback, axis=1)


@keras.saving.register_keras_serializable(package="rnn_pipeline")
class Forecaster(Task):
    """history (batch, lookback, num_inputs) raw -> forecast (batch, horizon, num_targets) raw.
    The targets are the first ``num_targets`` input columns.

    Args:
        lookback, horizon: window lengths.
        num_inputs, num_targets: input columns (targets first) and forecast columns.
        mean, std: per-input-column statistics of the training rows (the scaler).
        head: "direct", "autoregressive", "seq2seq" or "segment".
        cell: "simple_rnn", "lstm" or "gru" (encoder and decoder).
        units, num_layers, bidirectional, dropout: the encoder.
        instance_norm: "none", "last" or "mean" (per window, added back at the end).
        segment_length: steps per segment ("segment" head).
        highway: add a `LinearHighway` to the head's output, fixed at its least-squares fit
            (`rnn_pipeline.tasks.forecast.highway.fit_highway`); the head's last layer starts at zero, so the model starts as
            its linear part and the recurrent head learns the residual.
        distribution: "none" (a point forecast, MSE) or "gaussian", "student_t",
            "quantile" (the output is then the parameters, (batch, horizon, targets, P),
            trained by likelihood or the pinball loss; see `distributions`).
        quantiles: increasing levels in (0, 1): what "quantile" predicts, and the
            quantiles that `quantiles_of` and the export report.
        categorical_vocabularies: one list of training values per categorical covariate;
            the model then takes ``{"history", "categories"}`` (strings, (batch, lookback,
            categorical)); a value not in its list maps to one out-of-vocabulary id.
        calendar: calendar features (`series.calendar`); the model then also takes
            ``time``, int64 seconds of the history and horizon rows (batch, lookback +
            horizon).
        window_scale: divide each window by its own scale (`WindowScale`, after the
            scaler) and multiply the forecast back; the loss is then on that axis too.
        series_ids: the training series' ids; with ``id_embedding`` the model also takes
            ``series_id``, a string per window (batch,).
        id_embedding: size of the series id embedding (0: no id input).
        quantile_offsets: "quantile" only: the calibrated shift of each level
            (`DistributionOutput`, `calibration.calibrate_quantiles`), or None.
        seed: initialisation seed.
    """

    def __init__(self, lookback, horizon, num_inputs, num_targets, mean, std, head="direct",
                 cell="gru", units=64, num_layers=1, bidirectional=False, dropout=0.0,
                 instance_norm="last", segment_length=None, highway=False, distribution="none",
                 quantiles=(0.1, 0.5, 0.9), categorical_vocabularies=(), calendar=(),
                 window_scale=False, series_ids=(), id_embedding=0, quantile_offsets=None,
                 seed=0, **kwargs):
        mean = np.asarray(mean, np.float32)
        variance = np.square(np.asarray(std, np.float32))
        spec = dict(lookback=lookback, horizon=horizon, num_inputs=num_inputs,
                    num_targets=num_targets, cell=cell, units=units, num_layers=num_layers,
                    bidirectional=bidirectional, dropout=dropout, segment_length=segment_length,
                    seed=seed)
        family = get_distribution(distribution, quantiles)
        spec["num_params"] = family.num_params
        build_head = HEADS.get(head, "head")
        vocabularies = [list(v) for v in categorical_vocabularies]
        calendar, series_ids = list(calendar), [str(i) for i in series_ids]
        # === Functional graph ===
        history = keras.Input((lookback, num_inputs), name="history")
        inputs = {"history": history} if vocabularies or calendar or id_embedding else history
        scale = keras.layers.Normalization(mean=mean, variance=variance, name="scale")
        shift = WindowShift(instance_norm, name="window_shift")
        x = scale(history)
        by_window = WindowScale(name="window_scale") if window_scale else None
        if by_window is not None:
            x, window = by_window(x)  # (batch, lookback, inputs), (batch, 1, inputs)
        x, statistic = shift(x)
        extras, seasonal = _covariates(inputs, vocabularies, calendar, spec, instance_norm)
        if id_embedding:
            extras.append(_series_id(inputs, series_ids, id_embedding, lookback))
        encoded = ops.concatenate([x, *extras], axis=-1) if extras else x
        params, head_output = build_head(encoded, dict(spec, num_inputs=encoded.shape[-1]))
        y = params[:, :, 0, :]  # the location: (batch, horizon, targets), scaled, shifted
        linear = None
        if highway:
            # Fixed at its least-squares fit (`highway.fit_highway`): trained along, it drifted from
            # that optimum and ETTh1's validation loss was worse (BENCHMARKS.md, issue 20).
            linear = LinearHighway(lookback, horizon, num_targets, name="highway",
                                   trainable=False)
            y = y + linear(x, statistic)
        if seasonal is not None:
            y = y + seasonal
        y = y + statistic[:, :, :num_targets]
        target_window = None if by_window is None else window[:, :, :num_targets]
        if distribution == "none":
            if target_window is not None:
                y = y * target_window
            forecast = keras.layers.Normalization(mean=mean[:num_targets],
                                                  variance=variance[:num_targets],
                                                  invert=True, name="unscale")(y)
        else:
            raw = ops.concatenate([y[:, :, None, :], params[:, :, 1:, :]], axis=2)
            forecast = DistributionOutput(  # (batch, horizon, targets, params), raw scale
                distribution, quantiles, mean[:num_targets], np.sqrt(variance[:num_targets]),
                offsets=quantile_offsets, name="distribution")(ops.transpose(raw, (0, 1, 3, 2)), target_window)
        super().__init__(inputs=inputs, outputs=forecast, **kwargs)
        # === Config ===
        spec.pop("num_params")
        self.task_config = dict(spec, mean=mean.tolist(), std=np.sqrt(variance).tolist(),
                                head=head, instance_norm=instance_norm, highway=highway,
                                distribution=distribution, quantiles=family.levels,
                                categorical_vocabularies=vocabularies, calendar=calendar,
                                window_scale=bool(window_scale), series_ids=series_ids,
                                id_embedding=id_embedding, quantile_offsets=quantile_offsets)
        self.family = family
        self.target_std = np.sqrt(variance[:num_targets])
        self.parts = ForecasterParts(scale, by_window, shift, linear, head_output)
        if highway:  # the recurrent head adds nothing until it learns the residual
            kernel = head_output.kernel
            kernel.assign(np.zeros(kernel.shape, kernel.dtype))

    def shifted(self, history):
        """History through the scaler, the window scale and the window shift: (shifted,
        statistic); see `window_scales` for the window scale."""
        x = self.parts.scale(np.asarray(history, np.float32))
        if self.parts.window_scale is not None:
            x = self.parts.window_scale(x)[0]
        return [np.asarray(v) for v in self.parts.shift(x)]

    def window_scales(self, history, every_column=False):
        """Each window's own scale of its targets, or with ``every_column`` of every input
        column (`WindowScale`): (windows, 1, columns), ones without one. ``history`` is
        raw: an array, or a tensor in the graph."""
        columns = self.task_config["num_inputs" if every_column else "num_targets"]
        if self.parts.window_scale is None:
            return np.ones([len(history), 1, columns], np.float32)
        return self.parts.window_scale(self.parts.scale(history))[1][:, :, :columns]

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Keras' loss, on each window's own axis where the model has a `WindowScale` (so
        that every series weighs alike, whatever its level)."""
        if self.parts.window_scale is not None:
            history = x["history"] if isinstance(x, dict) else x
            window = self.window_scales(history)  # (batch, 1, targets)
            y = y / window
            y_pred = y_pred / window if not self.probabilistic else self.family.rescale(
                y_pred, ops.zeros_like(window), 1.0 / window)
        return super().compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight,
                                    training=training)

    def linear_part(self, history):
        """The highway's forecast alone (raw scale): what the model would say without its
        recurrent head. (windows, lookback, inputs) -> (windows, horizon, targets)."""
        t = self.task_config["num_targets"]
        shifted, statistic = self.shifted(history)
        scaled = np.asarray(self.parts.highway(shifted, statistic)) + statistic[:, :, :t]
        mean, std = self.target_scaler()
        return scaled * np.asarray(self.window_scales(history)) * std + mean

    def target_scaler(self):
        """(mean, std) of the targets' training rows: float32 arrays (targets,)."""
        t = self.task_config["num_targets"]
        return (np.asarray(self.task_config["mean"][:t], np.float32),
                np.asarray(self.task_config["std"][:t], np.float32))

    def compile(self, optimizer="adam", loss=None, metrics=None, **kwargs):
        """Compile defaults of the task: MSE on the scaled targets (the ETT convention), or
        the distribution's loss on the same axis."""
        c = self.task_config
        if loss is None and c["distribution"] != "none":
            loss = DistributionLoss(c["distribution"], c["quantiles"], self.target_std.tolist())
        super().compile(optimizer=optimizer, loss=loss or ScaledMSE(self.target_std.tolist()),
                        **kwargs)

    def predict_windows(self, inputs, batch_size=256):
        """``predict`` over window inputs: an array, or the dict of a model with categories
        or a calendar (its strings go through tf.data, which Keras' array adapter refuses)."""
        if not isinstance(inputs, dict):
            return self.predict(inputs, batch_size=batch_size, verbose=0)
        data = tf.data.Dataset.from_tensor_slices({k: tf.constant(v) for k, v in inputs.items()})
        return self.predict(data.batch(batch_size), verbose=0)

    @property
    def probabilistic(self):
        return self.task_config["distribution"] != "none"

    def point_forecast(self, output):
        """The model's output -> its point forecast (the mean; for "quantile" the anchor
        quantile): (windows, horizon, targets)."""
        if not self.probabilistic:
            return np.asarray(output)
        return np.asarray(self.family.mean(tf.constant(output)))

    def quantiles_of(self, output, levels=None):
        """The model's output -> {level: (windows, horizon, targets), or None where the
        distribution has no such quantile}; default levels: the model's ``quantiles``."""
        params = tf.constant(output)
        found = {}
        for level in levels or self.task_config["quantiles"]:
            value = self.family.quantile(params, level) if self.probabilistic else None
            found[level] = None if value is None else np.asarray(value)
        return found


@keras.saving.register_keras_serializable(package="rnn_pipeline")
class ScaledMSE(keras.losses.Loss):
    """Mean squared error of the targets divided by their training std.

    Args:
        std: per-target standard deviation.
    """

    def __init__(self, std, name="scaled_mse", **kwargs):
        super().__init__(name=name, **kwargs)
        self.std = list(std)

    def call(self, y_true, y_pred):
        error = (y_pred - y_true) / ops.convert_to_tensor(self.std, dtype=y_pred.dtype)
        return ops.mean(ops.square(error), axis=(-2, -1))

    def get_config(self):
        return {**super().get_config(), "std": self.std}


def build_forecaster(config, num_inputs, num_targets, mean, std, vocabularies=(),
                     series_ids=()):
    """A `Forecaster` from ``[series]`` and ``[model]`` (the series config resolved).

    Args:
        config: a `PipelineConfig` whose ``series`` has the dataset defaults applied.
        num_inputs: input columns (targets first).
        num_targets: forecast columns.
        mean, std: per-input-column statistics of the training rows.
        vocabularies: the training values of each categorical covariate.
        series_ids: the training series' ids (``series.id_embedding``).
    """
    s, m = config.series, config.model
    with config_keys(_keys(model=m, series=s)):
        return Forecaster(s.lookback, s.horizon, num_inputs, num_targets, mean, std,
                          head=m.head, cell=m.cell, units=m.units, num_layers=m.num_layers,
                          bidirectional=m.bidirectional, dropout=m.dropout,
                          instance_norm=s.instance_norm, segment_length=m.segment_length,
                          highway=m.highway, distribution=m.distribution,
                          quantiles=m.quantiles, categorical_vocabularies=vocabularies,
                          calendar=s.calendar, window_scale=s.scale == "window",
                          series_ids=series_ids, id_embedding=s.id_embedding,
                          seed=config.train.seed)
