"""The shot farm: a film's shot list rendered across ComfyUI servers with Ray (optional extra `worldkit[farm]`).

Importing this package does not import Ray; `run_farm` does, and says how to install it when it is missing.
"""

from .cluster import FarmUnavailable, WorkerSpec
from .dispatch import FarmFailed
from .driver import FarmInterrupted, FarmOptions, FarmResult, run_farm
from .film import Film, FilmError, Unit

__all__ = [
    "FarmFailed",
    "FarmInterrupted",
    "FarmOptions",
    "FarmResult",
    "FarmUnavailable",
    "Film",
    "FilmError",
    "Unit",
    "WorkerSpec",
    "run_farm",
]
