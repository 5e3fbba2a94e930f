"""What a first run relies on outside ComfyUI's process: the demo inputs placed in the input folder, and the
refusal of a ComfyUI older than the pack needs."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

from worldkit.compatibility import REQUIRES_COMFYUI, installed_comfyui, refusal, version_tuple
from worldkit.demo_inputs import MANIFEST, SUBFOLDER, demo_files, place_demo_inputs

PACK_DIR = Path(__file__).resolve().parents[2]


def test_every_demo_input_is_placed_in_the_worldkit_subfolder(tmp_path):
    message = place_demo_inputs(tmp_path)
    placed = tmp_path / SUBFOLDER
    assert sorted(p.name for p in placed.iterdir() if p.name != MANIFEST) == sorted(p.name for p in demo_files())
    assert all((placed / p.name).read_bytes() == p.read_bytes() for p in demo_files())
    assert message and str(len(demo_files())) in message
    assert place_demo_inputs(tmp_path) is None, "a second start has nothing to do"


def test_a_users_file_under_a_demo_name_is_never_overwritten(tmp_path):
    own = tmp_path / SUBFOLDER / demo_files()[0].name
    own.parent.mkdir()
    own.write_bytes(b"my own picture")
    place_demo_inputs(tmp_path)
    assert own.read_bytes() == b"my own picture"
    assert (tmp_path / SUBFOLDER / demo_files()[1].name).is_file()


def test_a_demo_input_the_user_deleted_is_not_placed_again_but_a_new_one_is(tmp_path):
    place_demo_inputs(tmp_path)
    placed = tmp_path / SUBFOLDER
    deleted, shipped_later = placed / demo_files()[0].name, placed / demo_files()[1].name
    deleted.unlink()
    manifest = (placed / MANIFEST).read_text()
    (placed / MANIFEST).write_text(manifest.replace(f'"{shipped_later.name}"', '"gone.png"'))
    shipped_later.unlink()  # as if this version of the pack shipped it for the first time
    assert "placed 1 demo input" in place_demo_inputs(tmp_path)
    assert not deleted.exists() and shipped_later.is_file()
    assert place_demo_inputs(tmp_path) is None


def test_a_folder_from_before_the_manifest_counts_its_files_as_placed(tmp_path):
    placed = tmp_path / SUBFOLDER
    placed.mkdir()
    for path in demo_files()[1:]:
        (placed / path.name).write_bytes(path.read_bytes())
    assert "placed 1 demo input" in place_demo_inputs(tmp_path)
    (placed / demo_files()[2].name).unlink()
    assert place_demo_inputs(tmp_path) is None and not (placed / demo_files()[2].name).exists()


def test_a_read_only_input_folder_is_reported_in_one_line_not_raised(tmp_path, monkeypatch):
    """A read-only folder refuses the write with an OSError (stood in for here: root writes through modes)."""

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("worldkit.demo_inputs.write_atomically", refuse)
    message = place_demo_inputs(tmp_path)
    assert message.count("\n") == 0 and "Permission denied" in message and "could not place" in message


def test_an_older_comfyui_is_refused_in_one_line_and_a_current_one_is_not(monkeypatch):
    assert refusal("0.7.9") and "0.8.0" in refusal("0.7.9") and "\n" not in refusal("0.7.9")
    assert refusal("0.3.40") is not None
    assert refusal("0.8.0") is None and refusal("0.10.1") is None and refusal(None) is None
    monkeypatch.setitem(sys.modules, "comfyui_version", types.SimpleNamespace(__version__="0.7.2"))
    assert installed_comfyui() == "0.7.2"


def test_pyproject_declares_the_comfyui_the_pack_checks_for():
    tool_comfy = (PACK_DIR / "pyproject.toml").read_text().split("[tool.comfy]", 1)[1].split("\n[", 1)[0]
    declared = re.search(r'^requires-comfyui = "([^"]+)"$', tool_comfy, re.MULTILINE).group(1)
    assert declared == ">=" + ".".join(map(str, REQUIRES_COMFYUI))
    assert version_tuple(declared) == REQUIRES_COMFYUI
