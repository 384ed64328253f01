"""Send groups to an existing Ray cluster; results come back to the driver, which alone writes the store.

The prepared dataset is put into Ray's object store once and shared by every task, so workers
need machop installed but not the data file. Each task asks for one CPU: tiny models want one
thread per process (performance notes), so a node with N cores trains N groups at once.

Left alone, ``ray.init`` retries an unreachable address for over ten minutes (20 attempts of
about 40 s). Ray reads its connection bounds from ``RAY_*`` environment variables, so they are set
for the duration of the import and the connection only: one attempt that waits ``timeout_s``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from chop.errors import MachopError
from chop.sweep.runner import Claim, Finished, GroupTask, execute_group

if TYPE_CHECKING:
    from chop.dataset.splits import DatasetSplits


class RayError(MachopError):
    """The Ray cluster cannot be reached or a worker failed."""


DEFAULT_CONNECT_TIMEOUT_S = 30


def connect_settings(timeout_s: int) -> dict[str, str]:
    """The environment Ray reads its connection bounds from: one attempt of ``timeout_s`` seconds.

    ``gcs_server_port_wait_time_s`` is the number of attempts of Ray's outer loop (about one
    second apart); ``py_gcs_connect_timeout_s`` is how long one attempt waits for the GCS to
    answer; the channel's own wait only prints Ray's warning and is kept short; the last bounds
    Ray's wait for a raylet on this machine (a driver must run on a node of the cluster).
    """
    return {"RAY_gcs_server_port_wait_time_s": "1", "RAY_gcs_rpc_server_connect_timeout_s": "1",
            "RAY_py_gcs_connect_timeout_s": str(timeout_s), "RAY_gcs_server_request_timeout_seconds": str(timeout_s)}


@contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    """``values`` in ``os.environ`` inside the block; what was there before is put back after it."""
    before = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


class RayBackend:
    """Groups as Ray tasks on the cluster at ``address`` (e.g. ``10.0.0.5:6379`` or ``auto``)."""

    def __init__(self, address: str, num_cpus_per_group: float = 1.0,
                 connect_timeout_s: int = DEFAULT_CONNECT_TIMEOUT_S) -> None:
        self.address = address
        self.num_cpus = num_cpus_per_group
        self.connect_timeout_s = connect_timeout_s

    def _connect(self) -> Any:
        """Import Ray and join the cluster within the bound, or one line naming the address."""
        with _environment(connect_settings(self.connect_timeout_s)):
            try:
                import ray
            except ImportError:
                raise RayError("--ray needs Ray: pip install 'machop[ray]'") from None
            try:
                ray.init(address=self.address, logging_level="WARNING", log_to_driver=False)
            except (ConnectionError, RuntimeError, ValueError) as error:
                first = (str(error).strip().splitlines() or [type(error).__name__])[0]
                raise RayError(f"cannot connect to the Ray cluster at {self.address} within {self.connect_timeout_s} s "
                               f"({first}); check that `ray start --head` runs there on that port, that the port is "
                               f"reachable from here, and that this machine has joined the cluster "
                               f"(`ray start --address {self.address}`)") from None
        return ray

    def run(self, tasks: Sequence[GroupTask], data: DatasetSplits, claim: Claim, finished: Finished) -> None:
        """Every group this driver can claim goes to the cluster at once; Ray queues what exceeds its CPUs."""
        if not tasks:
            return
        ray = self._connect()
        try:
            remote = ray.remote(num_cpus=self.num_cpus, max_retries=1)(execute_group)
            shared = ray.put(data)
            pending = {}
            for task in filter(claim, tasks):
                pending[remote.remote(task, shared)] = task
            while pending:
                ready, _ = ray.wait(list(pending), num_returns=1)
                task = pending.pop(ready[0])
                try:
                    results = ray.get(ready[0])
                except ray.exceptions.RayError as error:
                    cause = getattr(error, "cause", None) or error
                    first = (str(cause).strip().splitlines() or [""])[0]
                    raise RayError(f"group {task.index} failed on the Ray cluster: "
                                   f"{type(cause).__name__}: {first}") from None
                finished(task, results)
        finally:
            ray.shutdown()
