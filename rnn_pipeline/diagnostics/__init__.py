"""Making vanishing and exploding gradients visible: norms through time, the W_h bound,
the adding problem and their plots."""
