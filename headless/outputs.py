"""Where the runner may write: inside --out, and nowhere else, whatever the server's answer names.

The server says where each output lives (subfolder and filename). A hostile or broken answer could name
``../..``, an absolute path, a percent-encoded ``..%2f``, or a subfolder that is a symlink leading out of
--out; each is refused rather than written. --out itself is made and tried before anything renders, so an
unusable folder fails in seconds, not after an hour of sampling.
"""

from __future__ import annotations

import os
import tempfile
import urllib.parse
from pathlib import Path, PurePosixPath, PureWindowsPath


class OutputPathError(RuntimeError):
    """--out cannot be used, or the server named a file outside it."""


def prepare_out_dir(out_dir: str | os.PathLike) -> Path:
    """--out with ``~`` expanded, created, and proven writable; OutputPathError naming the problem otherwise."""
    folder = Path(os.path.expanduser(os.fspath(out_dir)))
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".worldkit-write-test-"):
            pass
    except OSError as error:
        reason = error.strerror or str(error)
        raise OutputPathError(f"--out {folder} cannot be used ({reason}); choose a folder you can write to.") from None
    return folder.resolve()


def _parts(text: str, what: str) -> list[str]:
    """The path segments of a server-given name, refusing anything that could climb or jump out."""
    if "\x00" in text:
        raise OutputPathError(f"the server named an output {what} holding a NUL byte; refusing to write it.")
    decoded = urllib.parse.unquote(text)
    for candidate in {text, decoded}:
        if PurePosixPath(candidate).is_absolute() or PureWindowsPath(candidate).drive or candidate.startswith("\\"):
            raise OutputPathError(f"the server named an absolute output {what} {candidate!r}; refusing to write it.")
        parts = candidate.replace("\\", "/").split("/")
        if ".." in parts:
            raise OutputPathError(f"the server named an output {what} {candidate!r} that climbs out of --out.")
    return [part for part in text.replace("\\", "/").split("/") if part not in ("", ".")]


def output_target(out_dir: Path, subfolder: str, filename: str) -> Path:
    """Where one output goes inside ``out_dir``; OutputPathError when the server's names lead outside it."""
    name_parts = _parts(filename, "file name")
    if len(name_parts) != 1:
        raise OutputPathError(f"the server named an output file {filename!r} that is not a plain file name.")
    target = out_dir.joinpath(*_parts(subfolder, "subfolder"), name_parts[0])
    root = out_dir.resolve()
    if root not in target.resolve().parents:
        raise OutputPathError(
            f"the output {subfolder}/{filename} would be written to {target.resolve()}, outside --out {root} "
            "(a link in --out leads elsewhere); remove the link or choose another --out."
        )
    return target
