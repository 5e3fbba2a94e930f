"""A film workflow split into farm prompts: the world encoding, one prompt per (shot, candidate), and the cut.

Every unit prompt is the film's graph with the World Shot Sampler's ``select`` set to its shot and candidate,
the world read from the library instead of encoded again, and its frames saved losslessly (Save Shot Frames);
only what that save needs is kept. The cut prompt puts Load Shot Frames in the sampler's place, so Assemble
Cut and the saves after it run unchanged on the chosen candidates.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass

from ...models.sampling.selection import Selection

SAMPLER = "WorldKitWorldShotSampler"
WORLD_NODE, SAVE_NODE = "farm_world", "farm_save"
FRAMES_FOLDER = "worldkit_farm"


class FilmError(ValueError):
    """The workflow cannot be split into farm units; the message says what to change."""


@dataclass(frozen=True)
class Unit:
    """One shot and one candidate (both from 1), with the prompt that renders exactly it."""

    shot: int
    candidate: int
    key: str
    prompt: dict

    @property
    def label(self) -> str:
        return f"shot {self.shot} candidate {self.candidate}" if self.shot else "cut"


def _is_link(value: object) -> bool:
    return isinstance(value, list) and len(value) == 2 and isinstance(value[0], str)


def content_key(prompt: dict) -> str:
    """A prompt's identity: the hash of its canonical JSON (titles and other _meta ignored)."""
    plain = {node: {"class_type": e["class_type"], "inputs": e["inputs"]} for node, e in prompt.items()}
    return hashlib.sha256(json.dumps(plain, sort_keys=True).encode()).hexdigest()


def ancestors(prompt: dict, roots: list[str]) -> set[str]:
    """The nodes ``roots`` need, themselves included."""
    found, stack = set(), list(roots)
    while stack:
        node = stack.pop()
        if node in found or node not in prompt:
            continue
        found.add(node)
        stack.extend(value[0] for value in prompt[node]["inputs"].values() if _is_link(value))
    return found


def keep_only(prompt: dict, roots: list[str]) -> dict:
    needed = ancestors(prompt, roots)
    return {node: entry for node, entry in prompt.items() if node in needed}


def find_sampler(prompt: dict, wanted: str | None = None) -> str:
    samplers = [node for node, entry in prompt.items() if entry["class_type"] == SAMPLER]
    if wanted is not None:
        titled = [n for n in samplers if wanted in (n, prompt[n].get("_meta", {}).get("title"))]
        if len(titled) != 1:
            raise FilmError(f"--sampler {wanted}: no World Shot Sampler has that node id or title ({samplers}).")
        return titled[0]
    if len(samplers) != 1:
        raise FilmError(
            f"the farm renders one World Shot Sampler's shot list; this workflow has {len(samplers) or 'none'}"
            + (f" (nodes {', '.join(samplers)}): choose one with --sampler NODE" if samplers else "")
        )
    return samplers[0]


def shot_nodes(prompt: dict, sampler: str) -> list[str]:
    """The Shot nodes feeding the sampler, in list order (Shot List inputs, then the lone ``shot`` input)."""

    def listed(link: object) -> list[str]:
        if not _is_link(link):
            return []
        entry = prompt[link[0]]
        if entry["class_type"] == "WorldKitShot":
            return [link[0]]
        if entry["class_type"] != "WorldKitShotList":
            raise FilmError(
                f"the farm reads the shot list from Shot List and Shot nodes; node {link[0]} is "
                f"{entry['class_type']}. Build the list with Shot List, or render with `python -m worldkit run`."
            )
        numbered = sorted((k for k in entry["inputs"] if k.startswith("shot_")), key=lambda k: int(k[5:]))
        return listed(entry["inputs"].get("shots")) + [n for k in numbered for n in listed(entry["inputs"][k])]

    inputs = prompt[sampler]["inputs"]
    shots = listed(inputs.get("shots")) + listed(inputs.get("shot"))
    if not shots:
        raise FilmError(f"World Shot Sampler {sampler} has no shots connected.")
    return shots


def _check_cuts(prompt: dict, shots: list[str]) -> None:
    for number, node in enumerate(shots, start=1):
        if number > 1 and prompt[node]["inputs"].get("continuity") == "continue":
            raise FilmError(
                f"shot {number} (node {node}) continues the shot before it, so it needs that shot's chosen "
                "frames and cannot be rendered apart; set its continuity to 'cut', or render the film with "
                "`python -m worldkit run`."
            )


def _literal_int(prompt: dict, node: str, name: str) -> int | None:
    value = prompt[node]["inputs"].get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@dataclass
class Film:
    """A film prompt (API format) and what the farm reads from it."""

    prompt: dict
    sampler: str
    shots: list[str]
    candidates: int
    world_link: list
    output_nodes: set[str]

    @classmethod
    def read(cls, prompt: dict, object_info: dict, sampler: str | None = None) -> Film:
        node = find_sampler(prompt, sampler)
        shots = shot_nodes(prompt, node)
        _check_cuts(prompt, shots)
        candidates = _literal_int(prompt, node, "candidates")
        if candidates is None:
            raise FilmError(f"World Shot Sampler {node}'s candidates must be a number in the workflow, not a link.")
        world_link = prompt[node]["inputs"].get("world")
        if not _is_link(world_link):
            raise FilmError(f"World Shot Sampler {node} has no world connected.")
        outputs = {n for n, e in prompt.items() if object_info.get(e["class_type"], {}).get("output_node")}
        return cls(prompt, node, shots, candidates, world_link, outputs)

    @property
    def world_name(self) -> str:
        """Library name of the film's world: the hash of the graph that encodes it."""
        return "farm_" + content_key(keep_only(self.prompt, [self.world_link[0]]))[:16]

    def world_prompt(self) -> dict:
        """The world's encoding, saved to the library under ``world_name``."""
        prompt = copy.deepcopy(keep_only(self.prompt, [self.world_link[0]]))
        prompt[SAVE_NODE] = {
            "class_type": "WorldKitSaveWorld",
            "inputs": {"world": list(self.world_link), "world_name": self.world_name, "overwrite": True},
        }
        return prompt

    def _with_library_world(self) -> dict:
        """The film with every use of the encoded world reading it from the library instead."""
        prompt = copy.deepcopy(self.prompt)
        for entry in prompt.values():
            for name, value in entry["inputs"].items():
                if value == self.world_link:
                    entry["inputs"][name] = [WORLD_NODE, 0]
        prompt[WORLD_NODE] = {
            "class_type": "WorldKitLoadWorld",
            "inputs": {
                "world_name": self.world_name,
                "discard_mismatched_latents": False,
                "vae": self.prompt[self.sampler]["inputs"]["vae"],
            },
        }
        return prompt

    def units(self) -> list[Unit]:
        """One prompt per shot and candidate; its key is the hash of what it renders."""
        base = self._with_library_world()
        found = []
        for shot in range(1, len(self.shots) + 1):
            for candidate in range(1, self.candidates + 1):
                prompt = copy.deepcopy(base)
                prompt[self.sampler]["inputs"]["select"] = Selection(
                    frozenset({shot}), frozenset({candidate})
                ).to_text()
                prompt[SAVE_NODE] = {
                    "class_type": "WorldKitSaveShotFrames",
                    "inputs": {"frames": [self.sampler, 0], "report": [self.sampler, 3], "name": ""},
                }
                prompt = keep_only(prompt, [SAVE_NODE])
                key = content_key(prompt)
                prompt[SAVE_NODE]["inputs"]["name"] = f"{FRAMES_FOLDER}/{key}"
                found.append(Unit(shot, candidate, key, prompt))
        return found

    def cut_prompt(self, frame_files: list[str]) -> dict:
        """The film after the sampler, fed the chosen candidates' frames (files in the input folder)."""
        prompt = copy.deepcopy(self.prompt)
        prompt[self.sampler] = {
            "class_type": "WorldKitLoadShotFrames",
            "inputs": {"files": "\n".join(frame_files)},
            "_meta": {"title": "Chosen candidates"},
        }
        after = [n for n in self.output_nodes if n != self.sampler and self.sampler in ancestors(self.prompt, [n])]
        if not after:
            raise FilmError(f"nothing saves the World Shot Sampler's output (node {self.sampler}); add a Save Video.")
        return keep_only(prompt, after)
