"""What every task model shares: it owns its compile defaults, also after loading."""

import keras


class Task(keras.Model):
    """A keras-hub style task: ``compile()`` without arguments uses the task's defaults.

    ``nested_objects``: config keys that hold serialized Keras objects (layers, models).
    """

    nested_objects = ()

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in cls.nested_objects:
            if config.get(key) is not None:
                config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)

    def compile_from_config(self, config):
        """A loaded model is compiled with the saved optimizer and the task's loss/metrics."""
        optimizer = keras.optimizers.deserialize(config["optimizer"]) if config.get(
            "optimizer") else "adam"
        self.compile(optimizer=optimizer)
        self.optimizer.build(self.trainable_variables)  # so its saved state loads
