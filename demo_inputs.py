"""The demos' input pictures, audio and plates, placed where Load Image / Load Audio / Load Video find them.

At load the pack copies `workflows/inputs/*` into `<ComfyUI input>/worldkit/`, and the shipped workflows name
them `worldkit/<file>`, so a demo opens with its inputs in place, in the editor and over the API alike.
A file already there is never overwritten (it may be the user's own picture under that name), and a file
placed once is never placed again: `.worldkit-placed.json` in that folder lists what the pack has placed (or
found there), so a demo input the user deleted stays deleted.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from .models.shared.files import write_atomically, write_text_atomically

SUBFOLDER = "worldkit"
SOURCE_DIR = Path(__file__).resolve().parent / "workflows" / "inputs"
MANIFEST = ".worldkit-placed.json"
INPUT_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".flac", ".wav", ".mp3", ".mp4", ".webm", ".mov")


def demo_input_name(filename: str) -> str:
    """The name a workflow gives a demo input: ComfyUI resolves `subfolder/file` inside its input folder."""
    return f"{SUBFOLDER}/{filename}"


def demo_files(source: Path = SOURCE_DIR) -> list[Path]:
    return sorted(p for p in source.iterdir() if p.is_file() and p.suffix.lower() in INPUT_SUFFIXES)


def placed_before(target: Path) -> set[str]:
    """The names the manifest says were placed (or found) in `target`; none when it is absent or unreadable."""
    try:
        names = json.loads((target / MANIFEST).read_text(encoding="utf-8")).get("placed", [])
    except (OSError, ValueError, AttributeError):
        return set()
    return {name for name in names if isinstance(name, str)}


def place_demo_inputs(input_dir: Path, source: Path = SOURCE_DIR) -> str | None:
    """Copy the demo inputs never placed before into `input_dir/worldkit/` and record them in the manifest;
    returns a log line, or None when there was nothing to do. A read-only input folder is reported, not
    raised: the pack still loads."""
    target = Path(input_dir) / SUBFOLDER
    known = placed_before(target)
    files = [path for path in demo_files(source) if path.name not in known]
    missing = [path for path in files if not (target / path.name).exists()]
    if not files:
        return None
    try:
        for path in missing:
            write_atomically(target / path.name, lambda staged, path=path: shutil.copyfile(path, staged))
        placed = sorted(known | {path.name for path in files})
        write_text_atomically(target / MANIFEST, json.dumps({"placed": placed}, indent=1) + "\n")
    except OSError as error:
        return (
            f"WorldKit: could not place the demo inputs in {target} ({error.strerror or error}); "
            f"copy {source} there to open the demos with their pictures"
        )
    return f"WorldKit: placed {len(missing)} demo input file(s) in {target}" if missing else None
