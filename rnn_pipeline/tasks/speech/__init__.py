"""Speech recognition from WAV files (issue 37): log-mel features inside the graph
(`features`), recordings, checks, splits and concatenated utterances (`data`), WER/CER
(`metrics`)."""
