"""World names: exactly one plain folder name each, or an error that says what is wrong with it."""

from __future__ import annotations

import unicodedata

from ..shared.text import quote

MAX_NAME_LENGTH = 64
NAME_PUNCTUATION = set(" -_.")
WINDOWS_DEVICE_NAMES = {
    "CON",
    "PRN",
    "AUX",
    "NUL",
    *(f"COM{i}" for i in range(1, 10)),
    *(f"LPT{i}" for i in range(1, 10)),
}
WINDOWS_FORBIDDEN_CHARACTERS = set('<>:"|?*')


class WorldLibraryError(ValueError):
    """A world could not be saved or loaded; the message says why and what to do."""


def sanitize_world_name(name: str) -> str:
    """The world's folder name, or an error for anything that is not a plain name.

    Letters, digits, spaces, '-', '_' and '.' are allowed; separators, '..', absolute paths, drive
    letters, control characters and Windows device names are refused rather than rewritten, so a
    name always means exactly one folder.
    """
    if not isinstance(name, str):
        raise WorldLibraryError(f"World name must be text, got {type(name).__name__}.")
    cleaned = name.strip()
    problem = name_problem(cleaned)
    if problem:
        raise WorldLibraryError(
            f"World name {quote(name)} is not allowed: {problem}. "
            "Use letters, digits, spaces, '-', '_' or '.', for example 'night_forest'."
        )
    return cleaned


def windows_name_problem(path: str) -> str | None:
    """A part of the path that Windows opens as a device (CON, NUL, COM1, …, with any suffix), or a character no
    Windows file name may hold, else None: a file saved here must open on every system it is copied to."""
    for part in path.replace("\\", "/").split("/"):
        if part.split(".")[0].strip().upper() in WINDOWS_DEVICE_NAMES:
            return f"{part!r} is a reserved device name on Windows"
        forbidden = sorted(set(part) & WINDOWS_FORBIDDEN_CHARACTERS)
        if forbidden:
            return f"{part!r} holds {''.join(forbidden)!r}, which no Windows file name may hold"
    return None


def name_problem(name: str) -> str | None:
    if not name:
        return "it is empty"
    if len(name) > MAX_NAME_LENGTH:
        return f"it is longer than {MAX_NAME_LENGTH} characters"
    if any(unicodedata.category(c).startswith("C") for c in name):
        return "it holds control characters (such as NUL)"
    if "/" in name or "\\" in name:
        return "it holds a path separator"
    if ":" in name:
        return "it holds ':' (a drive letter or stream name)"
    if ".." in name:
        return "it holds '..'"
    if name.startswith((".", "~")):
        return "it starts with '.' or '~'"
    if name.endswith("."):
        return "it ends with '.'"
    if problem := windows_name_problem(name):
        return problem
    odd = sorted({c for c in name if not (c.isalnum() or c in NAME_PUNCTUATION)})
    if odd:
        return f"it holds {''.join(odd)!r}"
    return None
