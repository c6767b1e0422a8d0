"""A table file (CSV, or Parquet with pyarrow) -> a pandas frame with the columns a
pipeline names, or one clear error line naming the file, the key and the columns."""

import pandas as pd

from rnn_pipeline.errors import pipeline_error


def check_columns(frame, path, time_column, targets, covariates, argument, id_column=None):
    """Every named column is in ``frame``. A config key ``argument`` ("series.csv") names
    the key of a missing column; an option ("--input") lists the columns the file lacks.

    Args:
        id_column: the column of series ids of a file of many series, or None.
    """
    available = list(frame.columns)
    ids = [] if id_column is None else [id_column]
    wanted = [*ids, time_column, *targets, *covariates]
    lacking = [name for name in wanted if name not in available]
    if lacking and not argument.startswith("series."):
        raise pipeline_error(argument, f"must have the run's columns "
                             f"{', '.join(map(repr, wanted))}; "
                             f"it lacks {', '.join(map(repr, lacking))} (it has "
                             f"{', '.join(map(repr, available))})", str(path))
    for key, names in (("series.id_column", ids), ("series.time_column", [time_column]),
                       ("series.targets", targets), ("series.covariates", covariates)):
        for name in names:
            if name not in available:
                raise pipeline_error(key, f"must name columns of {path} "
                                     f"({', '.join(map(repr, available))})", name)
    if not targets:
        raise pipeline_error("series.targets", "must name at least one column", targets)
    overlap = set(targets) & set(covariates)
    if overlap:
        raise pipeline_error("series.covariates", "must not repeat a target", sorted(overlap))
    if id_column is not None and id_column in [time_column, *targets, *covariates]:
        raise pipeline_error("series.id_column", "must not be the time column, a target or "
                             "a covariate", id_column)


def one_line(exc):
    """The text of an exception on one line (pandas' parser errors end in a newline)."""
    return " ".join(str(exc).split())


def read_frame(path, argument, dtype=None, kind="CSV"):
    """The CSV as a pandas frame, or one error naming ``argument`` and what is wrong.

    Args:
        dtype: `pandas.read_csv`'s ``dtype``, e.g. {"unique_id": str}.
        kind: "CSV", or "Parquet" for `pandas.read_parquet` (which needs pyarrow or
            fastparquet).
    """
    try:
        if kind == "Parquet":
            return pd.read_parquet(path)
        return pd.read_csv(path, dtype=dtype)
    except FileNotFoundError:
        raise pipeline_error(argument, f"must be an existing {kind} file", str(path)) from None
    except IsADirectoryError:
        raise pipeline_error(argument, f"must be a {kind} file, not a directory",
                             str(path)) from None
    except pd.errors.EmptyDataError:
        raise pipeline_error(argument, "must be a CSV file with a header line and data rows; "
                             "it is empty", str(path)) from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise pipeline_error(argument, f"must be a readable CSV ({one_line(exc)})",
                             str(path)) from None
    except ImportError:  # pandas found no Parquet engine
        if kind != "Parquet":
            raise
        raise pipeline_error(argument, "is a Parquet file, which needs pyarrow (or "
                             "fastparquet) to be read, and neither is installed: pip install "
                             "pyarrow", str(path)) from None
    except ValueError as exc:  # pyarrow's ArrowInvalid: not a Parquet file
        if kind != "Parquet":
            raise
        raise pipeline_error(argument, f"must be a readable Parquet file ({one_line(exc)})",
                             str(path)) from None
    except OSError as exc:  # permissions, a special file
        raise pipeline_error(argument, f"must be a readable {kind} file "
                             f"({exc.strerror or one_line(exc)})", str(path)) from None
