"""Named datasets: download URLs, sha256, split files, licence, cache and offline mirror."""

from rnn_pipeline.datasets.catalog import DATASETS, DatasetFile, DatasetSpec
from rnn_pipeline.datasets.fetch import cache_root, fetch_file, mirror_root

__all__ = ["DATASETS", "DatasetFile", "DatasetSpec", "cache_root", "fetch_file", "mirror_root"]
