"""The ``[train]`` section: optimisation, checkpoints and the distribution strategy."""

from dataclasses import dataclass, field
from typing import Optional

from rnn_pipeline import choices
from rnn_pipeline.limits import MAX_EPOCHS, MAX_SEED


def at_least(low, default, most=None):
    """A field whose value must be at least ``low`` (and at most ``most``, when given),
    checked when a file is loaded."""
    return field(default=default, metadata={"min": low, "max": most})


def seed_field(default=0):
    """A seed: a whole number in [0, `MAX_SEED`], used in full."""
    return at_least(0, default, most=MAX_SEED)


def matching(pattern, rule, default):
    """A string field that must match regular expression ``pattern`` (``rule`` says so in
    words), checked when a file is loaded."""
    return field(default=default, metadata={"pattern": pattern, "rule": rule})


def path_key(many=False):
    """A file path key (``many``: a list of file globs, default empty; else one path,
    default None). In a pipeline file a relative path is relative to the file's folder
    (`loader.load`); given with ``--set``, to the current folder."""
    if many:
        return field(default_factory=list, metadata={"path": True})
    return field(default=None, metadata={"path": True})


def one_of(registry, default):
    """A field whose value must be a name of ``registry`` (checked when a file is loaded)."""
    return field(default=default, metadata={"choices": registry})


@dataclass
class TrainConfig:
    """Optimisation.

    Args:
        epochs: passes over the training split.
        batch_size: parallel token streams (the global batch, over every replica).
        bptt: window length of truncated back-propagation through time.
        optimizer: "sgd", "adam" or "adamw".
        learning_rate: initial learning rate.
        momentum: SGD momentum.
        weight_decay: AdamW decoupled weight decay.
        epsilon: Adam/AdamW's epsilon (Keras' default): gradient entries much smaller
            than it take proportionally smaller steps.
        clipnorm: Keras per-variable clipping: each gradient tensor is clipped to this norm.
        global_clipnorm: one norm over all gradients, like ``torch.nn.utils.clip_grad_norm_``.
        schedule: "constant", "step", "plateau" or "cosine" (per step, to 0 at the end).
        warmup_steps: the first steps ramp the rate linearly up to the schedule's, from
            1/warmup_steps of it (0: no warmup).
        decay_factor: learning-rate factor of "step" and "plateau".
        decay_start: "step": epochs at the initial rate before decay starts.
        patience: "plateau": epochs without improvement before decaying.
        early_stopping: stop after this many epochs without a better validation figure
            and keep the best epoch's weights; None trains every epoch and keeps the last.
        seed: seed of initialisation, dropout and sentencepiece.
        checkpoint_every: also write a checkpoint every this many training steps; None:
            at every epoch end and every ``checkpoint_minutes`` only.
        checkpoint_minutes: minutes of training between timed checkpoints.
        strategy: "default" (one device), "mirrored" (the local GPUs, or logical CPU
            devices) or "multi_worker" (the machines of ``TF_CONFIG``).
        devices: "mirrored": how many devices; None = every GPU, or 2 CPU devices.
        jit_compile: compile the whole train step with XLA (one device only); the same
            losses to float32 round-off, faster for LSTM language models on CPU.
        recurrence: how LSTM layers run while training (`rnn_pipeline.models.recurrence`):
            "unrolled" (the window written out, with a hand-written gradient), "loop"
            (Keras' loop) or "fused" (TensorFlow's BlockLSTMV2 kernels; no XLA). The
            same figures to float32 round-off; exports always run Keras' loop.
        precision: "float32", "mixed_bfloat16" (float32 weights, bfloat16 products; the
            saved model and exports stay float32) or "auto" (bfloat16 only where the CPU
            has AMX or AVX512-BF16, or on a GPU; the log says which).
    """

    epochs: int = at_least(1, 6, most=MAX_EPOCHS)
    batch_size: int = at_least(1, 20)
    bptt: int = at_least(1, 35)
    optimizer: str = one_of(choices.OPTIMIZERS, "adam")
    learning_rate: float = 0.002
    momentum: float = 0.0
    weight_decay: float = 0.0
    epsilon: float = 1e-7
    clipnorm: Optional[float] = None
    global_clipnorm: Optional[float] = None
    schedule: str = one_of(choices.SCHEDULES, "constant")
    warmup_steps: int = at_least(0, 0)
    decay_factor: float = 0.5
    decay_start: int = 4
    patience: int = 0
    early_stopping: Optional[int] = None
    seed: int = seed_field()
    checkpoint_every: Optional[int] = at_least(1, None)
    checkpoint_minutes: float = at_least(0.0, 10.0)
    strategy: str = one_of(choices.STRATEGIES, "default")
    devices: Optional[int] = at_least(1, None)
    jit_compile: bool = False
    recurrence: str = one_of(choices.RECURRENCES, "unrolled")
    precision: str = one_of(choices.PRECISIONS, "float32")
