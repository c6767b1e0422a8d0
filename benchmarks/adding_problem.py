"""Benchmark: the adding problem at several lengths for SimpleRNN (tanh; relu + identity,
the IRNN), LSTM and GRU: test MSE against always answering 1.0, and steps to solve it.

Every model: one recurrent layer of ``--units`` units -> Dense(1), Adam, global_clipnorm
1.0, fresh batches of ``--batch`` sequences every step. Every ``--every`` steps the MSE on
1,000 fixed validation sequences decides: "solved" = validation MSE below 0.01 (6% of the
always-1.0 error); training stops there or after ``--max-steps``. The reported test MSE
is measured once, at the end, on another 1,000 fixed sequences that never decided
anything.

Usage:
    python benchmarks/adding_problem.py --lengths 50 100 200 --max-steps 2000
"""

import argparse
import datetime
import json
import math
import os
import platform
import time

import keras
import numpy as np

from rnn_pipeline.diagnostics.adding import ALWAYS_ONE_MSE, adding_batch, adding_dataset
from rnn_pipeline.models.cells import make_rnn

MODELS = {
    "simple_rnn tanh": dict(cell="simple_rnn", activation="tanh"),
    "simple_rnn relu + identity (IRNN)": dict(cell="simple_rnn", activation="relu",
                                              recurrent_initializer="identity"),
    "lstm": dict(cell="lstm"),
    "gru": dict(cell="gru"),
}
SOLVED_MSE = 0.01


def build(spec, units, length, seed):
    keras.utils.set_random_seed(seed)
    spec = dict(spec)
    rnn = make_rnn(spec.pop("cell"), units, seed=seed, **spec)
    model = keras.Sequential([keras.Input((length, 2)), rnn, keras.layers.Dense(1)])
    return model


# Fixed evaluation sets: seeds far from the training batches' (seed, 0, 1, 2, ...).
VALID_SEED, TEST_SEED = 20_000, 10_000


class ValidationError(keras.callbacks.Callback):
    """Validation MSE after every epoch of ``--every`` steps; stops when solved or
    diverged."""

    def __init__(self, x, y):
        super().__init__()
        self.x, self.y, self.mse, self.steps = x, y, float("nan"), 0

    def on_epoch_end(self, epoch, logs=None):
        self.steps = (epoch + 1) * self.params["steps"]
        self.mse = float(self.model.evaluate(self.x, self.y, verbose=0))
        if self.mse < SOLVED_MSE or not math.isfinite(self.mse):
            self.model.stop_training = True


def run(name, spec, length, args):
    model = build(spec, args.units, length, args.seed)
    model.compile(optimizer=keras.optimizers.Adam(args.learning_rate, global_clipnorm=1.0),
                  loss="mse")
    valid_x, valid_y = adding_batch(np.array([VALID_SEED, 0]), 1000, length)
    test_x, test_y = adding_batch(np.array([TEST_SEED, 0]), 1000, length)
    train = adding_dataset(length, args.batch, seed=args.seed)
    probe = ValidationError(valid_x, valid_y)
    start = time.perf_counter()
    model.fit(train, steps_per_epoch=args.every, epochs=args.max_steps // args.every,
              callbacks=[probe], verbose=0)
    done = probe.steps
    solved_at = done if probe.mse < SOLVED_MSE else None
    diverged = not math.isfinite(probe.mse)
    mse = float(model.evaluate(test_x, test_y, verbose=0))
    row = {"model": name, "length": length, "test_mse": round(mse, 5),
           "valid_mse": round(probe.mse, 5), "vs_always_one": round(mse / ALWAYS_ONE_MSE, 4),
           "solved_at_step": solved_at,
           "steps_run": done, "diverged": diverged,
           "seconds": round(time.perf_counter() - start, 1)}
    print(json.dumps(row), flush=True)
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", type=int, nargs="+", default=[50, 100, 200])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--units", type=int, default=64)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--max-steps", type=int, default=2000)
    parser.add_argument("--every", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rows = [run(name, MODELS[name], length, args)
            for length in args.lengths for name in args.models]
    baseline = {length: float(np.mean((adding_batch(np.array([TEST_SEED, 0]), 1000, length)[1]
                                       .numpy() - 1.0) ** 2)) for length in args.lengths}
    print(json.dumps({"date": datetime.date.today().isoformat(),
                      "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores",
                      "args": vars(args), "always_one_test_mse": baseline,
                      "always_one_expected": ALWAYS_ONE_MSE, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
