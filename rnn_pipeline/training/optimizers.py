"""Optimizers by name (one registry), with the two kinds of gradient clipping.

* ``clipnorm`` (Keras): each gradient tensor is rescaled on its own so that its
  norm is at most ``clipnorm``. Different variables are clipped independently.
* ``global_clipnorm``: all gradients are rescaled together so that their joint
  (global) norm is at most ``global_clipnorm``; this is what
  ``torch.nn.utils.clip_grad_norm_`` and the classic PTB recipes do.
"""

import keras

from rnn_pipeline.choices import OPTIMIZERS
from rnn_pipeline.errors import pipeline_error

# Optimizers that divide each step by a running scale of the gradient, so a tiny gradient
# of constant sign takes a full-size step (why a tied LM starts from the unigram under them).
ADAPTIVE = ("adam", "adamw")


@OPTIMIZERS.register("sgd")
def sgd(train_config, **clipping):
    return keras.optimizers.SGD(train_config.learning_rate, momentum=train_config.momentum,
                                **clipping)


@OPTIMIZERS.register("adam")
def adam(train_config, **clipping):
    return keras.optimizers.Adam(train_config.learning_rate, epsilon=train_config.epsilon,
                                 **clipping)


@OPTIMIZERS.register("adamw")
def adamw(train_config, **clipping):
    return keras.optimizers.AdamW(train_config.learning_rate, epsilon=train_config.epsilon,
                                  weight_decay=train_config.weight_decay, **clipping)


def clipping_arguments(train_config):
    """The Keras optimizer keyword for the configured clipping (at most one)."""
    if train_config.clipnorm is not None and train_config.global_clipnorm is not None:
        raise pipeline_error("train.clipnorm", "cannot be combined with train.global_clipnorm "
                             f"(= {train_config.global_clipnorm}; a language model's default "
                             "is 1.0): to clip per variable, also set train.global_clipnorm = "
                             '"none"', train_config.clipnorm)
    for name in ("clipnorm", "global_clipnorm"):
        value = getattr(train_config, name)
        if value is not None and value <= 0:
            raise pipeline_error(f"train.{name}", "must be positive", value)
        if value is not None:
            return {name: value}
    return {}


def check_optimizer(train_config):
    """Checks ``train.optimizer``, its rate, epsilon and clipping without building it;
    returns (its factory, the clipping keyword)."""
    factory = OPTIMIZERS.get(train_config.optimizer)
    for key in ("learning_rate", "epsilon"):
        if getattr(train_config, key) <= 0:
            raise pipeline_error(f"train.{key}", "must be positive", getattr(train_config, key))
    return factory, clipping_arguments(train_config)


def make_optimizer(train_config):
    """Builds the optimizer named by ``train.optimizer`` with its clipping."""
    factory, clipping = check_optimizer(train_config)
    return factory(train_config, **clipping)
