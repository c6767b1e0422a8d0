"""Finding a pipeline file: a path, or the name of a bundled pipeline."""

from importlib import resources
from pathlib import Path

from rnn_pipeline.errors import pipeline_error

DEFAULT_PIPELINE = "default"


def bundled_names():
    """Names of the pipelines shipped in the package (``pipelines/*.toml``)."""
    root = resources.files("rnn_pipeline.pipelines")
    return sorted(p.name[:-5] for p in root.iterdir() if p.name.endswith(".toml"))


def resolve_pipeline(pipeline=None):
    """Returns the path of ``pipeline``: an existing file, or a bundled name.

    Args:
        pipeline: a file path, a bundled name such as "default", or None for the default.
    """
    pipeline = pipeline or DEFAULT_PIPELINE
    path = Path(pipeline)
    if path.is_file():
        return path
    bundled = resources.files("rnn_pipeline.pipelines") / f"{pipeline}.toml"
    if "/" not in pipeline and bundled.is_file():
        return Path(str(bundled))
    choices = ", ".join(bundled_names())
    raise pipeline_error("PIPELINE", f"must be an existing file or a bundled pipeline "
                         f"({choices})", pipeline)
