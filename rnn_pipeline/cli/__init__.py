"""The ``rnn-pipeline`` command line."""
