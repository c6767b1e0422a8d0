"""The language model's figure: the exact, token-weighted perplexity of a split, read from
a zero state (`training.evaluate`), and the loss it implies (mean NLL per token)."""

import math

from rnn_pipeline.data.corpora import SPLITS
from rnn_pipeline.training import evaluate


def evaluate_perplexity(model, data, verbose=0, log=None, what=None):
    """Exact perplexity over a split, starting from a zero state.

    Args:
        model: a compiled model with the perplexity metric.
        data: tf.data windows of the split.
        verbose: Keras verbosity.
        log: callable for progress lines, or None for none.
        what: the first words of those lines, e.g. "evaluating valid".

    Returns:
        {"loss": mean NLL per token, "perplexity": exp(loss)}.
    """
    perplexity = evaluate(model, data, verbose=verbose, log=log, what=what)["perplexity"]
    return {"loss": math.log(perplexity), "perplexity": perplexity}


def nonfinite_warning(final, run_path):
    """A warning line when a split's perplexity is NaN or Inf (else None)."""
    bad = [split for split in SPLITS if not math.isfinite(final[f"{split}_perplexity"])]
    if not bad:
        return None
    return (f"Warning: the {', '.join(bad)} perplexity is not finite although every training "
            f"step was finite. `rnn-pipeline diagnose {run_path}` shows whether the carried "
            f"state overflows.")
