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


# Which of the pack's folders each layer must not import: the engine stands alone, the ComfyUI adapters and the
# CLI never lean on each other (what both need lives below them: models/, or a top-level module such as
# compatibility.py or demo_inputs.py), and nothing that ships imports the maintainers' tooling.
# The wheel leaves the maintainers' folders out, so an import of one would fail in an installed pack.
MAINTAINERS = {"tools", "benchmarks", "tests"}
MAY_NOT_IMPORT = {
    "models": {"nodes", "headless", "compatibility", "demo_inputs", *MAINTAINERS},
    "nodes": {"headless", *MAINTAINERS},
    "headless": {"nodes", *MAINTAINERS},
    **dict.fromkeys(("", "__main__", "compatibility", "demo_inputs"), MAINTAINERS),
}
SHIPPED = ("models", "nodes", "headless")


def module_name(path: Path, root: Path) -> str:
    """A module's name inside the pack, as a path: "models/streaming/clips", "nodes" for nodes/__init__.py."""
    parts = path.relative_to(root).with_suffix("").parts
    return "/".join(parts[:-1] if parts[-1] == "__init__" else parts)


def pack_imports(path: Path, root: Path, modules: set[str]) -> set[str]:
    """The pack's `modules` that a module imports relatively (type-checking imports included), by module_name."""
    package = path.relative_to(root).parent.parts
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if not (isinstance(node, ast.ImportFrom) and node.level):
            continue
        base = package[: len(package) - node.level + 1] + (tuple(node.module.split(".")) if node.module else ())
        for alias in node.names:
            submodule = "/".join((*base, alias.name))
            names.add(submodule if submodule in modules else "/".join(base))
    return names - {""}


def import_graph(root: Path = PACK_DIR) -> dict[str, set[str]]:
    """Module -> the pack's modules it imports, over the shipped folders and the top-level modules."""
    paths = [path for folder in SHIPPED for path in (root / folder).rglob("*.py")] + list(root.glob("*.py"))
    modules = {module_name(path, root) for path in paths}
    return {module_name(path, root): pack_imports(path, root, modules) - {module_name(path, root)} for path in paths}


def crossings(graph: dict[str, set[str]]) -> dict[str, list[str]]:
    """Imports that cross a boundary of MAY_NOT_IMPORT, by importing module."""
    found = {
        module: sorted(name for name in names if name.split("/")[0] in MAY_NOT_IMPORT.get(module.split("/")[0], ()))
        for module, names in graph.items()
    }
    return {module: names for module, names in found.items() if names}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Groups of modules that import each other, directly or through others (strongly connected components)."""
    order, low, stack, groups = {}, {}, [], []

    def visit(module: str) -> None:
        order[module] = low[module] = len(order)
        stack.append(module)
        for name in graph.get(module, ()):
            if name not in order:
                visit(name)
                low[module] = min(low[module], low[name])
            elif name in stack:
                low[module] = min(low[module], order[name])
        if low[module] == order[module]:
            group = stack[stack.index(module) :]
            del stack[stack.index(module) :]
            if len(group) > 1:
                groups.append(sorted(group))

    for module in sorted(graph):
        if module not in order:
            visit(module)
    return groups


def test_each_layer_imports_only_what_it_may():
    assert not crossings(import_graph()), f"imports across the layers' boundaries: {crossings(import_graph())}"


def test_no_modules_of_the_pack_import_each_other():
    assert not cycles(import_graph()), f"modules that import each other: {cycles(import_graph())}"


def test_every_adapter_module_works_with_comfyui():
    """A module of nodes/ that imports nothing of ComfyUI is engine code (it belongs in models/, with core tests);
    package files and the menu names are the exceptions."""
    engine_like = [
        str(path.relative_to(PACK_DIR))
        for path in (PACK_DIR / "nodes").rglob("*.py")
        if path.name != "__init__.py"
        and path != PACK_DIR / "nodes" / "categories.py"
        and not imported_top_level_names(path) & FORBIDDEN_IN_ENGINE
    ]
    assert not engine_like, f"nodes/ modules that never touch ComfyUI; move them to models/: {engine_like}"


def test_the_import_graph_sees_crossings_and_cycles(tmp_path):
    """A relative import across a boundary, and a cycle closed by a type-checking import, are both found."""
    files = {
        "models/streaming/__init__.py": "",
        "models/streaming/clips.py": "if TYPE_CHECKING:\n    from .reader import Reader\n",
        "models/streaming/reader.py": "from .clips import Clip\n",
        "nodes/runtime/demo.py": "from ...headless.demo_inputs import place\nfrom ...models.streaming import clips\n",
        "headless/demo_inputs.py": "",
        "__init__.py": "from .tools.tiny_models import build_models\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    graph = import_graph(tmp_path)
    assert graph["nodes/runtime/demo"] == {"headless/demo_inputs", "models/streaming/clips"}
    assert crossings(graph) == {"nodes/runtime/demo": ["headless/demo_inputs"], "": ["tools/tiny_models"]}
    assert cycles(graph) == [["models/streaming/clips", "models/streaming/reader"]]


SUITES_ACROSS_MODULES = {
    "collection": "pytest collects the repository's own tests whatever else is installed",
    "compositing_color_grain": "colour and grain matching checked together on the same plates",
    "compositing_scenes": "every compositing step on the constructed scenes",
    "first_run_support": "what a first run reads across the pack: versions, demo inputs, model links",
    "fuzz_parsers": "every parser of user text under hypothesis",
    "headless": "the headless package as one runner",
    "headless_safety": "the runner's refusals across its modules",
    "js": "the editor's JavaScript against the engine's fixtures",
    "layout": "the pack's layout",
    "model_downloads": "the models command across model_files and download",
    "one_home": "every rule's single home",
    "packaging": "the wheel and the registry's zip",
}


def mirrored_names(root: Path = PACK_DIR) -> set[str]:
    """What a core test file may be named after: a module or package of the pack, alone or after its family."""
    names = {path.stem for path in root.glob("*.py")}
    for folder in ("models", "headless", "tools"):
        for path in (root / folder).rglob("*.py"):
            stem = path.parent.name if path.stem == "__init__" else path.stem
            names |= {stem, f"{path.parent.name}_{stem}"}
    return names


def test_core_test_files_mirror_the_modules_they_test():
    """A test file named after a module moves with it; one that spans modules says so here."""
    names = mirrored_names()
    unmatched = sorted(
        path.name
        for path in (PACK_DIR / "tests" / "core").glob("test_*.py")
        if path.stem.removeprefix("test_") not in names | SUITES_ACROSS_MODULES.keys()
    )
    assert not unmatched, f"name these after the module they test, or list them in SUITES_ACROSS_MODULES: {unmatched}"
