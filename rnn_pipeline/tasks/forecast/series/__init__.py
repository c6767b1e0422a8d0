"""Time series: reading and checking CSVs, chronological splits, tf.data windows."""
