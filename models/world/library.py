"""The world library: worlds saved as folders of safetensors tensors plus a JSON manifest.

Layout under the library root (the node passes ComfyUI's output folder + ``worlds``)::

    <root>/<name>/world.json                    manifest: schema, entities, model identities, tensor file + hash
    <root>/<name>/tensors-<hash>.safetensors    views, masks, latents, CLIP-vision embeddings

A save writes the tensor file under a new content-named file, then replaces ``world.json`` in one
atomic rename: an interrupted save leaves the previous manifest pointing at the previous, intact
tensor file. Loading checks the tensor file's hash, the schema version and every tensor's shape,
and loads nothing when any check fails.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import torch
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors

from ..shared.files import remove_temporaries, write_bytes_atomically
from .entities import ENTITY_KINDS, DuplicateEntityError, Encoding, Reference, World
from .names import WorldLibraryError, name_problem, sanitize_world_name

FORMAT = "worldkit-world"
SCHEMA_VERSION = 1
MANIFEST_NAME = "world.json"
TENSOR_FILE_PATTERN = re.compile(r"^tensors-[0-9a-f]{16}\.safetensors$")
ENCODING_TENSORS = ("latents", "clip_penultimate", "clip_embeds")


def world_folder(root: str | os.PathLike, name: str) -> Path:
    """The folder of a named world, guaranteed to sit directly inside the library root."""
    root_path = Path(root).resolve()
    folder = root_path / sanitize_world_name(name)
    if folder.resolve().parent != root_path:
        raise WorldLibraryError(
            f"World '{name}' resolves outside the library folder {root_path}; remove the link or choose another name."
        )
    return folder


def list_worlds(root: str | os.PathLike) -> list[str]:
    """Names of the saved worlds under the root (folders holding a manifest), sorted."""
    root_path = Path(root)
    if not root_path.is_dir():
        return []
    return sorted(
        p.name
        for p in root_path.iterdir()
        if p.is_dir() and (p / MANIFEST_NAME).is_file() and name_problem(p.name) is None
    )


def manifest_fingerprint(root: str | os.PathLike, name: str) -> str:
    """Changes whenever any file of the saved world changes (used to tell ComfyUI to reload it, so a tensor
    file truncated or edited since the last load is read, and refused, again)."""
    folder = world_folder(root, name)
    if not (folder / MANIFEST_NAME).is_file():
        return "missing"
    entries = []
    for path in sorted(folder.iterdir()):
        with contextlib.suppress(FileNotFoundError):  # a save may remove a staged file meanwhile
            stat = path.stat()
            entries.append(f"{path.name}:{stat.st_mtime_ns}:{stat.st_size}")
    return ";".join(entries)


def _spec(key: str, tensor: torch.Tensor) -> dict:
    return {"key": key, "shape": list(tensor.shape), "dtype": str(tensor.dtype).removeprefix("torch.")}


def serialise_world(world: World) -> tuple[dict[str, torch.Tensor], list[dict]]:
    """Tensors by key and the manifest's entity records."""
    tensors: dict[str, torch.Tensor] = {}
    entities = []

    def keep(key: str, tensor: torch.Tensor | None) -> dict | None:
        if tensor is None:
            return None
        tensors[key] = tensor.detach().cpu().contiguous()
        return _spec(key, tensors[key])

    for index, reference in enumerate(world.references.values()):
        prefix = f"e{index}"
        encodings = []
        for number, encoding in enumerate(reference.encodings):
            record = {
                "vae_identity": encoding.vae_identity,
                "width": encoding.width,
                "height": encoding.height,
                "clip_identity": encoding.clip_identity,
            }
            for field_name in ENCODING_TENSORS:
                record[field_name] = keep(f"{prefix}.enc{number}.{field_name}", getattr(encoding, field_name))
            encodings.append(record)
        entities.append(
            {
                "name": reference.name,
                "kind": reference.kind,
                "description": reference.description,
                "source_hash": reference.source_hash,
                "preprocess": reference.preprocess,
                "views": keep(f"{prefix}.views", reference.views),
                "masks": keep(f"{prefix}.masks", reference.masks),
                "encodings": encodings,
            }
        )
    return tensors, entities


def model_identities(world: World) -> dict[str, list[str]]:
    encodings = [e for r in world.references.values() for e in r.encodings]
    return {
        "vae": sorted({e.vae_identity for e in encodings}),
        "clip_vision": sorted({e.clip_identity for e in encodings if e.clip_identity}),
    }


def save_world(world: World, root: str | os.PathLike, name: str, overwrite: bool = True) -> Path:
    """Save the world as ``<root>/<name>/``; returns the folder. Replaces an earlier save unless told not to."""
    if not len(world):
        raise WorldLibraryError("The world is empty; add references before saving it.")
    folder = world_folder(root, name)
    manifest_path = folder / MANIFEST_NAME
    if manifest_path.exists() and not overwrite:
        raise WorldLibraryError(
            f"A world named '{folder.name}' is already saved; choose another name or allow overwriting."
        )
    folder.mkdir(parents=True, exist_ok=True)
    tensors, entities = serialise_world(world)
    data = save_safetensors(tensors, metadata={"format": FORMAT})
    sha256 = hashlib.sha256(data).hexdigest()
    tensor_file = f"tensors-{sha256[:16]}.safetensors"
    write_bytes_atomically(folder / tensor_file, data)
    manifest = {
        "format": FORMAT,
        "schema_version": SCHEMA_VERSION,
        "name": folder.name,
        "saved_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "tensor_file": tensor_file,
        "tensor_sha256": sha256,
        "model_identity": model_identities(world),
        "entities": entities,
    }
    commit_manifest(manifest_path, manifest)
    remove_stale_files(folder, keep=tensor_file)
    return folder


def commit_manifest(path: Path, manifest: dict) -> None:
    """The save's single commit point: until this rename, the previous world stays in force."""
    write_bytes_atomically(path, json.dumps(manifest, indent=2, ensure_ascii=False).encode("utf-8"))


def remove_stale_files(folder: Path, keep: str) -> None:
    """Tensor files of earlier saves and leftovers of interrupted ones."""
    remove_temporaries(folder)
    for path in folder.iterdir():
        if TENSOR_FILE_PATTERN.match(path.name) and path.name != keep:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()


def read_manifest(folder: Path) -> dict:
    path = folder / MANIFEST_NAME
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as error:
        raise WorldLibraryError(f"{path} is not UTF-8 text ({error}); restore it or save the world again.") from None
    except json.JSONDecodeError as error:
        raise WorldLibraryError(
            f"{path} is not valid JSON (line {error.lineno}, column {error.colno}: {error.msg}). "
            "The manifest was edited or truncated; restore it or save the world again."
        ) from None
    except (RecursionError, ValueError) as error:  # nesting too deep, numbers too long for Python
        raise WorldLibraryError(
            f"{path} holds JSON this WorldKit never writes ({type(error).__name__}); the manifest was edited. "
            "Restore it or save the world again."
        ) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise WorldLibraryError(f'{path} is not a WorldKit world manifest (expected "format": "{FORMAT}").')
    version = manifest.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise WorldLibraryError(f"{path} has no valid schema_version (found {version!r}); save the world again.")
    if version > SCHEMA_VERSION:
        raise WorldLibraryError(
            f"World '{folder.name}' was saved with schema version {version}, newer than this "
            f"WorldKit reads ({SCHEMA_VERSION}). Update WorldKit to load it."
        )
    return manifest


def read_tensors(folder: Path, manifest: dict) -> dict[str, torch.Tensor]:
    tensor_file = manifest.get("tensor_file")
    if not isinstance(tensor_file, str) or not TENSOR_FILE_PATTERN.match(tensor_file):
        raise WorldLibraryError(
            f"The manifest of world '{folder.name}' names an invalid tensor file {tensor_file!r}; save the world again."
        )
    path = folder / tensor_file
    if not path.is_file():
        raise WorldLibraryError(
            f"World '{folder.name}' is missing its tensor file {tensor_file}; save the world again."
        )
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != manifest.get("tensor_sha256"):
        raise WorldLibraryError(
            f"{path} does not match the hash in its manifest: the file was truncated or edited. "
            "Nothing was loaded; restore the file or save the world again."
        )
    try:
        return load_safetensors(data)
    except Exception as error:
        raise WorldLibraryError(f"{path} is not a readable safetensors file ({error}); save the world again.") from None


def take_tensor(tensors: dict[str, torch.Tensor], spec, what: str, used: set[str]) -> torch.Tensor | None:
    """The tensor a manifest spec names, checked against the shape the manifest records."""
    if spec is None:
        return None
    if not isinstance(spec, dict) or not isinstance(spec.get("key"), str) or spec["key"] not in tensors:
        raise WorldLibraryError(f"The manifest's {what} names a tensor the tensor file does not hold.")
    tensor = tensors[spec["key"]]
    if list(tensor.shape) != spec.get("shape"):
        raise WorldLibraryError(f"{what} is shaped {list(tensor.shape)} but the manifest records {spec.get('shape')}.")
    if not tensor.is_floating_point():
        raise WorldLibraryError(f"{what} holds {tensor.dtype}, expected floating-point values.")
    used.add(spec["key"])
    return tensor


def check_shape(tensor: torch.Tensor | None, expected: tuple, what: str) -> None:
    """Compare a shape to a pattern where None means any size."""
    if tensor is None:
        return
    shape = tuple(tensor.shape)
    if len(shape) != len(expected) or any(e is not None and e != s for e, s in zip(expected, shape, strict=False)):
        pattern = ", ".join("*" if e is None else str(e) for e in expected)
        raise WorldLibraryError(f"{what} is shaped {list(shape)}; expected [{pattern}].")


def read_encoding(record, tensors: dict[str, torch.Tensor], views: int, what: str, used: set[str]) -> Encoding:
    if not isinstance(record, dict) or not isinstance(record.get("vae_identity"), str):
        raise WorldLibraryError(f"{what} has no VAE identity.")
    width, height = record.get("width"), record.get("height")
    if not (isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0):
        raise WorldLibraryError(f"{what} has an invalid frame size {width!r}x{height!r}.")
    latents, penultimate, embeds = (take_tensor(tensors, record.get(f), f"{what} {f}", used) for f in ENCODING_TENSORS)
    if latents is None:
        raise WorldLibraryError(f"{what} has no latents.")
    check_shape(latents, (views, None, 1, None, None), f"{what} latents")
    check_shape(penultimate, (views, None, None), f"{what} clip_penultimate")
    check_shape(embeds, (views, None), f"{what} clip_embeds")
    if (penultimate is None) != (embeds is None) or (penultimate is not None and not record.get("clip_identity")):
        raise WorldLibraryError(f"{what} has incomplete CLIP-vision data.")
    return Encoding(record["vae_identity"], width, height, latents, record.get("clip_identity"), penultimate, embeds)


def read_entity(record, tensors: dict[str, torch.Tensor], used: set[str]) -> Reference:
    if not isinstance(record, dict) or not isinstance(record.get("name"), str) or not record["name"].strip():
        raise WorldLibraryError("An entity in the manifest has no name.")
    name = record["name"]
    what = f"Entity '{name}'"
    if record.get("kind") not in ENTITY_KINDS:
        raise WorldLibraryError(f"{what} has kind {record.get('kind')!r}; expected one of {', '.join(ENTITY_KINDS)}.")
    for text_field in ("description", "source_hash"):
        if not isinstance(record.get(text_field, ""), str):
            raise WorldLibraryError(f"{what} has a non-text {text_field}.")
    if not isinstance(record.get("preprocess", {}), dict):
        raise WorldLibraryError(f"{what} has invalid preprocessing settings.")
    views = take_tensor(tensors, record.get("views"), f"{what} views", used)
    if views is None:
        raise WorldLibraryError(f"{what} has no views.")
    check_shape(views, (None, None, None, 3), f"{what} views")
    count, height, width = views.shape[:3]
    masks = take_tensor(tensors, record.get("masks"), f"{what} masks", used)
    check_shape(masks, (count, height, width), f"{what} masks")
    encodings = record.get("encodings", [])
    if not isinstance(encodings, list):
        raise WorldLibraryError(f"{what} has an invalid encodings list.")
    return Reference(
        name=name,
        kind=record["kind"],
        description=record.get("description", ""),
        views=views,
        masks=masks,
        source_hash=record.get("source_hash", ""),
        preprocess=record.get("preprocess", {}),
        encodings=[read_encoding(e, tensors, count, f"{what} encoding {i}", used) for i, e in enumerate(encodings)],
    )


def load_world(
    root: str | os.PathLike, name: str, vae_identity: str | None = None, discard_mismatched_latents: bool = False
) -> World:
    """Load a saved world, fully validated; raises WorldLibraryError and returns nothing on any problem.

    With ``vae_identity`` given, latents made by another VAE are refused (or dropped for re-encoding
    when ``discard_mismatched_latents`` is set).
    """
    folder = world_folder(root, name)
    if not (folder / MANIFEST_NAME).is_file():
        saved = ", ".join(list_worlds(root)) or "none"
        raise WorldLibraryError(f"No saved world named '{folder.name}' in {Path(root)}. Saved worlds: {saved}.")
    manifest = read_manifest(folder)
    tensors = read_tensors(folder, manifest)
    records = manifest.get("entities")
    if not isinstance(records, list) or not records:
        raise WorldLibraryError(f"The manifest of world '{folder.name}' lists no entities.")
    used: set[str] = set()
    try:
        world = World.from_labelled(
            (f"manifest entity {i}", read_entity(r, tensors, used)) for i, r in enumerate(records)
        )
    except DuplicateEntityError as error:
        raise WorldLibraryError(f"World '{folder.name}': {error}") from None
    unreferenced = sorted(set(tensors) - used)
    if unreferenced:
        raise WorldLibraryError(
            f"World '{folder.name}' holds tensors its manifest does not describe "
            f"({', '.join(unreferenced[:5])}); the files do not belong together. Save the world again."
        )
    return world if vae_identity is None else check_vae(world, folder.name, vae_identity, discard_mismatched_latents)


def check_vae(world: World, name: str, vae_identity: str, discard: bool) -> World:
    """Refuse (or drop) latents that a different VAE made."""
    foreign = sorted(
        {e.vae_identity for r in world.references.values() for e in r.encodings if e.vae_identity != vae_identity}
    )
    if not foreign:
        return world
    if not discard:
        raise WorldLibraryError(
            f"World '{name}' holds latents encoded by a different VAE ({', '.join(foreign)}) than the one connected "
            f"({vae_identity}); they cannot be used with it. Re-encode: turn on 'discard_mismatched_latents', pass "
            "the world through Encode References with this VAE, and save it again."
        )
    return world.map(lambda r: replace(r, encodings=[e for e in r.encodings if e.vae_identity == vae_identity]))
