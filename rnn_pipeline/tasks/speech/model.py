"""The speech model: log-mel frames [batch, time, n_mels] under a mask -> the frame
backbone (`rnn_pipeline.models.FrameBackbone`, bidirectional by default) -> one of two
heads:

- ``classify``: one label per recording, from the masked mean (and/or max) of the
  states over the real frames, a Dense layer and a softmax; sparse cross-entropy.
- ``ctc``: a Dense layer over the vocabulary plus a blank at every frame, trained with
  CTC (Graves et al. 2006); decoded greedily or by beam search inside the graph.

Conventions (what the workflow, the metrics and the export rely on):

- Inputs: ``{"frames": (batch, time, n_mels) float32, "mask": (batch, time) bool}``, or
  ``{"frames": ..., "lengths": (batch,) int}`` (the first ``lengths`` frames are real),
  or the frames alone (all real). Real frames come first in each row. Padding frames are
  set to zero before anything reads them, so their values change nothing.
- Subsampling by ``subsample = s`` concatenates ``s`` neighbouring frames into one
  (batch, ceil(time / s), s * n_mels); an output frame is real when any of its input
  frames is (so ceil(length / s) real output frames). CTC needs at least as many real
  output frames as labels (plus one between each pair of repeated labels).
- Label ids are ``0 .. len(labels) - 1``; the CTC blank is the last class,
  ``blank_id = len(labels)`` (TensorFlow's CTC convention).
- CTC targets and decoded sequences are dense int32 (batch, width), padded with -1 after
  each row's labels; a decoded batch is as wide as its longest sequence (0 when all are
  empty).
"""

import keras
import tensorflow as tf

from rnn_pipeline.errors import pipeline_error
from rnn_pipeline.models.encoder import FrameBackbone
from rnn_pipeline.models.task import PerExampleLoss, SubclassedTask
from rnn_pipeline.tasks.speech.config import SPEECH_DECODERS, SPEECH_HEADS, SPEECH_POOLINGS
from rnn_pipeline.tasks.speech.features import spec_augment

PAD = -1  # padding of label sequences (targets and decoded)


def frames_and_mask(inputs):
    """``(frames (batch, time, features) float32, mask (batch, time) bool)`` of a model
    input: a dict with "frames" and "mask" or "lengths", or the frames alone."""
    features = inputs.get("frames") if isinstance(inputs, dict) else inputs
    frames = tf.convert_to_tensor(features, tf.float32)
    shape = tf.shape(frames)
    if isinstance(inputs, dict) and inputs.get("mask") is not None:
        mask = tf.cast(inputs["mask"], tf.bool)
    elif isinstance(inputs, dict) and inputs.get("lengths") is not None:
        mask = tf.sequence_mask(inputs["lengths"], shape[1])
    else:
        mask = tf.ones(shape[:2], tf.bool)
    return frames, mask


def subsample_frames(frames, mask, stride):
    """Concatenates ``stride`` neighbouring frames: (batch, time, f) -> (batch,
    ceil(time / stride), stride * f); padding frames are zeroed first, and an output
    frame is real when any of its frames is."""
    frames = frames * tf.cast(mask, frames.dtype)[:, :, None]
    if stride == 1:
        return frames, mask
    extra = -tf.shape(frames)[1] % stride
    frames = tf.pad(frames, [[0, 0], [0, extra], [0, 0]])
    mask = tf.pad(mask, [[0, 0], [0, extra]])
    batch = tf.shape(frames)[0]
    frames = tf.reshape(frames, [batch, -1, stride * frames.shape[-1]])
    return frames, tf.reduce_any(tf.reshape(mask, [batch, -1, stride]), axis=-1)


def masked_pool(states, mask, pooling):
    """Pools (batch, time, d) over the real frames: "mean", "max" or "mean_max" (both,
    concatenated). A row without real frames pools to zeros."""
    weights = tf.cast(mask, states.dtype)[:, :, None]  # (batch, time, 1)
    count = tf.reduce_sum(weights, axis=1)  # (batch, 1)
    parts = []
    if pooling in ("mean", "mean_max"):
        parts.append(tf.reduce_sum(states * weights, axis=1) / tf.maximum(count, 1.0))
    if pooling in ("max", "mean_max"):
        lowest = tf.fill(tf.shape(states), tf.constant(states.dtype.min, states.dtype))
        largest = tf.reduce_max(tf.where(mask[:, :, None], states, lowest), axis=1)
        parts.append(tf.where(count > 0, largest, tf.zeros_like(largest)))
    return tf.concat(parts, axis=-1)  # (batch, d) or (batch, 2d)


def label_lengths(labels):
    """Labels per row of a -1 padded (batch, width) target: (batch,) int32."""
    return tf.reduce_sum(tf.cast(tf.greater_equal(labels, 0), tf.int32), axis=1)


def ctc_nll(labels, logits, logit_lengths):
    """Each row's CTC negative log-likelihood, (batch,) float32.

    Args:
        labels: (batch, width) int, -1 padded.
        logits: (batch, time, num_labels + 1) float, the blank last.
        logit_lengths: (batch,) int, real frames per row.
    """
    labels = tf.cast(labels, tf.int32)
    return tf.nn.ctc_loss(tf.maximum(labels, 0), tf.cast(logits, tf.float32),
                          label_lengths(labels), tf.cast(logit_lengths, tf.int32),
                          logits_time_major=False, blank_index=-1)


def ctc_decode(log_probs, lengths, decoder="greedy", beam_width=8):
    """The best label sequence of each row, (batch, width) int32 padded with -1.

    ``greedy`` takes the most likely symbol of every frame, merges repeats and removes
    blanks; ``beam`` runs TensorFlow's CTC beam search (``beam_width`` beams).

    Args:
        log_probs: (batch, time, num_labels + 1), the blank last.
        lengths: (batch,) int, real frames per row.
    """
    SPEECH_DECODERS.check(decoder, "decoder")
    time_major = tf.transpose(tf.cast(log_probs, tf.float32), [1, 0, 2])
    lengths = tf.cast(lengths, tf.int32)
    if decoder == "greedy":
        decoded, _ = tf.nn.ctc_greedy_decoder(time_major, lengths, merge_repeated=True)
    else:
        decoded, _ = tf.nn.ctc_beam_search_decoder(time_major, lengths,
                                                   beam_width=beam_width, top_paths=1)
    return tf.cast(tf.sparse.to_dense(decoded[0], default_value=PAD), tf.int32)


def _sparse(ids):
    """A -1 padded (batch, width) tensor as a SparseTensor of its labels."""
    ids = tf.cast(ids, tf.int64)
    indices = tf.where(tf.greater_equal(ids, 0))
    return tf.SparseTensor(indices, tf.gather_nd(ids, indices),
                           tf.shape(ids, out_type=tf.int64))


@keras.saving.register_keras_serializable(package="rnn_pipeline")
class LabelErrorRate(keras.metrics.Metric):
    """Edit distance between decoded and true label sequences (both -1 padded), over the
    number of true labels, summed over the epoch: the WER when labels are words, the CER
    when they are characters."""

    def __init__(self, name="error_rate", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.edits = self.add_variable(shape=(), initializer="zeros", name="edits")
        self.labels = self.add_variable(shape=(), initializer="zeros", name="labels")

    def update_state(self, y_true, y_pred, sample_weight=None):
        edits = tf.edit_distance(_sparse(y_pred), _sparse(y_true), normalize=False)
        lengths = tf.cast(label_lengths(tf.cast(y_true, tf.int32)), edits.dtype)
        if sample_weight is not None:
            weight = tf.reshape(tf.cast(sample_weight, edits.dtype), [-1])
            edits, lengths = edits * weight, lengths * weight
        self.edits.assign_add(tf.cast(tf.reduce_sum(edits), self.dtype))
        self.labels.assign_add(tf.cast(tf.reduce_sum(lengths), self.dtype))

    def result(self):
        return self.edits / tf.maximum(self.labels, 1.0)


@keras.saving.register_keras_serializable(package="rnn_pipeline")
class SpeechRecognizer(SubclassedTask):
    """Log-mel frames (batch, time, num_mels) -> a label per recording ("classify") or a
    label sequence ("ctc"); see the module's conventions for inputs, masks and padding.

    ``call`` returns the class probabilities (batch, classes) ("classify"), or per-frame
    log-probabilities (batch, frames, len(labels) + 1), the blank last ("ctc"), over the
    subsampled frames. `predict_labels`, `decode`, `alignment` and `ids_to_text` run in
    the graph. The train step's loss is the head's own (`forward_loss`).

    Args:
        num_mels: features per input frame.
        labels: the class names ("classify", at least 2) or the vocabulary ("ctc", at
            least 1), in id order; non-empty, distinct strings.
        head: "classify" or "ctc".
        cell, units, num_layers, bidirectional, dropout, input_dropout, projection_dim,
            activation, init_scale, recurrent_initializer: the `FrameBackbone`.
        subsample: concatenate this many neighbouring frames before the backbone (1 =
            none); the backbone then runs over ceil(time / subsample) frames.
        pooling: "mean", "max" or "mean_max" over the real frames ("classify").
        beam_width: beams of ``decode(..., decoder="beam")`` ("ctc").
        seed: initialisation and dropout seed.
        spec_augment: in training, SpecAugment's time and frequency masks on the frames
            (`features.spec_augment`), new ones every step.
    """

    def __init__(self, num_mels, labels, head="classify", cell="lstm", units=128,
                 num_layers=2, bidirectional=True, dropout=0.0, input_dropout=0.0,
                 projection_dim=0, subsample=1, pooling="mean", beam_width=8,
                 activation="tanh", init_scale=None, recurrent_initializer=None, seed=0,
                 spec_augment=False, **kwargs):
        SPEECH_HEADS.check(head, "head")
        SPEECH_POOLINGS.check(pooling, "pooling")
        labels = list(labels)
        fewest = 2 if head == "classify" else 1
        if len(labels) < fewest:
            raise pipeline_error("labels", f"must hold at least {fewest} with head={head!r}",
                                 labels)
        if not all(isinstance(x, str) and x for x in labels) or len(set(labels)) < len(labels):
            raise pipeline_error("labels", "must be distinct non-empty strings", labels)
        for name, value in (("num_mels", num_mels), ("subsample", subsample),
                            ("beam_width", beam_width)):
            if not isinstance(value, int) or value < 1:
                raise pipeline_error(name, "must be an integer of at least 1", value)
        backbone = FrameBackbone(
            num_mels * subsample, cell=cell, units=units, num_layers=num_layers,
            bidirectional=bidirectional, dropout=dropout, input_dropout=input_dropout,
            projection_dim=projection_dim, activation=activation, init_scale=init_scale,
            recurrent_initializer=recurrent_initializer, seed=seed, name="frame_backbone")
        super().__init__(**kwargs)
        self.task_config = {
            "num_mels": num_mels, "labels": labels, "head": head, "cell": cell,
            "units": units, "num_layers": num_layers, "bidirectional": bidirectional,
            "dropout": dropout, "input_dropout": input_dropout,
            "projection_dim": projection_dim, "subsample": subsample, "pooling": pooling,
            "beam_width": beam_width, "activation": activation, "init_scale": init_scale,
            "recurrent_initializer": recurrent_initializer, "seed": seed,
            "spec_augment": bool(spec_augment)}
        self.head, self.labels, self.subsample = head, labels, subsample
        self.pooling, self.beam_width = pooling, beam_width
        self.spec_augment = bool(spec_augment)
        self.augment_seeds = keras.random.SeedGenerator(seed + 2000, name="spec_augment")
        # === Layers ===
        self.backbone = backbone
        init = {} if init_scale is None else {
            "kernel_initializer": keras.initializers.RandomUniform(
                -init_scale, init_scale, seed=seed + 1000)}
        self.output_projection = keras.layers.Dense(
            len(labels) + (head == "ctc"), name="logits", **init)
        self.class_nll = keras.losses.SparseCategoricalCrossentropy(
            from_logits=True, name="class_nll")
        self.sequence_nll = PerExampleLoss(name="ctc_nll")
        self.build()

    @property
    def blank_id(self):
        """The CTC blank's class id: ``len(labels)``."""
        return len(self.labels)

    def build(self, input_shape=None):
        """Builds every layer with one zero recording (the shape Keras passes is unused)."""
        if self.built:
            return
        self._logits(tf.zeros((1, self.subsample, self.task_config["num_mels"])))
        self.built = True

    # === Forward pass ===
    def _logits(self, inputs, training=False):
        """(logits, mask): (batch, classes) and None ("classify"), or (batch, frames,
        labels + 1) and the subsampled (batch, frames) mask ("ctc"); float32."""
        frames, mask = frames_and_mask(inputs)
        if training and self.spec_augment:  # new time and frequency masks every step
            frames = spec_augment(frames, mask, self.augment_seeds)
        frames, mask = subsample_frames(frames, mask, self.subsample)
        states = self.backbone(frames, mask=mask, training=training)  # (batch, frames, d)
        if self.head == "classify":
            states, mask = masked_pool(states, mask, self.pooling), None  # (batch, d)
        return tf.cast(self.output_projection(states), tf.float32), mask

    def call(self, inputs, training=False):
        """Class probabilities (batch, classes) ("classify"), or per-frame
        log-probabilities (batch, frames, labels + 1) ("ctc")."""
        logits, _ = self._logits(inputs, training=training)
        return tf.nn.softmax(logits) if self.head == "classify" else tf.nn.log_softmax(logits)

    def frame_mask(self, inputs):
        """The real frames after subsampling, (batch, frames) bool."""
        return subsample_frames(*frames_and_mask(inputs), self.subsample)[1]

    def predict_labels(self, inputs):
        """``(label ids (batch,) int32, probabilities (batch, classes))`` ("classify")."""
        self._needs("classify", "predict_labels")
        probabilities = self(inputs, training=False)
        return tf.argmax(probabilities, axis=-1, output_type=tf.int32), probabilities

    def decode(self, inputs, decoder="greedy"):
        """The label ids of each recording ("ctc"), (batch, width) int32, -1 padded.

        Args:
            inputs: as `call`.
            decoder: "greedy" (best symbol per frame, repeats merged, blanks removed) or
                "beam" (CTC beam search, ``beam_width`` beams).
        """
        self._needs("ctc", "decode")
        logits, mask = self._logits(inputs)
        lengths = tf.reduce_sum(tf.cast(mask, tf.int32), axis=1)
        return ctc_decode(tf.nn.log_softmax(logits), lengths, decoder, self.beam_width)

    def alignment(self, inputs):
        """The most likely symbol of every subsampled frame ("ctc"), (batch, frames)
        int32: a label id, ``blank_id``, or -1 on padding frames."""
        self._needs("ctc", "alignment")
        logits, mask = self._logits(inputs)
        return tf.where(mask, tf.argmax(logits, axis=-1, output_type=tf.int32), PAD)

    def ids_to_text(self, ids, separator=" "):
        """Label names of ids, in the graph: (batch,) ids -> (batch,) names, or (batch,
        width) -1 padded ids -> (batch,) strings of the names joined by ``separator``."""
        names = tf.constant(self.labels)
        ids = tf.convert_to_tensor(ids, tf.int32)
        if ids.shape.rank == 1:
            return tf.gather(names, ids)
        words = tf.ragged.boolean_mask(tf.gather(names, tf.maximum(ids, 0)), ids >= 0)
        return tf.strings.reduce_join(words, axis=-1, separator=separator)

    def _needs(self, head, method):
        if self.head != head:
            raise pipeline_error("head", f"must be {head!r} for {method}()", self.head)

    # === Training ===
    def forward_loss(self, x, y, sample_weight=None, training=False):
        """The head's loss and what the metrics read: the class probabilities
        ("classify"; mean cross-entropy), or the greedy decoding ("ctc"; mean CTC NLL per
        recording, from the real frames and the real labels of each row)."""
        logits, mask = self._logits(x, training=training)
        if self.head == "classify":
            loss = self.class_nll(y, logits, sample_weight=sample_weight)
            y_pred = tf.nn.softmax(logits)
        else:
            lengths = tf.reduce_sum(tf.cast(mask, tf.int32), axis=1)
            nll = ctc_nll(y, logits, lengths)  # (batch,)
            loss = self.sequence_nll(y, nll, sample_weight=sample_weight)
            y_pred = ctc_decode(tf.nn.log_softmax(logits), lengths, "greedy")
        if self.losses:
            loss = loss + keras.ops.sum(self.losses)
        return loss, y_pred

    def compile(self, optimizer="adam", metrics=None, jit_compile=False, **kwargs):
        """Args:
            optimizer: a Keras optimizer (instance or name).
            metrics: default: accuracy ("classify") or `LabelErrorRate` of the greedy
                decoding ("ctc", "error_rate").
            jit_compile: XLA has no CTC kernels.
        """
        if kwargs.get("loss") is not None:
            raise pipeline_error("loss", "must be unset: the speech model trains on its "
                                 "head's own loss", kwargs["loss"])
        kwargs.pop("loss", None)
        if metrics is None:
            metrics = ([keras.metrics.SparseCategoricalAccuracy(name="accuracy")]
                       if self.head == "classify" else [LabelErrorRate()])
        super().compile(optimizer=optimizer, metrics=metrics, jit_compile=jit_compile,
                        **kwargs)
