"""Windows, exact perplexity, state carry-over, clipping and schedules."""

import math

import keras
import numpy as np
import pytest

from rnn_pipeline.config import ModelConfig, TrainConfig
from rnn_pipeline.tasks.causal_lm.data import lm_windows
from rnn_pipeline.errors import PipelineError
from rnn_pipeline.tasks.causal_lm.model import build_causal_lm
from rnn_pipeline.tasks.causal_lm.perplexity import evaluate_perplexity as evaluate
from rnn_pipeline.training import make_optimizer, make_schedule
from rnn_pipeline.training.state import reset_states

EOS = 1


def _windows(stream, batch_size, bptt):
    return list(lm_windows(stream, batch_size, bptt, EOS)[0].as_numpy_iterator())


@pytest.mark.parametrize("num_tokens, batch_size, bptt", [(11, 3, 2), (40, 2, 7), (5, 4, 3)])
def test_windows_predict_every_token_exactly_once(num_tokens, batch_size, bptt):
    stream = np.arange(2, 2 + num_tokens)
    windows = _windows(stream, batch_size, bptt)
    targets = np.concatenate([y[w > 0] for _, y, w in windows])
    assert sorted(targets.tolist()) == stream.tolist()
    for (x, y, w) in windows:
        assert x.shape == y.shape == w.shape == (batch_size, bptt)
    # Row r of window k+1 continues row r of window k: input t+1 == target t.
    rows_x = np.concatenate([x for x, _, _ in windows], axis=1)
    rows_y = np.concatenate([y for _, y, _ in windows], axis=1)
    rows_w = np.concatenate([w for _, _, w in windows], axis=1)
    for r in range(batch_size):
        real = rows_w[r] > 0
        np.testing.assert_array_equal(rows_x[r, 1:][real[1:]], rows_y[r, :-1][real[1:]])
    assert rows_x[0, 0] == EOS  # the first token is predicted from <eos>


def _simple_rnn_lm(batch_size, vocab=5, units=2):
    """A tiny SimpleRNN LM with fixed, hand-picked weights."""
    model = build_causal_lm(ModelConfig(cell="simple_rnn", embedding_dim=2, units=units,
                                        num_layers=1), vocab, batch_size)
    rng = np.random.default_rng(0)
    model.set_weights([rng.uniform(-1, 1, w.shape).astype(np.float32)
                       for w in model.get_weights()])
    model.compile()
    return model


def _hand_nll(model, stream):
    """Sum of -log p(token) computed in NumPy, one continuous stream from a zero state."""
    embedding, kernel, recurrent, bias, head_kernel, head_bias = model.get_weights()
    h = np.zeros(kernel.shape[1])
    total, previous = 0.0, EOS
    for token in stream:
        h = np.tanh(embedding[previous] @ kernel + h @ recurrent + bias)
        logits = h @ head_kernel + head_bias
        log_probs = logits - np.log(np.exp(logits - logits.max()).sum()) - logits.max()
        total -= log_probs[token]
        previous = token
    return total


def test_perplexity_matches_a_hand_computation_including_the_last_partial_window():
    stream = np.array([2, 3, 4, 1, 2, 2, 3, 1, 4, 4, 0, 1, 3], np.int32)  # 13 tokens
    model = _simple_rnn_lm(batch_size=1)
    dataset, num_windows = lm_windows(stream, batch_size=1, bptt=4, eos_id=EOS)
    assert num_windows == 4  # 4 + 4 + 4 + 1 (partial)
    result = evaluate(model, dataset)
    expected = _hand_nll(model, stream) / len(stream)
    assert result["loss"] == pytest.approx(expected, rel=1e-5)
    assert result["perplexity"] == pytest.approx(math.exp(expected), rel=1e-5)


def test_perplexity_over_parallel_streams_is_the_sum_over_rows():
    stream = np.array([2, 3, 4, 1, 2, 2, 3, 1, 4, 4, 0, 1, 3, 2, 2], np.int32)  # 15 tokens
    model = _simple_rnn_lm(batch_size=2)
    dataset, _ = lm_windows(stream, batch_size=2, bptt=3, eos_id=EOS)
    # Row 0 holds tokens 0..7 (context <eos>), row 1 tokens 8..14 (context: token 7).
    model_1 = _simple_rnn_lm(batch_size=1)
    model_1.set_weights(model.get_weights())
    first = _hand_nll(model_1, stream[:8])
    embedding = model.get_weights()[0]
    assert embedding.shape[0] == 5
    second = _hand_nll_from(model, stream[7], stream[8:])
    result = evaluate(model, dataset)
    assert result["loss"] == pytest.approx((first + second) / len(stream), rel=1e-5)


def _hand_nll_from(model, context, tokens):
    embedding, kernel, recurrent, bias, head_kernel, head_bias = model.get_weights()
    h, total, previous = np.zeros(kernel.shape[1]), 0.0, context
    for token in tokens:
        h = np.tanh(embedding[previous] @ kernel + h @ recurrent + bias)
        logits = h @ head_kernel + head_bias
        total -= logits[token] - np.log(np.exp(logits).sum())
        previous = token
    return total


def test_state_carries_from_window_k_to_window_k_plus_1():
    model = _simple_rnn_lm(batch_size=1)
    second = np.array([[2, 3, 4]], np.int32)
    targets = np.array([[3, 4, 1]], np.int32)

    def loss_after(first):
        reset_states(model)
        model.predict(first, verbose=0, batch_size=1)
        return model.test_on_batch(second, targets, return_dict=True)["loss"]

    after_a = loss_after(np.array([[2, 2, 2]], np.int32))
    after_b = loss_after(np.array([[4, 0, 3]], np.int32))
    assert abs(after_a - after_b) > 1e-4  # window k changes the loss of window k+1
    assert loss_after(np.array([[2, 2, 2]], np.int32)) == pytest.approx(after_a, abs=1e-7)
    reset_states(model)
    fresh = model.test_on_batch(second, targets, return_dict=True)["loss"]
    assert abs(fresh - after_a) > 1e-4 and abs(fresh - after_b) > 1e-4


def _apply(train_config, gradients):
    variables = [keras.Variable(np.zeros_like(g)) for g in gradients]
    optimizer = make_optimizer(train_config)
    optimizer.apply([keras.ops.convert_to_tensor(g) for g in gradients], variables)
    return [-v.numpy() for v in variables]  # SGD with lr 1: update = -clipped gradient


def test_clipnorm_clips_each_variable_and_global_clipnorm_clips_them_together():
    gradients = [np.array([3.0, 4.0], np.float32), np.array([0.6, 0.8], np.float32)]  # norms 5, 1
    per_variable = _apply(TrainConfig(optimizer="sgd", learning_rate=1.0, clipnorm=2.0), gradients)
    np.testing.assert_allclose(per_variable[0], [1.2, 1.6], rtol=1e-6)  # 5 -> 2
    np.testing.assert_allclose(per_variable[1], [0.6, 0.8], rtol=1e-6)  # 1 <= 2: unchanged
    joint = _apply(TrainConfig(optimizer="sgd", learning_rate=1.0, global_clipnorm=2.0), gradients)
    scale = 2.0 / math.sqrt(26.0)  # global norm sqrt(5^2 + 1^2)
    np.testing.assert_allclose(joint[0], [3.0 * scale, 4.0 * scale], rtol=1e-6)
    np.testing.assert_allclose(joint[1], [0.6 * scale, 0.8 * scale], rtol=1e-6)


def test_clipping_choices_are_checked():
    with pytest.raises(PipelineError, match=r"^train.clipnorm cannot be combined with "
                                            r"train.global_clipnorm \(= 1.0; a language "
                                            r"model's default is 1.0\): to clip per variable, "
                                            r'also set train.global_clipnorm = "none"'):
        make_optimizer(TrainConfig(clipnorm=1.0, global_clipnorm=1.0))
    with pytest.raises(PipelineError, match=r"^train.global_clipnorm must be positive"):
        make_optimizer(TrainConfig(global_clipnorm=0.0))


@pytest.mark.parametrize("name, cls", [("sgd", keras.optimizers.SGD),
                                       ("adam", keras.optimizers.Adam),
                                       ("adamw", keras.optimizers.AdamW)])
def test_optimizers(name, cls):
    optimizer = make_optimizer(TrainConfig(optimizer=name, learning_rate=0.5, weight_decay=0.1))
    assert type(optimizer) is cls and float(optimizer.learning_rate) == 0.5


def test_step_schedule_is_zaremba():
    (callback,) = make_schedule(TrainConfig(schedule="step", learning_rate=1.0, decay_start=4,
                                            decay_factor=0.5))
    rates = [callback.schedule(epoch, None) for epoch in range(7)]
    assert rates == [1.0, 1.0, 1.0, 1.0, 0.5, 0.25, 0.125]


def test_plateau_schedule_watches_the_validation_loss():
    (callback,) = make_schedule(TrainConfig(schedule="plateau", decay_factor=0.25, patience=1))
    assert isinstance(callback, keras.callbacks.ReduceLROnPlateau)
    assert (callback.monitor, callback.factor, callback.patience) == ("val_perplexity", 0.25, 1)
    assert make_schedule(TrainConfig(schedule="constant")) == []


def test_cosine_schedule_sets_the_rate_before_every_step():
    (callback,) = make_schedule(TrainConfig(schedule="cosine", learning_rate=1.0))
    seen = []
    record = keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: seen.append(
        float(model.optimizer.learning_rate)))
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(1.0), loss="mse")
    x = np.ones((4, 1), np.float32)
    model.fit(x, x, batch_size=2, epochs=2, callbacks=[callback, record], verbose=0)
    np.testing.assert_allclose(seen, [1.0, 0.853553, 0.5, 0.146447], atol=1e-6)



def test_streams_end_every_line_with_eos_and_keep_splits_apart():
    from rnn_pipeline.data.text_pipeline import split_streams
    from rnn_pipeline.data.corpora import Corpus
    from rnn_pipeline.data.preprocessor import TextPreprocessor
    from rnn_pipeline.data.vocabulary import Vocabulary

    vocabulary = Vocabulary(["<unk>", "<eos>", "a", "b"])
    preprocessor = TextPreprocessor({"name": "whitespace"}, vocabulary.itos)
    streams = split_streams(Corpus(["a b", "", "b zz"], [], ["a"]), preprocessor, vocabulary)
    assert streams["train"].tolist() == [2, 3, 1, 1, 3, 0, 1]
    assert streams["valid"].tolist() == [] and streams["test"].tolist() == [2, 1]


def test_early_stopping_is_off_by_default_and_checks_its_patience():
    from rnn_pipeline.errors import PipelineError
    from rnn_pipeline.training.stopping import make_early_stopping

    assert make_early_stopping(TrainConfig(), "val_perplexity") == []
    (callback,) = make_early_stopping(TrainConfig(early_stopping=2), "val_perplexity")
    assert (callback.monitor, callback.patience, callback.restore_best_weights) == (
        "val_perplexity", 2, True)
    with pytest.raises(PipelineError) as info:
        make_early_stopping(TrainConfig(early_stopping=0), "val_loss")
    assert str(info.value) == ("train.early_stopping must be at least 1 (epochs without a "
                               "better validation figure) or left out. Received: "
                               "train.early_stopping=0")


def test_progress_lines_without_a_terminal_report_step_speed_and_time_left():
    import numpy as np

    from rnn_pipeline.training.trainer import ProgressLines

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    lines = []
    model.fit(np.ones((40, 3)), np.zeros((40, 1)), batch_size=2, epochs=2, verbose=0,
              callbacks=[ProgressLines(lines.append, every=0.25)])
    assert len(lines) == 7  # at 25%, 50% and 75% of each epoch, and the ETA of epoch 2
    assert lines[0].startswith("epoch 1/2 step 5/20 (25%)  loss ")
    assert lines[3].startswith("run ETA ") and lines[3].endswith(": epoch 2/2 begins (1 to go)")
    assert lines[4].startswith("epoch 2/2 step 5/20 (25%)")
    assert " min left, run ETA " in lines[0] and " s/step, " in lines[0]


@pytest.mark.parametrize("batch_size", [1, 3])
def test_evaluation_at_any_batch_is_the_exact_nll_of_its_rows(fitted_lm_run, batch_size):
    from rnn_pipeline.models import RNNBackbone
    from rnn_pipeline.tasks.causal_lm.model import CausalLM
    from rnn_pipeline.tasks.causal_lm.workflow import LanguageModelWorkflow

    workflow = LanguageModelWorkflow.from_run(fitted_lm_run, log=lambda *_: None)
    result = workflow.evaluate_split("test", batch_size=batch_size)
    stream = np.asarray(workflow.run_streams(("test",))["test"])
    # By hand: a stateless copy reads each row whole from a zero state; row r holds tokens
    # [r * L, (r + 1) * L) of the stream, L = ceil(tokens / rows), and starts from <eos>.
    model = workflow.model
    config = {**model.backbone.get_config(), "stateful": False, "batch_size": None}
    stateless = CausalLM(RNNBackbone.from_config(config), tie_weights=model.tie_weights)
    stateless.set_weights(model.get_weights())
    inputs = np.concatenate([[workflow.vocabulary.eos_id], stream[:-1]])
    length, total = math.ceil(len(stream) / batch_size), 0.0
    for start in range(0, len(stream), length):
        logits = stateless(inputs[None, start:start + length], training=False).numpy()[0]
        log_probs = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
        total -= log_probs[np.arange(len(logits)), stream[start:start + length]].sum()
    assert result["loss"] == pytest.approx(total / len(stream), rel=1e-5)


def test_the_final_evaluation_shows_progress_and_the_same_figure(fitted_lm_run):
    from rnn_pipeline.tasks.causal_lm.workflow import LanguageModelWorkflow

    workflow = LanguageModelWorkflow.from_run(fitted_lm_run, log=lambda *_: None)
    stream = workflow.run_streams(("train",))["train"]
    data = workflow.windows(stream, batch_size=1)  # one stream: a window per bptt tokens
    steps = math.ceil(len(stream) / workflow.config.train.bptt)
    model, lines = workflow.model_for_batch(1), []
    shown = evaluate(model, data, log=lines.append, what="evaluating train")
    assert shown == evaluate(model, data)
    # A line at the first step that completes each 20% of the split, but not the last.
    expected = [math.ceil(share * steps / 5) for share in (1, 2, 3, 4)]
    assert steps >= 20 and [line.split("  ")[0] for line in lines] == [
        f"evaluating train step {step}/{steps} ({step / steps:.0%})" for step in expected]
    assert all("perplexity" in line and "min left" in line for line in lines)


@pytest.mark.parametrize("name", ["adam", "adamw"])
def test_train_epsilon_sets_how_much_adam_damps_tiny_gradients(name):
    # On its first step Adam moves a weight by lr * g / (|g| + eps / 0.0316): with Keras'
    # 1e-7 a gradient of 1e-7 still moves it by 3% of the rate, with 1e-5 by 0.03%, while
    # a normal gradient moves its weight by the whole rate either way.
    moved = {}
    for epsilon in (1e-7, 1e-5):
        tiny, normal = keras.Variable([0.0]), keras.Variable([0.0])
        optimizer = make_optimizer(TrainConfig(optimizer=name, learning_rate=1.0,
                                               epsilon=epsilon))
        optimizer.apply([keras.ops.convert_to_tensor([1e-7]),
                         keras.ops.convert_to_tensor([0.1])], [tiny, normal])
        moved[epsilon] = -float(tiny.numpy()[0])
        assert float(normal.numpy()[0]) == pytest.approx(-1.0, rel=1e-2)
    assert moved[1e-7] == pytest.approx(0.0306, rel=0.02)
    assert moved[1e-5] == pytest.approx(3.15e-4, rel=0.02)
    assert TrainConfig().epsilon == 1e-7  # Keras' default
    with pytest.raises(PipelineError, match=r"^train.epsilon must be positive\. "
                                            r"Received: train.epsilon=0.0"):
        make_optimizer(TrainConfig(optimizer=name, epsilon=0.0))


@pytest.mark.parametrize("schedule, expected", [
    ("constant", [0.25, 0.5, 0.75, 1.0, 1.0, 1.0]),
    # cosine over 6 steps sets 1, .933, .75, .5, .25, .067; the first 4 are warmed up
    ("cosine", [0.25, 0.4665, 0.5625, 0.5, 0.25, 0.0670]),
])
def test_warmup_ramps_the_scheduled_rate_and_leaves_the_schedule_alone(schedule, expected):
    class Rates(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.seen = []

        def on_train_batch_begin(self, batch, logs=None):
            self.seen.append(float(self.model.optimizer.learning_rate.numpy()))

    config = TrainConfig(optimizer="sgd", learning_rate=1.0, schedule=schedule, warmup_steps=4,
                         epochs=1)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer=make_optimizer(config), loss="mse")
    rates = Rates()
    model.fit(np.ones((6, 2)), np.ones((6, 1)), batch_size=1, epochs=1, verbose=0,
              callbacks=[*make_schedule(config), rates])
    np.testing.assert_allclose(rates.seen, expected, atol=1e-3)


def test_a_task_that_maximises_its_figure_keeps_its_best_epoch_and_plateaus_on_it():
    # A figure where higher is better (accuracy, F1): early stopping keeps the highest
    # epoch, and the plateau schedule cuts the rate only when it stops rising.
    from rnn_pipeline.training.stopping import RestoreBest, make_early_stopping

    (stopping,) = make_early_stopping(TrainConfig(early_stopping=2), "val_accuracy",
                                      mode="max")
    (plateau,) = make_schedule(TrainConfig(schedule="plateau", decay_factor=0.5, patience=1),
                               "val_accuracy", "max")
    assert isinstance(stopping, RestoreBest)
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(1.0))
    for callback in (stopping, plateau):
        callback.set_model(model)
        callback.on_train_begin()
    for epoch, accuracy in enumerate([0.5, 0.8, 0.7, 0.6]):
        model.layers[0].kernel.assign([[float(epoch)]])  # the epoch's weights
        for callback in (stopping, plateau):
            callback.on_epoch_end(epoch, {"val_accuracy": accuracy})
    assert stopping.best == 0.8 and stopping.best_epoch == 1 and stopping.model.stop_training
    stopping.on_train_end()
    assert float(model.layers[0].kernel[0, 0]) == 1.0  # epoch 2's weights restored
    assert float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)) == 0.25
    with pytest.raises(PipelineError, match=r"^direction must be 'min' \(a loss, perplexity\) "
                                            r"or 'max' \(an accuracy, F1\). Received: "
                                            r"direction='up'$"):
        make_early_stopping(TrainConfig(early_stopping=2), "val_accuracy", mode="up")
