"""The classic feature-based CRF a user would otherwise pick (``sklearn-crfsuite``, the
``bench`` extra): hand-made word-shape, affix and neighbour features, L-BFGS with L1 and L2
penalties. The tagger's benchmarks train it on the same splits as a same-run baseline.

The features are plain Python (no crfsuite needed); only `FeatureCRF.fit` imports it.
"""

import re
import unicodedata

_SHAPE_RUNS = re.compile(r"(.)\1+")


def _script(character):
    """A coarse Unicode class of one character: kanji, hiragana, katakana, latin, digit,
    punct or other (the usual character-type feature for Japanese)."""
    if character.isdigit():
        return "digit"
    name = unicodedata.name(character, "")
    for script in ("CJK", "HIRAGANA", "KATAKANA", "LATIN"):
        if name.startswith(script):
            return "kanji" if script == "CJK" else script.lower()
    return "punct" if unicodedata.category(character).startswith("P") else "other"


def word_shape(token):
    """``"McDonald's"`` -> ``"XxXx'x"``: letters as X/x, digits as d, runs collapsed."""
    shape = "".join("X" if c.isupper() else "x" if c.isalpha() else "d" if c.isdigit()
                    else c for c in token)
    return _SHAPE_RUNS.sub(r"\1", shape)


def _own_features(token, prefix):
    lower = token.lower()
    return {
        f"{prefix}lower": lower, f"{prefix}shape": word_shape(token),
        f"{prefix}suffix2": lower[-2:], f"{prefix}suffix3": lower[-3:],
        f"{prefix}prefix2": lower[:2], f"{prefix}prefix3": lower[:3],
        f"{prefix}title": token.istitle(), f"{prefix}upper": token.isupper(),
        f"{prefix}digit": token.isdigit(), f"{prefix}script": _script(token[0]) if token else "",
    }


def token_features(tokens, index, window=2):
    """The features of ``tokens[index]``: its own, and the lower case, shape and script of
    the tokens up to ``window`` away (``BOS``/``EOS`` at the sentence's ends).

    Args:
        tokens: the sentence's words (or characters).
        index: position of the token.
        window: how many neighbours on each side.
    """
    features = {"bias": 1.0, **_own_features(tokens[index], "")}
    for offset in [o for o in range(-window, window + 1) if o]:
        position = index + offset
        key = f"{offset:+d}:"
        if position < 0:
            features[key + "BOS"] = True
        elif position >= len(tokens):
            features[key + "EOS"] = True
        else:
            neighbour = tokens[position]
            features.update({key + "lower": neighbour.lower(), key + "shape":
                             word_shape(neighbour), key + "script": _script(neighbour[0])
                             if neighbour else ""})
    return features


def sentence_features(tokens, window=2):
    """`token_features` of every token of a sentence."""
    return [token_features(tokens, i, window) for i in range(len(tokens))]


class FeatureCRF:
    """A linear-chain CRF over hand-made features (crfsuite's L-BFGS training).

    Args:
        c1: L1 penalty.
        c2: L2 penalty.
        max_iterations: L-BFGS iterations.
        window: neighbours on each side in the features.
    """

    def __init__(self, c1=0.1, c2=0.1, max_iterations=100, window=2):
        self.c1, self.c2, self.max_iterations, self.window = c1, c2, max_iterations, window
        self._crf = None

    def fit(self, sentences):
        """Trains on `TaggedSentence`s; returns self."""
        import sklearn_crfsuite

        self._crf = sklearn_crfsuite.CRF(algorithm="lbfgs", c1=self.c1, c2=self.c2,
                                         max_iterations=self.max_iterations,
                                         all_possible_transitions=True)
        self._crf.fit([sentence_features(s.tokens, self.window) for s in sentences],
                      [list(s.tags) for s in sentences])
        return self

    def predict(self, token_lists):
        """One tag list per token list."""
        return [list(tags) for tags in self._crf.predict(
            [sentence_features(tokens, self.window) for tokens in token_lists])]
