"""Atomic file writes: a reader (or a crash) sees the old file or the whole new one, never part of one.

Every file WorldKit writes (the world library, GVFX exports, the headless runner's outputs, the shipped
workflows) goes through here, and so does the clean-up of temporaries a killed save left behind: at start-up
(`remove_temporaries_under` the output folder) and when a writer first stages a file in a folder. A temporary
is removed only when no live writer holds it: its name carries the writing process's id, and this process
keeps the names it is writing.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import uuid
from collections.abc import Callable
from pathlib import Path

import psutil

_TEMPORARY = re.compile(r"^\..+?\.(?:(?P<pid>[0-9]+)-)?[0-9a-f]{32}\.tmp(\.[^.]+)?$")
_WRITING: set[Path] = set()
"""Temporaries this process is writing now: never removed by a clean-up."""
_SWEPT: set[Path] = set()
"""Folders whose leftovers this process has removed (start-up, or a writer's first file there)."""


def temporary_name(path: Path) -> Path:
    """Where a write to ``path`` is staged, named for this process; it keeps the suffix, so writers that pick a
    format by it work."""
    return path.with_name(f".{path.stem}.{os.getpid()}-{uuid.uuid4().hex}.tmp{path.suffix}")


def new_temporary(path: Path) -> Path:
    """A temporary for a write to ``path`` that this process now holds (`commit_staged` or `discard` lets it
    go); the folder's leftovers from killed saves are removed first, once per folder and process."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.parent not in _SWEPT:
        remove_temporaries(path.parent)
    temporary = temporary_name(path)
    _WRITING.add(temporary)
    return temporary


def discard(temporary: Path) -> None:
    """Delete a temporary a writer gives up on."""
    _WRITING.discard(temporary)
    with contextlib.suppress(FileNotFoundError):
        temporary.unlink()


def staging_name(path: Path, key: str) -> Path:
    """A temporary name that stays the same for the same ``key`` (e.g. a download's URL), so a later run can
    resume the staged file; the clean-up recognises it like any other temporary."""
    return path.with_name(f".{path.stem}.{hashlib.md5(key.encode()).hexdigest()}.tmp{path.suffix}")


def is_temporary(path: Path) -> bool:
    """True for a name ``temporary_name`` makes: a staged write that an interrupted save may have left."""
    return bool(_TEMPORARY.match(Path(path).name))


def is_abandoned(path: Path) -> bool:
    """A temporary that no live writer holds: not one this process is writing, nor another running process's."""
    match = _TEMPORARY.match(Path(path).name)
    if not match or Path(path) in _WRITING:
        return False
    pid = match.group("pid")
    return pid is None or int(pid) == os.getpid() or not psutil.pid_exists(int(pid))


def remove_temporaries(folder: Path) -> list[Path]:
    """Delete the staged writes killed saves left in ``folder``; returns what was removed."""
    folder = Path(folder)
    _SWEPT.add(folder)
    removed = [path for path in folder.iterdir() if path.is_file() and is_abandoned(path)]
    for path in removed:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    return removed


def remove_temporaries_under(root: Path) -> list[Path]:
    """`remove_temporaries` in ``root`` and every folder below it (at start-up: what earlier runs left)."""
    return [
        path
        for folder, _, names in os.walk(root)
        if any(is_temporary(Path(name)) for name in names)
        for path in remove_temporaries(Path(folder))
    ]


def write_atomically(path: Path, write: Callable[[Path], None]) -> None:
    """Let ``write`` fill a temporary file beside ``path``, flush it to disk, then rename it over ``path``.

    The folder is created when missing; an existing file keeps its permissions, a new one gets the usual ones.
    """
    path = Path(path)
    temporary = new_temporary(path)
    try:
        write(temporary)
        commit_staged(temporary, path)
    finally:
        discard(temporary)


def commit_staged(temporary: Path, path: Path) -> None:
    """Flush a fully written temporary to disk and rename it over ``path`` (the one step a reader can see)."""
    with open(temporary, "rb+") as handle:
        os.fsync(handle.fileno())
    os.chmod(temporary, _mode_for(path))
    os.replace(temporary, path)
    _WRITING.discard(temporary)
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
