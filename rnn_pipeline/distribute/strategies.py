"""`tf.distribute` strategies by name (``train.strategy``), and how a global batch is
split among their replicas.

Every strategy splits each global batch of B rows into one contiguous chunk of
``ceil(B / replicas)`` rows per replica, so the replicas together see exactly the batches
of a one-device run: the stateful language model's B parallel streams are divided among
the replicas (each carries its own rows' state), forecast windows and sentence pairs
likewise.
"""

import tensorflow as tf

from rnn_pipeline.choices import STRATEGIES
from rnn_pipeline.distribute.tf_config import is_chief_process, read_tf_config
from rnn_pipeline.errors import pipeline_error

DEFAULT_CPU_DEVICES = 2


@STRATEGIES.register("default")
def default_strategy(devices=None):
    """One device: TensorFlow's default (no-op) strategy."""
    if devices is not None:
        raise pipeline_error("train.devices", "applies to train.strategy 'mirrored' only",
                             devices)
    return tf.distribute.get_strategy()


@STRATEGIES.register("mirrored")
def mirrored(devices=None):
    """`tf.distribute.MirroredStrategy` over the local GPUs or, without GPUs, over
    ``devices`` logical CPU devices (default 2), which must be set up before TensorFlow
    first runs an op."""
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        count = len(gpus) if devices is None else devices
        if count > len(gpus):
            raise pipeline_error("train.devices", f"must be at most the {len(gpus)} GPUs here",
                                 devices)
        names = [f"/gpu:{i}" for i in range(count)]
    else:
        count = DEFAULT_CPU_DEVICES if devices is None else devices
        cpu = tf.config.list_physical_devices("CPU")[0]
        try:
            tf.config.set_logical_device_configuration(
                cpu, [tf.config.LogicalDeviceConfiguration()] * count)
        except RuntimeError:  # TensorFlow already started: keep what it has
            pass
        names = [d.name for d in tf.config.list_logical_devices("CPU")][:count]
        if len(names) < count:
            raise pipeline_error("train.devices", f"can only be {len(names)} here: TensorFlow "
                                 f"had already started with {len(names)} CPU device(s)", devices)
    return tf.distribute.MirroredStrategy(names)


@STRATEGIES.register("multi_worker")
def multi_worker(devices=None):
    """`tf.distribute.MultiWorkerMirroredStrategy` over the cluster of ``TF_CONFIG``."""
    if devices is not None:
        raise pipeline_error("train.devices", "applies to train.strategy 'mirrored' only",
                             devices)
    cluster = read_tf_config()
    if cluster is None:
        raise pipeline_error("train.strategy", "'multi_worker' needs the TF_CONFIG environment "
                             "variable of its cluster (or use rnn-pipeline fit --local-workers "
                             "N)", "multi_worker")
    return tf.distribute.MultiWorkerMirroredStrategy()


def make_strategy(train_config):
    """The strategy of ``train.strategy``; create it before TensorFlow runs any op."""
    return STRATEGIES.get(train_config.strategy)(train_config.devices)


def is_chief(strategy):
    """Whether this process writes the run folder: always, except on a multi-worker
    cluster's other workers."""
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return True
    return is_chief_process()


def replica_chunks(dataset, replicas):
    """Each batch of ``dataset`` as ``replicas`` consecutive elements: its rows cut into
    chunks of ``ceil(rows / replicas)`` (the last chunks may be shorter or empty)."""
    if replicas == 1:
        return dataset

    def chunks(*batch):
        batch = batch if len(batch) > 1 else batch[0]
        rows = tf.shape(tf.nest.flatten(batch)[0])[0]
        size = (rows + replicas - 1) // replicas
        parts = [tf.nest.map_structure(lambda t, r=r: t[r * size:(r + 1) * size], batch)
                 for r in range(replicas)]
        stacked = tf.data.Dataset.from_tensors(parts[0])
        for part in parts[1:]:
            stacked = stacked.concatenate(tf.data.Dataset.from_tensors(part))
        return stacked

    return dataset.flat_map(chunks)


def distribute(strategy, dataset):
    """``dataset`` (global batches) as the strategy's per-replica input: replica ``r`` of
    worker ``w`` gets chunk ``w * local_replicas + r`` of every batch."""
    replicas = strategy.num_replicas_in_sync
    if replicas == 1:
        return dataset
    chunked = replica_chunks(dataset, replicas)

    def per_worker(context):
        local = replicas // context.num_input_pipelines
        first = context.input_pipeline_id * local
        mine = chunked.enumerate().filter(
            lambda i, _: tf.logical_and(i % replicas >= first, i % replicas < first + local))
        return mine.map(lambda _, batch: batch).prefetch(tf.data.AUTOTUNE)

    options = tf.distribute.InputOptions(experimental_fetch_to_device=True)
    return strategy.distribute_datasets_from_function(per_worker, options)


def any_worker(strategy):
    """A callable ``agree(flag) -> bool``: True on every worker when any worker's flag is
    True (one all-reduce); plain ``bool`` in a single process."""
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return bool

    @tf.function
    def total(flag):
        per_replica = strategy.run(tf.identity, args=(flag,))
        return strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None)

    def agree(flag):
        return float(total(tf.constant(1.0 if flag else 0.0))) > 0

    return agree
