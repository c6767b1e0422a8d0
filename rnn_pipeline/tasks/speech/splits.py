"""Train/valid/test splits of recordings: deterministic, disjoint, seeded.

* ``official``: takes 0-4 of every speaker and label are test (FSDD's README: "Recordings
  numbered 0-4 (inclusive) are in the test and 5-49 are in the training set");
* ``speaker``: every recording of ``test_speaker`` is test, so the model meets a new voice;
* ``fractions``: a seeded shuffle gives ``test_fraction`` of the recordings to test.

In each, valid is a seeded ``valid_fraction`` share of the recordings that are not test.
Every split keeps the recordings in path order.
"""

import random

from rnn_pipeline.errors import pipeline_error

SPLITS = ("official", "speaker", "fractions")
OFFICIAL_TEST_TAKES = 5  # takes 0..4


def _take_share(recordings, fraction, seed, argument):
    """(the rest, a seeded ``fraction`` share) of path-sorted ``recordings``."""
    if not 0 <= fraction < 1:
        raise pipeline_error(argument, "must be at least 0 and below 1", fraction)
    count = round(len(recordings) * fraction) if fraction else 0
    if fraction and len(recordings) > 1:
        count = min(max(1, count), len(recordings) - 1)
    order = list(range(len(recordings)))
    random.Random(seed).shuffle(order)
    chosen = set(order[:count])
    return ([r for i, r in enumerate(recordings) if i not in chosen],
            [r for i, r in enumerate(recordings) if i in chosen])


def _official(recordings):
    missing = [r.path for r in recordings if r.take is None]
    if missing:
        raise pipeline_error("split", f"'official' needs each recording's take number "
                             f"(take_pattern, or the dataset 'fsdd'); {missing[0]} has none",
                             "official")
    return ([r for r in recordings if r.take >= OFFICIAL_TEST_TAKES],
            [r for r in recordings if r.take < OFFICIAL_TEST_TAKES])


def _speaker(recordings, test_speaker):
    missing = [r.path for r in recordings if r.speaker is None]
    if missing:
        raise pipeline_error("split", f"'speaker' needs each recording's speaker "
                             f"(speaker_pattern, a manifest's third column, or the dataset "
                             f"'fsdd'); {missing[0]} has none", "speaker")
    speakers = sorted({r.speaker for r in recordings})
    if test_speaker not in speakers or len(speakers) < 2:
        raise pipeline_error("test_speaker", f"must be one of the speakers "
                             f"({', '.join(speakers)}), and there must be another",
                             test_speaker)
    return ([r for r in recordings if r.speaker != test_speaker],
            [r for r in recordings if r.speaker == test_speaker])


def split_recordings(recordings, split="official", valid_fraction=0.1, test_fraction=0.1,
                     test_speaker=None, seed=0):
    """Splits recordings into train, valid and test.

    Args:
        recordings: [Recording].
        split: "official", "speaker" or "fractions" (see the module).
        valid_fraction: the share of the non-test recordings that go to valid.
        test_fraction: the share of all recordings that go to test (``fractions`` only).
        test_speaker: the held-out speaker (``speaker`` only).
        seed: the shuffles' seed.

    Returns:
        {"train": [...], "valid": [...], "test": [...]}, disjoint, each in path order.
    """
    if split not in SPLITS:
        raise pipeline_error("split", f"must be one of: {', '.join(map(repr, SPLITS))}", split)
    recordings = sorted(recordings, key=lambda r: r.path)
    if split == "official":
        rest, test = _official(recordings)
    elif split == "speaker":
        rest, test = _speaker(recordings, test_speaker)
    else:
        rest, test = _take_share(recordings, test_fraction, seed, "test_fraction")
    train, valid = _take_share(rest, valid_fraction, seed + 1, "valid_fraction")
    if not train or not test:
        raise pipeline_error("split", f"must leave recordings in train and test, but "
                             f"'{split}' gives {len(train)} train and {len(test)} test "
                             f"recordings", split)
    return {"train": train, "valid": valid, "test": test}
