"""Text generation in the graph: samplers, an explicit-state stepper, beam search."""

from rnn_pipeline.generation.generate import generate, generate_ids
from rnn_pipeline.generation.samplers import SAMPLERS, make_sampler
from rnn_pipeline.generation.stepper import RecurrentStepper

__all__ = ["SAMPLERS", "RecurrentStepper", "generate", "generate_ids", "make_sampler"]
