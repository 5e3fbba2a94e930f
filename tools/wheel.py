"""Building the pack's wheel from the checkout's tracked files, as a release would, for the packaging tests."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

PACK_DIR = Path(__file__).resolve().parent.parent


def tracked_files(root: Path = PACK_DIR) -> list[str]:
    """Paths git tracks under ``root`` (files staged as new included), relative, that exist on disk."""
    listed = subprocess.run(["git", "-C", str(root), "ls-files", "-z"], capture_output=True, check=True).stdout
    return [name for name in listed.decode().split("\0") if name and (root / name).is_file()]


def build_wheel(work_dir: Path, timeout_s: float = 180) -> Path:
    """The wheel built offline from a copy of the tracked files (no stale build/ folder, no untracked files)."""
    source = work_dir / "source"
    for name in tracked_files():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(PACK_DIR / name, source / name)
    wheels = work_dir / "wheels"
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "--quiet"]
    completed = subprocess.run(
        [*command, "--wheel-dir", str(wheels), str(source)], capture_output=True, text=True, timeout=timeout_s
    )
    if completed.returncode != 0:
        raise RuntimeError(f"building the wheel failed:\n{completed.stdout}\n{completed.stderr}")
    (wheel,) = wheels.glob("worldkit-*.whl")
    return wheel
