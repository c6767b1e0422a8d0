"""Freezing a layer for the first epochs of training."""

import keras


class FrozenForEpochs(keras.callbacks.Callback):
    """Keeps ``layer`` frozen for the first ``epochs`` epochs, then trains it.

    The optimizer is built over all variables before the layer is frozen, so it has
    slots (Adam moments) for the layer's variables when they start training.

    Args:
        layer: the layer to freeze, e.g. a pretrained embedding.
        epochs: epochs to keep it frozen.
        log: optional callable receiving the line logged when the layer thaws.
    """

    def __init__(self, layer, epochs, log=None):
        super().__init__()
        self.layer, self.epochs, self.log = layer, epochs, log

    def _set_trainable(self, trainable):
        self.layer.trainable = trainable  # the training loop retraces over the new list

    def on_train_begin(self, logs=None):
        optimizer = self.model.optimizer
        if not optimizer.built:
            optimizer.build(self.model.trainable_variables)
        if self.epochs > 0:
            self._set_trainable(False)

    def on_epoch_begin(self, epoch, logs=None):
        if epoch >= self.epochs and not self.layer.trainable:  # also on a resumed run
            self._set_trainable(True)
            if self.log:
                self.log(f"{self.layer.name}: frozen for {self.epochs} epoch(s), "
                         f"trained from epoch {epoch + 1}")
