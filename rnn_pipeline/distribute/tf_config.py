"""The standard ``TF_CONFIG`` of `tf.distribute.MultiWorkerMirroredStrategy`: read it,
check it (one line per mistake, naming the key) and write one for a local cluster.

``TF_CONFIG`` looks like ``{"cluster": {"worker": ["host1:12345", "host2:12345"]},
"task": {"type": "worker", "index": 0}}``; an optional "chief" job of one address comes
first in the global numbering, the "worker" tasks after it."""

import dataclasses
import json
import os

from rnn_pipeline.errors import pipeline_error

ENV_VAR = "TF_CONFIG"
TOP_LEVEL_KEYS = ("cluster", "task", "environment", "rpc_layer")
JOBS = ("chief", "worker", "evaluator")  # "ps" is refused with its own message
_SINGLE_TASK_JOBS = ("chief", "evaluator")
_ADDRESSES_RULE = 'must be a non-empty list of "host:port" strings; port must be an integer 1-65535'


def _names(values):
    return ", ".join(repr(value) for value in values)


@dataclasses.dataclass(frozen=True)
class ClusterConfig:
    """One task's view of the cluster.

    Args:
        jobs: {job name: tuple of "host:port"}, e.g. {"worker": ("h1:1234", "h2:1234")}.
        task_type: this task's job ("chief", "worker" or "evaluator").
        task_index: this task's position in its job.
    """

    jobs: dict = dataclasses.field(hash=False)
    task_type: str
    task_index: int

    @property
    def num_workers(self):
        """Tasks that train: those of the "chief" and "worker" jobs."""
        return len(self.jobs.get("chief", ())) + len(self.jobs.get("worker", ()))

    @property
    def is_chief(self):
        """The "chief" task, or worker 0 when the cluster has no "chief" job."""
        if "chief" in self.jobs:
            return self.task_type == "chief"
        return self.task_type == "worker" and self.task_index == 0

    @property
    def worker_id(self):
        """Global position among the training tasks (chief first, then the workers);
        None for an evaluator."""
        if self.task_type == "chief":
            return 0
        if self.task_type == "worker":
            return len(self.jobs.get("chief", ())) + self.task_index
        return None


def _valid_address(address):
    if not isinstance(address, str):
        return False
    host, sep, port = address.rpartition(":")
    return bool(host and sep and port.isdigit() and port.isascii() and 1 <= int(port) <= 65535)


def _read_jobs(cluster):
    key = f"{ENV_VAR}.cluster"
    if not isinstance(cluster, dict) or not cluster:
        raise pipeline_error(
            key, 'must be an object mapping job names to lists of "host:port" addresses', cluster)
    jobs = {}
    for name, addresses in cluster.items():
        job_key = f"{key}.{name}"
        if name == "ps":
            raise pipeline_error(
                job_key, "is not supported: parameter-server training is not supported, only "
                "MultiWorkerMirroredStrategy's 'chief' and 'worker' jobs", addresses)
        if name not in JOBS:
            raise pipeline_error(job_key, f"is not a known job; valid jobs: {_names(JOBS)}",
                                 addresses)
        if not (isinstance(addresses, list) and addresses
                and all(_valid_address(address) for address in addresses)):
            raise pipeline_error(job_key, _ADDRESSES_RULE, addresses)
        if name in _SINGLE_TASK_JOBS and len(addresses) != 1:
            raise pipeline_error(job_key, 'must be a list of exactly one "host:port" string',
                                 addresses)
        jobs[name] = tuple(addresses)
    if "chief" not in jobs and "worker" not in jobs:
        raise pipeline_error(key, "must have a 'worker' job (and optionally a 'chief' job)",
                             cluster)
    return jobs


def _parse(text):
    try:
        config = json.loads(text)
    except json.JSONDecodeError as exc:
        raise pipeline_error(
            ENV_VAR, f"is not valid JSON ({exc.msg}: line {exc.lineno} column {exc.colno})",
            text) from None
    if not isinstance(config, dict):
        raise pipeline_error(ENV_VAR, 'must be a JSON object with "cluster" and "task"', text)
    for key, value in config.items():
        if key not in TOP_LEVEL_KEYS:
            raise pipeline_error(f"{ENV_VAR}.{key}", "is not a TF_CONFIG key; valid keys: "
                                 f"{_names(TOP_LEVEL_KEYS)}", value)
    jobs = _read_jobs(config.get("cluster"))
    task = config.get("task")
    if not isinstance(task, dict):
        raise pipeline_error(f"{ENV_VAR}.task",
                             'must be an object like {"type": "worker", "index": 0}', task)
    task_type, index = task.get("type"), task.get("index")
    if task_type not in jobs:
        raise pipeline_error(f"{ENV_VAR}.task.type",
                             f"must be one of the cluster's jobs: {_names(jobs)}", task_type)
    size = len(jobs[task_type])
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < size:
        raise pipeline_error(f"{ENV_VAR}.task.index",
                             f"must be an integer in [0, {size}) for job {task_type!r}", index)
    return ClusterConfig(jobs=jobs, task_type=task_type, task_index=index)


def read_tf_config(environ=None):
    """Reads and checks ``TF_CONFIG``; None when it is unset or empty.

    Args:
        environ: the environment to read (default `os.environ`).

    Raises:
        PipelineError: a malformed TF_CONFIG, naming the key at fault.
    """
    text = (os.environ if environ is None else environ).get(ENV_VAR, "")
    if not text.strip():
        return None
    return _parse(text)


def make_tf_config(addresses, index):
    """The ``TF_CONFIG`` JSON of worker `index` in a cluster whose only job is "worker".

    Args:
        addresses: the workers' "host:port" addresses, worker 0 (the chief) first.
        index: this worker's position in `addresses`.
    """
    text = json.dumps({"cluster": {"worker": list(addresses)},
                       "task": {"type": "worker", "index": index}})
    _parse(text)  # the same checks as on reading
    return text


def is_chief_process(environ=None):
    """Whether this process is its cluster's chief (True without a ``TF_CONFIG``)."""
    cluster = read_tf_config(environ)
    return cluster is None or cluster.is_chief
