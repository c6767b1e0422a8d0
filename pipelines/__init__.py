"""Bundled pipeline files. ``rnn-pipeline fit NAME`` finds ``NAME.toml`` here."""
