"""Send groups to an existing Ray cluster; results come back to the driver, which alone writes the store.

The prepared dataset is put into Ray's object store once and shared by every task, so workers
need machop installed but not the data file. Each task asks for one CPU: tiny models want one
thread per process (performance notes), so a node with N cores trains N groups at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from chop.errors import MachopError
from chop.sweep.runner import GroupTask, execute_group
from chop.sweep.store import RunResult

if TYPE_CHECKING:
    from chop.dataset.splits import DatasetSplits


class RayError(MachopError):
    """The Ray cluster cannot be reached or a worker failed."""


class RayBackend:
    """Groups as Ray tasks on the cluster at ``address`` (e.g. ``10.0.0.5:6379`` or ``auto``)."""

    def __init__(self, address: str, num_cpus_per_group: float = 1.0) -> None:
        self.address = address
        self.num_cpus = num_cpus_per_group

    def run(self, tasks: Sequence[GroupTask], data: DatasetSplits, started: Callable[[GroupTask], None],
            finished: Callable[[GroupTask, list[RunResult]], None]) -> None:
        try:
            import ray
        except ImportError:
            raise RayError("--ray needs Ray: pip install 'machop[ray]'") from None
        if not tasks:
            return
        try:
            ray.init(address=self.address, logging_level="WARNING", log_to_driver=False)
        except (ConnectionError, RuntimeError, ValueError) as error:
            raise RayError(f"cannot connect to the Ray cluster at {self.address}: {error}") from None
        try:
            remote = ray.remote(num_cpus=self.num_cpus, max_retries=1)(execute_group)
            shared = ray.put(data)
            pending = {}
            for task in tasks:
                started(task)
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
