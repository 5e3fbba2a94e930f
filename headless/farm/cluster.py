"""Ray for the farm: joining or starting a cluster, and the worker actors (one GPU or CPU slot each)."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from typing import Any

from ..server import PACK_DIR
from .worker import FarmWorker

CPU_SLOT = "comfyui_cpu_slot"  # custom resource a CPU-only node offers once per ComfyUI it can run
LOOPBACK_ONLY = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}
"""Environment that keeps a one-machine cluster on 127.0.0.1. Ray (2.60) replaces 127.0.0.1, given as a node's or
the cluster's address, with the machine's network address unless multi-node clusters are off (as on Windows and
macOS): then the GCS, raylet, workers and driver all bind and connect on loopback. Ray reads it on import."""
MAX_RESTARTS = 3


class FarmUnavailable(RuntimeError):
    """Ray is not installed, or the cluster cannot host the workers asked for."""


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise FarmUnavailable(
            "the farm needs Ray: pip install 'worldkit[farm]' (or pip install -r requirements-farm.txt)"
        ) from None
    return ray


@dataclass
class WorkerSpec:
    """How the workers are made: attached to ``servers``, or each starting ComfyUI from ``comfyui``."""

    count: int = 1
    servers: list[str] = field(default_factory=list)
    comfyui: str | None = None
    comfy_args: list[str] = field(default_factory=list)
    cpu: bool = False
    unit_timeout_s: float = 3600.0

    @property
    def total(self) -> int:
        return len(self.servers) or self.count


def connect(address: str | None, spec: WorkerSpec) -> Any:
    """Join the cluster at ``address``, or start a small local one (loopback, no dashboard) for the workers."""
    if address:
        ray = import_ray()
        ray.init(address=address, log_to_driver=False)
        return ray
    for name, value in LOOPBACK_ONLY.items():
        os.environ.setdefault(name, value)
    ray = import_ray()
    # Workers started by this local cluster import the same pack as the driver.
    paths = [str(PACK_DIR.parent), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    os.environ["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    # The workers are thin clients (the memory is ComfyUI's); Ray's memory monitor would kill them, not the
    # servers, when the machine runs low, so the local cluster leaves it off.
    os.environ.setdefault("RAY_memory_monitor_refresh_ms", "0")
    ray.init(
        num_cpus=max(1, spec.total),
        num_gpus=None if not spec.cpu else 0,
        resources={CPU_SLOT: spec.total} if spec.cpu else None,
        include_dashboard=False,
        log_to_driver=False,
        _node_ip_address="127.0.0.1",
    )
    return ray


def start_workers(ray: Any, spec: WorkerSpec) -> list[Any]:
    """The worker actors; Ray restarts one whose process dies (its unit goes back to the queue)."""
    placement = {"resources": {CPU_SLOT: 1}} if spec.cpu else {"num_gpus": 1}
    resource = CPU_SLOT if spec.cpu else "GPU"
    offered = ray.cluster_resources().get(resource, 0)
    if offered < spec.total:
        hint = f"start nodes with --resources='{{\"{CPU_SLOT}\": 1}}'" if spec.cpu else "use --cpu on CPU machines"
        raise FarmUnavailable(f"the cluster offers {offered:g} {resource} for {spec.total} workers; {hint}.")
    actor = ray.remote(FarmWorker).options(
        num_cpus=0, max_restarts=MAX_RESTARTS, max_task_retries=0, max_concurrency=8, **placement
    )
    return [
        actor.remote(
            f"worker-{index + 1}",
            spec.servers[index] if spec.servers else None,
            spec.comfyui,
            spec.comfy_args,
            spec.unit_timeout_s,
        )
        for index in range(spec.total)
    ]


def stop_workers(ray: Any, workers: list[Any]) -> None:
    """Stop the servers the workers started, then the actors."""
    with contextlib.suppress(Exception):  # a worker that is already gone has nothing left to stop
        ray.get([worker.stop.remote() for worker in workers], timeout=60)
    for worker in workers:
        ray.kill(worker, no_restart=True)
