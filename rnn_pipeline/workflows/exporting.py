"""The export side of the `Workflow` contract: the TF Serving module of a trained run and
the export options a task takes (``rnn-pipeline export``)."""

from rnn_pipeline.errors import pipeline_error
from rnn_pipeline.tasks import WORKFLOWS


class Exporting:
    """A task's `export_options` (the ``serving_module`` options it takes) and its
    `make_serving_module`; `Workflow` inherits them."""

    export_options = ()

    def serving_module(self, assets_dir, **options):
        """The TF Serving module (a `tf.Module` with signatures) of the trained model.

        Args:
            assets_dir: folder for the export's assets.
            **options: `export_options` of the task; None keeps an option's default.
        """
        given = self.check_export_options(self.config.task, options)
        return self.make_serving_module(assets_dir, **given)

    @classmethod
    def check_export_options(cls, task, options):
        """The options that are set (not None); one the task does not take is an error.

        Args:
            task: the run's task name, for the message.
            options: {option: value or None}.
        """
        given = {key: value for key, value in options.items() if value is not None}
        for key, value in given.items():
            if key not in cls.export_options:
                takers = [repr(n) for n in WORKFLOWS.names()
                          if key in WORKFLOWS.get(n).export_options]
                option = f"--{key.replace('_', '-')}"
                raise pipeline_error(option, f"applies to {' and '.join(takers)} runs only, "
                                     f"not to a {task!r} run", value)
        return given

    def make_serving_module(self, assets_dir, **options):
        raise NotImplementedError
