"""Atomic file writes: a reader (or a crash) sees the old file or the whole new one, never part of one.

Every file WorldKit writes (the world library, GVFX exports, the headless runner's outputs, the shipped
workflows) goes through here, and so does the clean-up of temporaries a killed save left behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import uuid
from collections.abc import Callable
from pathlib import Path

_TEMPORARY = re.compile(r"^\..+\.[0-9a-f]{32}\.tmp(\.[^.]+)?$")


def temporary_name(path: Path) -> Path:
    """Where a write to ``path`` is staged; it keeps the suffix, so writers that pick a format by it work."""
    return path.with_name(f".{path.stem}.{uuid.uuid4().hex}.tmp{path.suffix}")


def staging_name(path: Path, key: str) -> Path:
    """A temporary name that stays the same for the same ``key`` (e.g. a download's URL), so a later run can
    resume the staged file; the clean-up recognises it like any other temporary."""
    return path.with_name(f".{path.stem}.{hashlib.md5(key.encode()).hexdigest()}.tmp{path.suffix}")


def is_temporary(path: Path) -> bool:
    """True for a name ``temporary_name`` makes: a staged write that an interrupted save may have left."""
    return bool(_TEMPORARY.match(Path(path).name))


def remove_temporaries(folder: Path) -> list[Path]:
    """Delete the staged writes a killed save left in ``folder``; returns what was removed."""
    removed = [path for path in Path(folder).iterdir() if path.is_file() and is_temporary(path)]
    for path in removed:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    return removed


def write_atomically(path: Path, write: Callable[[Path], None]) -> None:
    """Let ``write`` fill a temporary file beside ``path``, flush it to disk, then rename it over ``path``.

    The folder is created when missing; an existing file keeps its permissions, a new one gets the usual ones.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = temporary_name(path)
    try:
        write(temporary)
        commit_staged(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()


def commit_staged(temporary: Path, path: Path) -> None:
    """Flush a fully written temporary to disk and rename it over ``path`` (the one step a reader can see)."""
    with open(temporary, "rb+") as handle:
        os.fsync(handle.fileno())
    os.chmod(temporary, _mode_for(path))
    os.replace(temporary, path)
    _fsync_folder(path.parent)


def write_bytes_atomically(path: Path, data: bytes) -> None:
    write_atomically(path, lambda temporary: temporary.write_bytes(data))


def write_text_atomically(path: Path, text: str) -> None:
    write_bytes_atomically(path, text.encode("utf-8"))


def _mode_for(path: Path) -> int:
    """An existing file's permissions, else 0o666 less the umask (what a plain open would give)."""
    if path.exists():
        return path.stat().st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX folders can be fsynced; other systems skip it)."""
    if os.name != "posix":
        return
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
