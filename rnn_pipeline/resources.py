"""Will a model and its batch fit in this machine's memory? An estimate made before
anything is built, so that ``model.units = 1000000000`` is one line naming the key, not
an out-of-memory crash a minute later.

The estimate counts float32 numbers: every weight four times while training (the weight,
its gradient and two Adam slots), and the activations a batch keeps for the backward pass
(the output layer's logits three times: logits, probabilities and their gradient). It
refuses what needs more than `SHARE` of the memory available now."""

from dataclasses import dataclass

from rnn_pipeline.errors import pipeline_error

FLOAT_BYTES = 4
TRAINING_COPIES = 4  # weight, gradient, Adam's two slots
LOGIT_COPIES = 3  # logits, softmax, gradient
SHARE = 0.8
GATES = {"simple_rnn": 1, "gru": 3, "lstm": 4}


@dataclass
class MemoryPart:
    """One term of the estimate.

    Args:
        key: the config key or option that sets it (named when the estimate is refused).
        value: that key's value.
        numbers: how many float32 numbers it needs.
        what: a few words for the message, e.g. "the recurrent weights".
    """

    key: str
    value: object
    numbers: float
    what: str


def available_bytes():
    """Memory available to a new allocation now: ``MemAvailable`` of /proc/meminfo (or
    the physical memory where that file is missing)."""
    import os

    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def recurrent_weights(model, input_dim):
    """Weights of the recurrent stack of ``model`` (a `RecurrentConfig`) over inputs of
    ``input_dim`` features: (the first layer's input kernels, all the others)."""
    gates = GATES.get(model.cell, 4)
    directions = 2 if model.bidirectional else 1
    first_inputs = directions * gates * input_dim * model.units
    total, width = 0, input_dim
    for _ in range(model.num_layers):
        total += directions * gates * (width + model.units + 2) * model.units
        width = directions * model.units
    return first_inputs, total - first_inputs


def recurrent_parts(model, input_dim, batch, steps, batch_key="train.batch_size",
                    input_key="model.embedding_dim"):
    """The recurrent stack's weights (its first input kernels blamed on ``input_key``, the
    rest on ``model.units``) and the states a batch of ``batch`` sequences of ``steps``
    steps keeps (blamed on ``batch_key``)."""
    directions = 2 if model.bidirectional else 1
    states = batch * steps * model.num_layers * directions * model.units * \
        (GATES.get(model.cell, 4) + 1)
    inputs, recurrent = recurrent_weights(model, input_dim)
    return [MemoryPart("model.units", model.units, TRAINING_COPIES * recurrent,
                       "the recurrent weights"),
            MemoryPart(input_key, input_dim, TRAINING_COPIES * inputs,
                       "the first layer's input weights"),
            MemoryPart(batch_key, batch, states, f"the states of a batch of {batch:,} x "
                                                 f"{steps:,} steps")]


def vocabulary_parts(vocabulary_size, embedding_dim, units, batch, steps, tied=False,
                     batch_key="train.batch_size", embedding_key="model.embedding_dim"):
    """An embedding and a softmax over ``vocabulary_size`` words, and the logits of a batch."""
    output = 0 if tied else units * vocabulary_size + vocabulary_size
    return [MemoryPart(embedding_key, embedding_dim,
                       TRAINING_COPIES * vocabulary_size * embedding_dim,
                       f"the embedding of {vocabulary_size:,} words"),
            MemoryPart("model.units", units, TRAINING_COPIES * output,
                       f"the output layer over {vocabulary_size:,} words"),
            MemoryPart(batch_key, batch, LOGIT_COPIES * batch * steps * vocabulary_size,
                       f"the logits of a batch of {batch:,} x {steps:,} tokens")]


def _size(count):
    gib = count / 2**30
    return f"{gib:,.1f} GiB" if gib >= 0.1 else f"{count / 2**20:,.0f} MiB"


def check_memory(parts, available=None, purpose="training"):
    """Refuses an estimate above `SHARE` of the available memory, naming the key of its
    largest part.

    Args:
        parts: `MemoryPart` terms.
        available: bytes available (default: `available_bytes`).
        purpose: what needs the memory, for the message ("training", "evaluating").
    """
    available = available_bytes() if available is None else available
    needed = sum(part.numbers for part in parts) * FLOAT_BYTES
    if needed <= SHARE * available:
        return needed
    largest = max(parts, key=lambda part: part.numbers)
    raise pipeline_error(largest.key, f"must be smaller: {purpose} needs about "
                         f"{_size(needed)} ({largest.what}: {_size(largest.numbers * FLOAT_BYTES)})"
                         f", more than the {_size(SHARE * available)} this machine can give "
                         f"it ({SHARE:.0%} of the {_size(available)} available now)",
                         largest.value)
