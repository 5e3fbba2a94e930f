"""Run a saved workflow on ComfyUI without the editor: the engine behind `python -m worldkit run`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from ..host_packages import MissingPackageError, missing_packages, node_types
from ..models.shared.files import write_bytes_atomically
from .client import STALL_TIMEOUT_S, ComfyClient, ProgressCallback, ServerError
from .convert import ConversionError, load_json, ui_to_api
from .outputs import output_target, prepare_out_dir
from .overrides import Override, apply_overrides, parse_override, substitute_values
from .requirements import MissingModelsError, input_files, missing_inputs, missing_models
from .server import LocalServer, find_comfyui


class MissingInputsError(RuntimeError):
    """Input files the workflow loads exist neither on the server nor in the local inputs folders."""


@dataclass
class RunResult:
    prompt_id: str
    prompt: dict
    outputs: dict[str, dict]
    files: list[Path] = field(default_factory=list)
    executed: list[str] = field(default_factory=list)
    cached: list[str] = field(default_factory=list)


def default_inputs_dirs(workflow_path: Path | None) -> list[Path]:
    """workflows/inputs next to a UI file, or next to the folder of an API twin."""
    if workflow_path is None:
        return []
    folder = Path(workflow_path).resolve().parent
    return [d for d in (folder / "inputs", folder.parent / "inputs") if d.is_dir()]


def output_items(outputs: dict[str, dict], include_temp: bool = False) -> list[dict]:
    """Every file entry (filename, subfolder, type) in /history outputs; previews in temp only when asked."""
    wanted = {"output", "temp"} if include_temp else {"output"}
    return [
        item
        for node_output in outputs.values()
        for value in node_output.values()
        if isinstance(value, list)
        for item in value
        if isinstance(item, dict) and "filename" in item and item.get("type", "output") in wanted
    ]


async def prepare_prompt(
    client: ComfyClient,
    workflow: dict,
    overrides: Iterable[Override] = (),
    renames: dict[str, Any] | None = None,
    inputs_dirs: Iterable[Path] = (),
    workflow_path: Path | None = None,
) -> dict:
    """API prompt ready to queue: nodes that need a package checked, converted if needed, edited, models
    checked, missing inputs uploaded.
    `workflow_path`, where the workflow came from a file, is named in the missing-models hint."""
    info = await client.object_info()
    if lacking := missing_packages(node_types(workflow), info):
        raise MissingPackageError(lacking)
    prompt = ui_to_api(workflow, info) if "nodes" in workflow else workflow
    if renames:
        prompt = substitute_values(prompt, renames)
    prompt = apply_overrides(prompt, list(overrides), info)
    missing = missing_models(prompt, info)
    if missing:
        raise MissingModelsError(missing, workflow_path)
    in_subfolders = {name for _, name in input_files(prompt) if "/" in name}
    on_server = frozenset([name for name in sorted(in_subfolders) if await client.has_input(name)])
    to_upload, nowhere = missing_inputs(prompt, info, list(inputs_dirs), on_server)
    if nowhere:
        raise MissingInputsError(
            "input files not found on the server nor in "
            f"{', '.join(map(str, inputs_dirs)) or 'any local inputs folder'}:\n  " + "\n  ".join(nowhere)
        )
    for path, subfolder in to_upload:
        await client.upload(path, subfolder)
    return prompt


async def download_outputs(client: ComfyClient, outputs: dict, out_dir: Path, include_temp: bool = False) -> list[Path]:
    """Each output file into ``out_dir``; every target is checked before anything is downloaded."""
    items = output_items(outputs, include_temp)
    targets = [output_target(Path(out_dir), str(item.get("subfolder", "")), str(item["filename"])) for item in items]
    files = []
    for item, target in zip(items, targets, strict=True):
        write_bytes_atomically(
            target, await client.view(item["filename"], item.get("subfolder", ""), item.get("type", "output"))
        )
        files.append(target)
    return files


async def run_on_server(
    base_url: str,
    workflow: dict,
    out_dir: Path | None,
    overrides: Iterable[Override] = (),
    renames: dict[str, Any] | None = None,
    inputs_dirs: Iterable[Path] = (),
    on_event: ProgressCallback | None = None,
    include_temp: bool = False,
    stall_timeout: float = STALL_TIMEOUT_S,
    workflow_path: Path | None = None,
) -> RunResult:
    try:
        async with ComfyClient(base_url, stall_timeout) as client:
            prompt = await prepare_prompt(client, workflow, overrides, renames, list(inputs_dirs), workflow_path)
            try:
                execution = await client.run(prompt, with_class_types(prompt, on_event))
            except asyncio.CancelledError:  # Ctrl-C: asyncio.run cancels this task
                raise await client.withdraw() from None
            outputs = (await client.history(execution.prompt_id)).get("outputs", {})
            files = await download_outputs(client, outputs, out_dir, include_temp) if out_dir is not None else []
            return RunResult(execution.prompt_id, prompt, outputs, files, execution.executed, execution.cached)
    except aiohttp.ClientConnectionError as error:
        raise ServerError(f"lost or could not open the connection to ComfyUI at {base_url}: {error}") from None


def with_class_types(prompt: dict, on_event: ProgressCallback | None) -> ProgressCallback | None:
    """Pass events on with the class type of the node they concern added (`data.class_type`)."""
    if on_event is None:
        return None

    def forward(event: dict) -> None:
        data = event.get("data") or {}
        node = data.get("node") or data.get("node_id")
        if node is not None and str(node) in prompt:
            event = {**event, "data": {**data, "class_type": prompt[str(node)]["class_type"]}}
        on_event(event)

    return forward


def load_workflow(workflow: str | Path | dict) -> tuple[dict, Path | None]:
    if isinstance(workflow, dict):
        return workflow, None
    data = load_json(Path(workflow), "workflow")
    if not isinstance(data, dict):
        raise ConversionError(f"workflow {workflow} must hold a JSON object (API or UI format)")
    return data, Path(workflow)


def run_workflow(
    workflow: str | Path | dict,
    *,
    server: str | None = None,
    out_dir: str | Path | None = "output",
    overrides: Iterable[Override | str] = (),
    renames: dict[str, Any] | None = None,
    comfyui: str | Path | None = None,
    comfy_args: Iterable[str] = (),
    inputs_dirs: Iterable[Path] | None = None,
    on_event: ProgressCallback | None = None,
    include_temp: bool = False,
    log: Callable[[str], None] | None = None,
    stall_timeout: float = STALL_TIMEOUT_S,
) -> RunResult:
    """Run an API (or UI) workflow and download its outputs.

    With no `server`, ComfyUI is started from `comfyui` / $COMFYUI_PATH / the install holding this pack on a free
    loopback port and stopped afterwards (`log` receives its start and stop messages). `overrides` are Override
    objects or `NODE.INPUT=VALUE` strings; `renames` replaces file names. Raises MissingModelsError before
    queueing when model files are absent, MissingPackageError when the server lacks a node that a package
    brings (Load Audio without torchaudio), OutputPathError before anything starts when `out_dir` cannot be
    written, PromptRejected when the server refuses the graph, NodeFailed (node id, type, message) when a
    node raises, ServerError when the server stops answering or makes no progress for `stall_timeout`
    seconds (its prompt worker may have died), and RunInterrupted after Ctrl-C (its prompt interrupted on
    the server, or removed from the queue).
    """
    data, path = load_workflow(workflow)
    edits = [parse_override(o) if isinstance(o, str) else o for o in overrides]
    dirs = list(inputs_dirs) if inputs_dirs is not None else default_inputs_dirs(path)
    out = prepare_out_dir(out_dir) if out_dir is not None else None

    def run(url: str) -> RunResult:
        return asyncio.run(
            run_on_server(url, data, out, edits, renames, dirs, on_event, include_temp, stall_timeout, path)
        )

    if server:
        return run(server)
    say = log or (lambda _message: None)
    local = LocalServer(find_comfyui(comfyui), list(comfy_args))
    say(f"starting ComfyUI from {local.comfyui} (log: {local.log_path})")
    with local:
        say(f"ComfyUI started at {local.base_url}")
        try:
            return run(local.base_url)
        finally:
            say("stopping ComfyUI")
