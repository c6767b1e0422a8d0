"""What every task model shares: it owns its compile defaults, also after loading."""

import keras


class Task(keras.Model):
    """A keras-hub style task: ``compile()`` without arguments uses the task's defaults."""

    def compile_from_config(self, config):
        """A loaded model is compiled with the saved optimizer and the task's loss/metrics."""
        optimizer = keras.optimizers.deserialize(config["optimizer"]) if config.get(
            "optimizer") else "adam"
        self.compile(optimizer=optimizer)
        self.optimizer.build(self.trainable_variables)  # so its saved state loads
