"""Vocabulary (stoi/itos) built from the training split's token counts."""

from pathlib import Path

from rnn_pipeline.errors import pipeline_error

UNK = "<unk>"
EOS = "<eos>"
SPECIALS = (UNK, EOS)


class Vocabulary:
    """Token <-> id maps. Ids 0 and 1 are ``<unk>`` and ``<eos>``; a corpus token
    spelled ``<unk>`` (as in PTB) is the same id 0.

    Args:
        itos: tokens in id order, starting with ``<unk>`` and ``<eos>``.
    """

    def __init__(self, itos):
        if list(itos[:2]) != list(SPECIALS):
            raise ValueError(f"A vocabulary starts with {SPECIALS}. Received: itos[:2]={itos[:2]}")
        if len(set(itos)) != len(itos):
            raise ValueError("A vocabulary has no duplicate tokens.")
        self.itos = list(itos)
        self.stoi = {token: i for i, token in enumerate(self.itos)}

    @property
    def unk_id(self):
        return 0

    @property
    def eos_id(self):
        return 1

    def __len__(self):
        return len(self.itos)

    def id(self, token):
        return self.stoi.get(token, self.unk_id)

    @classmethod
    def build(cls, counts, max_size=None, min_frequency=1, extra_tokens=()):
        """Most frequent tokens first (ties in code-point order).

        Args:
            counts: mapping token -> count on the training split.
            max_size: largest size, specials included; ``None`` = no limit.
            min_frequency: tokens seen fewer times are left out (they become ``<unk>``).
            extra_tokens: tokens the tokenizer can emit though training never did
                (unused sentencepiece pieces); appended after the counted ones.
        """
        if max_size is not None and max_size < len(SPECIALS) + 1:
            raise pipeline_error("text.max_size", "must be at least 3 (two specials + one token)",
                                 max_size)
        if min_frequency < 1:
            raise pipeline_error("text.min_frequency", "must be at least 1", min_frequency)
        ranked = sorted((t for t, c in counts.items() if c >= min_frequency and t not in SPECIALS),
                        key=lambda t: (-counts[t], t))
        seen = set(ranked)
        ranked += [t for t in extra_tokens if t not in seen and t not in SPECIALS]
        if max_size is not None:
            ranked = ranked[: max_size - len(SPECIALS)]
        return cls(list(SPECIALS) + ranked)

    def save(self, path):
        """Writes one token per line, in id order (UTF-8)."""
        Path(path).write_text("".join(f"{t}\n" for t in self.itos), encoding="utf-8")

    @classmethod
    def load(cls, path):
        return cls(Path(path).read_text(encoding="utf-8").split("\n")[:-1])

