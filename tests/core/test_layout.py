"""House rules of the pack's layout that the host relies on."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import tomllib

PACK_DIR = Path(__file__).resolve().parents[2]
FORBIDDEN_IN_ENGINE = {
    "comfy",
    "comfy_api",
    "comfy_extras",
    "comfy_execution",
    "nodes",
    "folder_paths",
    "server",
    "node_helpers",
    "execution",
    "latent_preview",
}


def imported_top_level_names(path: Path) -> set[str]:
    """Absolute imports of a module (relative imports stay inside the pack and are allowed)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_engine_never_imports_comfyui():
    offenders = {
        str(path.relative_to(PACK_DIR)): sorted(imported_top_level_names(path) & FORBIDDEN_IN_ENGINE)
        for path in (PACK_DIR / "models").rglob("*.py")
    }
    offenders = {path: names for path, names in offenders.items() if names}
    assert not offenders, f"models/ must stay free of ComfyUI imports: {offenders}"


def test_the_import_check_sees_a_forbidden_import(tmp_path):
    module = tmp_path / "bad.py"
    module.write_text("import os\nfrom comfy.utils import ProgressBar\nfrom . import world\n")
    assert imported_top_level_names(module) & FORBIDDEN_IN_ENGINE == {"comfy"}


def test_entry_point_is_v3_only():
    tree = ast.parse((PACK_DIR / "__init__.py").read_text())
    defined = {
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    functions = {node.name for node in tree.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}
    assert "comfy_entrypoint" in functions
    assert "WEB_DIRECTORY" in defined
    assert "NODE_CLASS_MAPPINGS" not in defined


def test_pyproject_declares_the_registry_metadata():
    project = tomllib.loads((PACK_DIR / "pyproject.toml").read_text())
    assert project["project"]["name"] == "worldkit"
    assert "comfyui" not in project["project"]["name"].lower()
    comfy = project["tool"]["comfy"]
    assert comfy["PublisherId"] and comfy["DisplayName"] and comfy["Icon"]
    requirements = [
        line.split(">")[0].split("=")[0].strip()
        for line in (PACK_DIR / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    declared = [dep.split(">")[0].split("=")[0].strip() for dep in project["project"]["dependencies"]]
    assert sorted(requirements) == sorted(declared)
    assert "torch" not in requirements


IMPORT_TO_DISTRIBUTION = {"cv2": "opencv-python-headless", "PIL": "Pillow"}
PROVIDED_BY_COMFYUI = {"torch"}


def declared_requirements(name: str = "requirements.txt") -> set[str]:
    lines = (PACK_DIR / name).read_text().splitlines()
    return {line.split(">")[0].split("=")[0].strip().lower() for line in lines if line.strip() and line[0] != "#"}


def third_party_imports(folders: tuple[str, ...]) -> set[str]:
    stdlib = set(sys.stdlib_module_names)
    names = set()
    for folder in folders:
        for path in (PACK_DIR / folder).rglob("*.py"):
            names |= {name for name in imported_top_level_names(path) if name not in stdlib and name != "__future__"}
    return names - FORBIDDEN_IN_ENGINE - {"worldkit"}


def test_every_library_the_engine_and_runner_import_is_declared():
    """Runtime imports are in requirements.txt; the farm's (headless/farm) may also use the farm extra."""
    optional = third_party_imports(("headless/farm",))
    needed = {
        IMPORT_TO_DISTRIBUTION.get(name, name).lower()
        for name in third_party_imports(("models", "headless")) - optional
    }
    missing = needed - PROVIDED_BY_COMFYUI - declared_requirements()
    assert not missing, f"imported but not in requirements.txt: {sorted(missing)}"
    assert "scipy" in needed and "av" in needed  # the check sees real imports
    farm = {IMPORT_TO_DISTRIBUTION.get(name, name).lower() for name in optional}
    missing = farm - PROVIDED_BY_COMFYUI - declared_requirements() - declared_requirements("requirements-farm.txt")
    assert not missing, f"the farm imports, not in requirements.txt nor requirements-farm.txt: {sorted(missing)}"
    assert "ray" in farm  # the check sees the farm's imports


def test_the_farm_extra_matches_requirements_farm():
    project = tomllib.loads((PACK_DIR / "pyproject.toml").read_text())
    extra = {
        dep.split(">")[0].split("=")[0].strip().lower() for dep in project["project"]["optional-dependencies"]["farm"]
    }
    assert extra == declared_requirements("requirements-farm.txt") == {"ray"}
