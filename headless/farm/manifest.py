"""The farm's record of finished work: one JSON file beside content-addressed outputs, written atomically.

The cut's outputs keep their names instead, so a timeline finds the shot files it names beside it.

``units`` maps a unit's key (the hash of its prompt) to who rendered it, the prompt id, seed, score, timings
and its outputs' hashes. A unit counts as done only while every output it lists is on disk with that hash,
so a rerun skips exactly the units whose files are intact, and an interrupted run leaves a manifest that
names finished units only.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...models.shared.files import write_bytes_atomically
from ..outputs import output_target

MANIFEST_NAME = "manifest.json"
FORMAT = "worldkit.farm"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def store_output(out_dir: Path, folder: str, name: str, data: bytes, keep_name: bool = False) -> dict[str, str]:
    """Save bytes under their hash (keeping the name's extension), or under ``name`` itself when ``keep_name``
    (the cut's files, which name each other: a timeline and its media); returns the manifest's output entry."""
    digest = sha256(data)
    if keep_name:
        relative = output_target(out_dir / folder, "", name).relative_to(out_dir)
    else:
        relative = Path(folder) / f"{digest}{Path(name).suffix}"
    target = out_dir / relative
    if not (target.is_file() and sha256(target.read_bytes()) == digest):
        write_bytes_atomically(target, data)
    return {"name": name, "sha256": digest, "path": relative.as_posix()}


def intact(out_dir: Path, outputs: list[dict[str, str]]) -> bool:
    """Every listed output is on disk with its recorded hash."""
    for output in outputs:
        path = out_dir / output["path"]
        if not path.is_file() or sha256(path.read_bytes()) != output["sha256"]:
            return False
    return bool(outputs)


@dataclass
class Manifest:
    path: Path
    film: str = ""
    world: dict[str, Any] = field(default_factory=dict)
    units: dict[str, dict[str, Any]] = field(default_factory=dict)
    failed: dict[str, dict[str, Any]] = field(default_factory=dict)
    picks: dict[str, str] = field(default_factory=dict)  # shot number -> key of its chosen unit
    cut: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def open(cls, out_dir: Path, film_key: str) -> Manifest:
        """The manifest in ``out_dir``; a manifest of another film there is an error, not overwritten."""
        path = Path(out_dir) / MANIFEST_NAME
        if not path.is_file():
            return cls(path, film_key)
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != FORMAT:
            raise ValueError(f"{path} is not a farm manifest; choose another --out folder.")
        if data.get("film") != film_key:
            raise ValueError(
                f"{path} records a different film (or one edited since); use another --out folder for this one."
            )
        return cls(path, film_key, data["world"], data["units"], {}, data["picks"], data["cut"])

    @property
    def out_dir(self) -> Path:
        return self.path.parent

    def done(self, key: str) -> bool:
        entry = self.units.get(key)
        return entry is not None and intact(self.out_dir, entry["outputs"])

    def save(self) -> None:
        data = {
            "format": FORMAT,
            "film": self.film,
            "world": self.world,
            "units": self.units,
            "failed": self.failed,
            "picks": self.picks,
            "cut": self.cut,
        }
        write_bytes_atomically(self.path, json.dumps(data, indent=2, sort_keys=True).encode("utf-8"))
