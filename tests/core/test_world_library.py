"""World library: bit-exact round trips, name sanitising, atomic saves, and clear refusals of damaged files."""

import json
import os
from pathlib import Path

import pytest
import torch

import worldkit.models.world.library as library
from worldkit.models.world.entities import DuplicateEntityError, Encoding, MissingEntityError, Reference, World
from worldkit.models.world.library import (
    MANIFEST_NAME,
    SCHEMA_VERSION,
    WorldLibraryError,
    list_worlds,
    load_world,
    manifest_fingerprint,
    sanitize_world_name,
    save_world,
    world_folder,
)


def reference(
    name: str,
    kind: str,
    seed: int,
    views: int = 2,
    with_masks: bool = True,
    encodings: tuple[str, ...] = ("WanVAE:aaaa",),
) -> Reference:
    generator = torch.Generator().manual_seed(seed)
    encoded = [
        Encoding(
            vae_identity=vae,
            width=32,
            height=16,
            latents=torch.randn(views, 16, 1, 2, 4, generator=generator),
            clip_identity="CLIPVisionModelProjection:cccc",
            clip_penultimate=torch.randn(views, 5, 8, generator=generator),
            clip_embeds=torch.randn(views, 8, generator=generator),
        )
        for vae in encodings
    ]
    return Reference(
        name=name,
        kind=kind,
        description=f"the {name}",
        views=torch.rand(views, 12, 20, 3, generator=generator),
        masks=torch.rand(views, 12, 20, generator=generator) if with_masks else None,
        source_hash=f"{seed:064x}",
        encodings=encoded,
        preprocess={"width": 20, "height": 12, "margin": 0.1, "background": [1.0, 1.0, 1.0]},
    )


def sample_world() -> World:
    return World.from_labelled(
        [
            ("reference_1", reference("skunk", "character", 1)),
            ("reference_2", reference("night forest", "location", 2, views=1, with_masks=False, encodings=())),
            ("reference_3", reference("lantern", "object", 3, views=3, encodings=("WanVAE:aaaa", "WanVAE:bbbb"))),
        ]
    )


def assert_same_world(loaded: World, original: World) -> None:
    assert loaded.names() == original.names()
    for name, expected in original.references.items():
        actual = loaded.get(name)
        for field in ("name", "kind", "description", "source_hash", "preprocess"):
            assert getattr(actual, field) == getattr(expected, field)
        for field in ("views", "masks"):
            a, e = getattr(actual, field), getattr(expected, field)
            assert (a is None and e is None) or (a.dtype == e.dtype and torch.equal(a, e))
        assert len(actual.encodings) == len(expected.encodings)
        for a, e in zip(actual.encodings, expected.encodings, strict=True):
            assert (a.vae_identity, a.width, a.height, a.clip_identity) == (
                e.vae_identity,
                e.width,
                e.height,
                e.clip_identity,
            )
            for field in ("latents", "clip_penultimate", "clip_embeds"):
                assert torch.equal(getattr(a, field), getattr(e, field))


def tensor_file(root: Path, name: str) -> Path:
    return root / name / json.loads((root / name / MANIFEST_NAME).read_text())["tensor_file"]


def edit_manifest(root: Path, name: str, edit) -> None:
    path = root / name / MANIFEST_NAME
    manifest = json.loads(path.read_text())
    edit(manifest)
    path.write_text(json.dumps(manifest))


def test_round_trip_is_bit_exact(tmp_path):
    world = sample_world()
    folder = save_world(world, tmp_path, "night_forest")
    assert folder == tmp_path / "night_forest"
    assert_same_world(load_world(tmp_path, "night_forest"), world)


def test_manifest_records_schema_descriptions_kinds_hashes_and_model_identity(tmp_path):
    save_world(sample_world(), tmp_path, "bible")
    manifest = json.loads((tmp_path / "bible" / MANIFEST_NAME).read_text())
    assert manifest["schema_version"] == SCHEMA_VERSION and manifest["name"] == "bible"
    assert [e["kind"] for e in manifest["entities"]] == ["character", "location", "object"]
    assert manifest["entities"][0]["description"] == "the skunk"
    assert manifest["entities"][0]["source_hash"] == f"{1:064x}"
    assert manifest["model_identity"] == {
        "vae": ["WanVAE:aaaa", "WanVAE:bbbb"],
        "clip_vision": ["CLIPVisionModelProjection:cccc"],
    }
    assert len(list((tmp_path / "bible").glob("tensors-*.safetensors"))) == 1


def test_saving_again_replaces_the_world_and_removes_the_old_tensor_file(tmp_path):
    save_world(sample_world(), tmp_path, "w")
    smaller = World.from_labelled([("r", reference("moth", "character", 9))])
    save_world(smaller, tmp_path, "w")
    assert load_world(tmp_path, "w").names() == ["moth"]
    assert len(list((tmp_path / "w").iterdir())) == 2
    with pytest.raises(WorldLibraryError, match="already saved"):
        save_world(smaller, tmp_path, "w", overwrite=False)


def test_interrupted_save_leaves_the_previous_version_intact(tmp_path, monkeypatch):
    original = sample_world()
    save_world(original, tmp_path, "w")

    def power_cut(path, manifest):
        raise OSError("disk unplugged")

    monkeypatch.setattr(library, "commit_manifest", power_cut)
    with pytest.raises(OSError, match="unplugged"):
        save_world(World.from_labelled([("r", reference("moth", "character", 9))]), tmp_path, "w")
    monkeypatch.undo()
    assert_same_world(load_world(tmp_path, "w"), original)


def test_interrupted_write_of_a_file_leaves_no_partial_file(tmp_path, monkeypatch):
    save_world(sample_world(), tmp_path, "w")
    before = sorted(p.name for p in (tmp_path / "w").iterdir())

    def failing_replace(source, target):
        raise OSError("no space left")

    monkeypatch.setattr(library.os, "replace", failing_replace)
    with pytest.raises(OSError, match="no space"):
        save_world(World.from_labelled([("r", reference("moth", "character", 9))]), tmp_path, "w")
    monkeypatch.undo()
    assert sorted(p.name for p in (tmp_path / "w").iterdir()) == before
    assert load_world(tmp_path, "w").names() == ["skunk", "night forest", "lantern"]


@pytest.mark.parametrize(
    "name",
    [
        "",
        "   ",
        "..",
        "../x",
        "..\\x",
        "a/../b",
        "a/b",
        "a\\b",
        "/etc",
        "/",
        "\\\\server\\share",
        "C:\\worlds",
        "C:worlds",
        "c:",
        "a\x00b",
        "a\nb",
        "a\tb",
        ".hidden",
        "./x",
        "~",
        "~root",
        "x.",
        "CON",
        "nul.txt",
        "com1",
        "a*b",
        "a?b",
        'a"b',
        "a<b>",
        "a|b",
        "x" * 65,
        "x..y",
    ],
)
def test_sanitising_rejects_every_traversal_form(tmp_path, name):
    with pytest.raises(WorldLibraryError, match="not allowed"):
        sanitize_world_name(name)
    with pytest.raises(WorldLibraryError):
        save_world(sample_world(), tmp_path, name)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["night_forest", "Night Forest 2", "ville-lumière", "v1.2", "森"])
def test_plain_names_are_kept(name):
    assert sanitize_world_name(name) == name


def test_a_link_leading_out_of_the_library_is_refused(tmp_path):
    root = tmp_path / "worlds"
    root.mkdir()
    (root / "escape").symlink_to(tmp_path, target_is_directory=True)
    with pytest.raises(WorldLibraryError, match="outside"):
        world_folder(root, "escape")


def test_list_worlds_shows_saved_worlds_only(tmp_path):
    assert list_worlds(tmp_path / "missing") == []
    save_world(sample_world(), tmp_path, "b")
    save_world(sample_world(), tmp_path, "a")
    (tmp_path / "not_a_world").mkdir()
    assert list_worlds(tmp_path) == ["a", "b"]


def test_missing_world_lists_what_is_saved(tmp_path):
    save_world(sample_world(), tmp_path, "forest")
    with pytest.raises(WorldLibraryError, match="Saved worlds: forest"):
        load_world(tmp_path, "desert")


def test_truncated_tensor_file_loads_nothing(tmp_path):
    save_world(sample_world(), tmp_path, "w")
    path = tensor_file(tmp_path, "w")
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(WorldLibraryError, match="truncated or edited"):
        load_world(tmp_path, "w")


def test_the_fingerprint_follows_the_tensor_file_too(tmp_path):
    save_world(sample_world(), tmp_path, "w")
    before = manifest_fingerprint(tmp_path, "w")
    assert manifest_fingerprint(tmp_path, "w") == before  # control: nothing changed, nothing to reload
    path = tensor_file(tmp_path, "w")
    path.write_bytes(path.read_bytes()[:-100])
    assert manifest_fingerprint(tmp_path, "w") != before


def test_edited_tensor_bytes_load_nothing(tmp_path):
    save_world(sample_world(), tmp_path, "w")
    path = tensor_file(tmp_path, "w")
    data = bytearray(path.read_bytes())
    data[-5] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(WorldLibraryError, match="does not match the hash"):
        load_world(tmp_path, "w")


def test_tensor_file_that_is_not_safetensors_is_a_clear_error(tmp_path):
    save_world(sample_world(), tmp_path, "w")
    path = tensor_file(tmp_path, "w")
    path.write_bytes(b"not safetensors at all")
    edit_manifest(
        tmp_path,
        "w",
        lambda m: m.update(tensor_sha256=__import__("hashlib").sha256(b"not safetensors at all").hexdigest()),
    )
    with pytest.raises(WorldLibraryError, match="not a readable safetensors"):
        load_world(tmp_path, "w")


def test_truncated_manifest_loads_nothing(tmp_path):
    save_world(sample_world(), tmp_path, "w")
    path = tmp_path / "w" / MANIFEST_NAME
    path.write_text(path.read_text()[:200])
    with pytest.raises(WorldLibraryError, match="not valid JSON"):
        load_world(tmp_path, "w")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda m: m.update(schema_version=SCHEMA_VERSION + 1), "newer"),
        (lambda m: m.update(schema_version="1"), "schema_version"),
        (lambda m: m.pop("format"), "not a WorldKit world"),
        (lambda m: m.update(tensor_file="../../secret.safetensors"), "invalid tensor file"),
        (lambda m: m.update(tensor_file="tensors-0000000000000000.safetensors"), "missing its tensor file"),
        (lambda m: m["entities"][0]["views"].update(shape=[2, 12, 20, 4]), "manifest records"),
        (lambda m: m["entities"][0].update(kind="prop"), "kind 'prop'"),
        (lambda m: m["entities"][1].update(name="skunk"), "both named 'skunk'"),
        (lambda m: m["entities"][0]["encodings"][0].update(width=-4), "frame size"),
        (lambda m: m["entities"].pop(), "does not describe"),
        (lambda m: m["entities"][0]["masks"].update(key="e2.views"), "manifest records"),
    ],
)
def test_edited_manifest_is_a_clear_error(tmp_path, edit, message):
    save_world(sample_world(), tmp_path, "w")
    edit_manifest(tmp_path, "w", edit)
    with pytest.raises(WorldLibraryError, match=message):
        load_world(tmp_path, "w")


def test_latents_from_a_different_vae_are_refused_with_a_way_to_re_encode(tmp_path):
    save_world(sample_world(), tmp_path, "w")
    assert load_world(tmp_path, "w", vae_identity="WanVAE:aaaa", discard_mismatched_latents=True) is not None
    with pytest.raises(WorldLibraryError, match=r"different VAE \(WanVAE:bbbb\).*Re-encode"):
        load_world(tmp_path, "w", vae_identity="WanVAE:aaaa")
    kept = load_world(tmp_path, "w", vae_identity="WanVAE:aaaa", discard_mismatched_latents=True)
    assert [e.vae_identity for e in kept.get("lantern").encodings] == ["WanVAE:aaaa"]
    dropped = load_world(tmp_path, "w", vae_identity="WanVAE:zzzz", discard_mismatched_latents=True)
    assert all(not r.encodings for r in dropped.references.values())
    assert torch.equal(dropped.get("skunk").views, sample_world().get("skunk").views)


def test_empty_world_is_not_saved(tmp_path):
    with pytest.raises(WorldLibraryError, match="empty"):
        save_world(World(), tmp_path, "w")
    assert not (tmp_path / "w").exists()


def test_world_names_are_unique_and_errors_name_both_inputs():
    with pytest.raises(DuplicateEntityError, match="'reference_1' and 'reference_4' are both named 'skunk'"):
        World.from_labelled(
            [("reference_1", reference("skunk", "character", 1)), ("reference_4", reference("skunk", "object", 2))]
        )
    world = sample_world()
    with pytest.raises(DuplicateEntityError, match="already holds"):
        world.with_reference(reference("skunk", "character", 5))
    replaced = world.with_reference(reference("skunk", "object", 5), replace_existing=True)
    assert replaced.get("skunk").kind == "object" and world.get("skunk").kind == "character"
    with pytest.raises(MissingEntityError, match="'skunk' \\(character\\), 'night forest' \\(location\\), 'lantern'"):
        world.get("owl")


def test_with_encoding_replaces_the_encoding_for_the_same_vae_and_size():
    original = reference("skunk", "character", 1, encodings=("WanVAE:aaaa", "WanVAE:bbbb"))
    fresh = Encoding("WanVAE:aaaa", 32, 16, torch.zeros(2, 16, 1, 2, 4))
    updated = original.with_encoding(fresh)
    assert [e.vae_identity for e in updated.encodings] == ["WanVAE:bbbb", "WanVAE:aaaa"]
    assert updated.encoding_for("WanVAE:aaaa", 32, 16) is fresh
    assert updated.encoding_for("WanVAE:aaaa", 64, 32) is None
    assert len(original.encodings) == 2


def test_saved_files_are_readable_without_pickle(tmp_path):
    from safetensors.torch import load_file

    save_world(sample_world(), tmp_path, "w")
    tensors = load_file(str(tensor_file(tmp_path, "w")))
    assert tensors["e0.views"].shape == (2, 12, 20, 3)
    assert os.path.getsize(tmp_path / "w" / MANIFEST_NAME) > 0
