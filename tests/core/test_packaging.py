"""The wheel and the registry's zip carry the whole pack, and neither carries what ComfyUI never loads."""

from __future__ import annotations

import zipfile
from urllib.parse import urlparse

import pytest
import tomllib
from comfy_cli.file_utils import zip_files

from worldkit.tools.wheel import PACK_DIR, build_wheel, tracked_files

SHIPPED_FOLDERS = ("headless", "models", "nodes", "web", "workflows")
MAINTAINER_FOLDERS = ("tests", "benchmarks", "tools", "docs", ".ci")
# Files the registry's zip keeps beside the pack's own: how to install it and under which licence.
PROJECT_FILES = {"LICENSE", "README.md", "pyproject.toml", "setup.py", "requirements.txt", "requirements-farm.txt"}


def pack_files() -> set[str]:
    """What the installed pack is made of, from the checkout: the shipped folders and the top-level modules."""
    return {
        name
        for name in tracked_files()
        if name.split("/")[0] in SHIPPED_FOLDERS or ("/" not in name and name.endswith(".py") and name != "setup.py")
    }


@pytest.fixture(scope="module")
def wheel_files(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """The pack's files as the wheel installs them, relative to the package folder."""
    with zipfile.ZipFile(build_wheel(tmp_path_factory.mktemp("wheel"))) as wheel:
        names = wheel.namelist()
    return {name.removeprefix("worldkit/") for name in names if name.startswith("worldkit/")}


@pytest.fixture(scope="module")
def registry_zip_files(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """The files `comfy node pack` puts in the registry's zip (comfy-cli's own selection, .comfyignore applied)."""
    target = tmp_path_factory.mktemp("registry") / "node.zip"
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(PACK_DIR)
        zip_files(
            str(target), includes=tomllib.loads((PACK_DIR / "pyproject.toml").read_text())["tool"]["comfy"]["includes"]
        )
    with zipfile.ZipFile(target) as archive:
        return set(archive.namelist())


def test_every_package_folder_is_a_package_of_the_wheel(wheel_files):
    folders = {
        str(path.parent.relative_to(PACK_DIR))
        for top in ("headless", "models", "nodes")
        for path in (PACK_DIR / top).rglob("__init__.py")
        if "__pycache__" not in path.parts
    }
    missing = sorted(folder for folder in folders if f"{folder}/__init__.py" not in wheel_files)
    assert not missing, f"packages missing from the wheel: {missing}"


def test_the_wheel_carries_the_pack_and_nothing_else(wheel_files):
    assert wheel_files == pack_files()


def test_the_wheel_carries_the_web_scripts_and_the_demo_workflows(wheel_files):
    assert "web/js/trajectory_editor.js" in wheel_files
    assert "workflows/api/monkey_music_video_fast.json" in wheel_files
    assert "workflows/inputs/worldkit_beat_120bpm.flac" in wheel_files


def test_the_registry_zip_carries_the_pack_and_its_project_files(registry_zip_files):
    assert registry_zip_files == pack_files() | PROJECT_FILES
    assert not {name for name in registry_zip_files if name.split("/")[0] in MAINTAINER_FOLDERS}


def test_the_registry_icon_is_a_file_both_packages_carry(wheel_files, registry_zip_files):
    icon = tomllib.loads((PACK_DIR / "pyproject.toml").read_text())["tool"]["comfy"]["Icon"]
    # raw.githubusercontent.com/<owner>/<repo>/<branch>/<path in the repository>
    path = "/".join(urlparse(icon).path.split("/")[4:])
    assert path in wheel_files and path in registry_zip_files, f"[tool.comfy] Icon {icon} names no shipped file"
