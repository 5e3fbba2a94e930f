"""`python -m worldkit farm FILM.json`: a film's shot list rendered across Ray workers, then cut once.

The world is encoded once (on the first worker), kept in the output folder and shipped by hash to each
worker's library before its first unit. Units run wherever a worker is free; each finished unit's frames are
stored under their hash and recorded in the manifest at once, so an interrupted or failed run resumes where
it stopped. When every candidate of every shot is in, the best of each shot is picked by score (ties go to
the earlier candidate, as in a single run) and the film's cut runs on those frames.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from ...models.sampling.shot_frames import read_shot_report
from ...models.world.library import MANIFEST_NAME
from ..convert import ui_to_api
from ..requirements import MissingModelsError, input_files, missing_inputs, missing_models
from ..runner import MissingInputsError, default_inputs_dirs, load_workflow
from .cluster import WorkerSpec, connect, start_workers, stop_workers
from .dispatch import Dispatcher, Outcome, Slot
from .display import FarmDisplay
from .film import FRAMES_FOLDER, Film, Unit, content_key
from .manifest import Manifest, intact, store_output


class FarmInterrupted(KeyboardInterrupt):
    """Ctrl-C: the prompts in flight were cancelled; the manifest holds every unit finished before."""


@dataclass
class FarmOptions:
    film: Path
    out: Path
    workers: WorkerSpec = field(default_factory=WorkerSpec)
    address: str | None = None
    retries: int = 1
    sampler: str | None = None
    inputs_dirs: list[Path] | None = None


@dataclass
class FarmResult:
    manifest: Manifest
    rendered: int
    skipped: int
    failed: dict[str, dict]
    cut: list[Path]
    dispatch_s: float = 0.0  # wall time from the first unit handed out to the last one stored

    @property
    def units_per_minute(self) -> float:
        return 60.0 * self.rendered / self.dispatch_s if self.dispatch_s else 0.0


def run_farm(options: FarmOptions, stream: TextIO = sys.stderr) -> FarmResult:
    ray = connect(options.address, options.workers)
    workers: list[Any] = []
    try:
        workers = start_workers(ray, options.workers)
        return Farm(ray, workers, options, stream).run()
    finally:
        stop_workers(ray, workers)
        ray.shutdown()


class Farm:
    def __init__(self, ray: Any, workers: list[Any], options: FarmOptions, stream: TextIO):
        self.ray, self.workers, self.options, self.stream = ray, workers, options, stream
        self.slots = [Slot(actor, f"worker-{index + 1}") for index, actor in enumerate(workers)]
        self.out = Path(options.out)

    def run(self) -> FarmResult:
        info = self.ray.get(self.workers[0].object_info.remote())
        data, path = load_workflow(self.options.film)
        film = Film.read(ui_to_api(data, info) if "nodes" in data else data, info, self.options.sampler)
        self.info, self.dirs = info, self.options.inputs_dirs or default_inputs_dirs(path)
        missing = missing_models(film.prompt, info)
        if missing:
            raise MissingModelsError(missing, path)
        manifest = Manifest.open(self.out, content_key(film.prompt))
        units = film.units()
        todo = [unit for unit in units if not manifest.done(unit.key)]
        display = FarmDisplay(len(units), self.stream)
        display.done = len(units) - len(todo)
        display.event(
            f"{len(units)} units ({len(film.shots)} shots x {film.candidates} candidates), "
            f"{display.done} already done, {len(self.workers)} worker(s)"
        )
        world = self.ray.put(self.world(film, manifest)) if todo else None
        started = time.perf_counter()
        outcome = self.dispatch(
            manifest, display, todo, lambda actor, unit: actor.render.remote(unit.prompt, world, {})
        )
        dispatch_s = time.perf_counter() - started
        manifest.failed = outcome.failed
        manifest.save()
        cut = [] if outcome.failed else self.cut(film, manifest, display)
        return FarmResult(manifest, len(outcome.rendered), len(units) - len(todo), outcome.failed, cut, dispatch_s)

    def dispatch(self, manifest: Manifest, display: FarmDisplay, units: list[Unit], submit) -> Outcome:
        def store(unit: Unit, result: dict, started: float) -> None:
            self.store_unit(manifest, unit, result, started)
            entry = manifest.units.get(unit.key, manifest.cut)
            display.unit_done(unit.label, result["worker"], time.perf_counter() - started, entry.get("score"))

        dispatcher = Dispatcher(self.ray, self.slots, display, submit, store, self.options.retries)
        try:
            return dispatcher.run(units)
        except KeyboardInterrupt:
            cancelled = dispatcher.cancel()
            manifest.save()
            raise FarmInterrupted(f"interrupted; cancelled {', '.join(cancelled) or 'nothing in flight'}") from None

    def store_unit(self, manifest: Manifest, unit: Unit, result: dict, started: float) -> None:
        """Outputs under their hash (the cut's under their names), then the manifest entry (its one commit point)."""
        folder = "units" if unit.shot else "cut"
        outputs = [store_output(self.out, folder, name, data, not unit.shot) for name, data in result["files"]]
        timings = {**result["timings"], "driver_s": time.perf_counter() - started}
        entry = {"worker": result["worker"], "prompt_id": result["prompt_id"], "outputs": outputs, "timings": timings}
        if unit.shot:
            shot = read_shot_report(result["files"][0][1], result["files"][0][0])["shots"][0]
            score = shot["scores"][0]
            entry.update(shot=unit.shot, candidate=unit.candidate, seed=shot["chosen_seed"], score=score)
            entry["world_shipped"] = result["world_shipped"]
            manifest.units[unit.key] = entry
        else:
            manifest.cut = {"key": unit.key, **entry}
        manifest.save()

    def uploads(self, prompt: dict) -> dict[str, bytes]:
        """The prompt's input files (images, audio) from the local inputs folders; absent ones must be on the server."""
        _, nowhere = missing_inputs(prompt, self.info, self.dirs)
        if nowhere:
            raise MissingInputsError("input files found neither locally nor on the server:\n  " + "\n  ".join(nowhere))
        local = {
            name: next((d / name for d in self.dirs if (d / name).is_file()), None) for _, name in input_files(prompt)
        }
        return {name: path.read_bytes() for name, path in local.items() if path is not None}

    def world(self, film: Film, manifest: Manifest) -> dict[str, Any]:
        """The encoded world's library files: from the output folder, or encoded now on the first worker."""
        entry = manifest.world
        if entry.get("name") == film.world_name and intact(self.out, entry["outputs"]):
            files = {o["name"]: (self.out / o["path"]).read_bytes() for o in entry["outputs"]}
        else:
            prompt = film.world_prompt()
            names = {"name": film.world_name, "manifest": MANIFEST_NAME}
            files = self.ray.get(self.workers[0].encode_world.remote(prompt, names, self.uploads(prompt)))
            outputs = [store_output(self.out, "world", name, data) for name, data in sorted(files.items())]
            manifest.world = {"name": film.world_name, "outputs": outputs}
            manifest.save()
        sha = json.loads(files[MANIFEST_NAME])["tensor_sha256"]
        return {"name": film.world_name, "manifest": MANIFEST_NAME, "sha256": sha, "files": files}

    def cut(self, film: Film, manifest: Manifest, display: FarmDisplay) -> list[Path]:
        """Pick each shot's best candidate and run the film's cut on their frames (once; skipped when done)."""
        manifest.picks = picks(manifest, len(film.shots))
        uploads = {}
        for shot in range(1, len(film.shots) + 1):
            output = manifest.units[manifest.picks[str(shot)]]["outputs"][0]
            uploads[f"{FRAMES_FOLDER}/{output['sha256']}.safetensors"] = (self.out / output["path"]).read_bytes()
        prompt = film.cut_prompt(list(uploads))
        uploads.update(self.uploads(prompt))
        unit = Unit(0, 0, content_key(prompt), prompt)
        if manifest.cut.get("key") != unit.key or not intact(self.out, manifest.cut["outputs"]):
            display.total += 1
            self.dispatch(manifest, display, [unit], lambda actor, u: actor.render.remote(u.prompt, {}, uploads))
        manifest.save()
        return [self.out / output["path"] for output in manifest.cut["outputs"]]


def picks(manifest: Manifest, shots: int) -> dict[str, str]:
    """Shot number → key of its best unit: highest score, ties to the earlier candidate (as one run picks)."""
    chosen: dict[str, str] = {}
    for shot in range(1, shots + 1):
        entries = [(key, e) for key, e in manifest.units.items() if e["shot"] == shot]
        best = min(entries, key=lambda item: (-(item[1]["score"] or 0.0), item[1]["candidate"]))
        chosen[str(shot)] = best[0]
    return chosen
