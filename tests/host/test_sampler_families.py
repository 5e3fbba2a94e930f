"""Everything World Shot Sampler does, on the families bound after Wan 2.1's: HuMo, Wan Animate, Fun Camera,
Wan S2V and Wan 2.2 TI2V-5B, through a real ComfyUI server with tiny random weights of each kind.

Per family: best of N under the consistency search (the candidates differ, the one kept equals a lone render of
its seed), reference attention (the patched attention runs and changes the frames), a long shot chained in
segments, progress to the last step, and an interrupt that stops the sampler within the step.
"""

from __future__ import annotations

import pytest
import torch
from sampler_graph import CHAIN_SIZE, SamplerGraph

from worldkit.tools.prompt_graph import out
from worldkit.tools.tiny_wan import ANIMATE_LAYERS

STEPS, SEED = 2, 40
# dit and the shot's extra widgets
FAMILIES = {
    "humo": ("wan_humo", {"fps": 25}),  # the rate HuMo hears its voice at
    "animate": ("wan_animate", {}),
    "camera": ("wan_camera", {"camera_move": "zoom in"}),
    "s2v": ("wan_s2v", {}),
    "ti2v": ("wan22_ti2v", {}),
}
BLOCKS = {"animate": ANIMATE_LAYERS}  # the tiny DiTs' blocks, 2 unless named
VOICES = {"humo": "whisper", "s2v": "wav2vec2"}  # the audio encoder each family reads
DRIVING_FRAMES = 40  # long enough for Animate's longest shot here


def family_graph(comfy, tiny_models, family: str, frames: int = 9, size: int = 64) -> tuple[SamplerGraph, dict]:
    """The family's tiny model, its one-entity world and a shot; the sampler inputs every run of it needs."""
    dit, widgets = FAMILIES[family]
    graph = SamplerGraph(comfy, tiny_models, frames=frames, size=size, dit=dit)
    if widgets:
        graph.shot = graph.add_shot("the camera circles the toy", frames, **widgets)
    inputs: dict = {"steps": STEPS}
    if family == "animate":
        pose = graph.graph.node("CaptureTestVideo", frames=DRIVING_FRAMES, width=size, height=size, seed=31)
        inputs["performance"] = out(graph.graph.node("WorldKitShotPerformance", pose_video=out(pose)))
    if family in VOICES:
        voice = graph.graph.node("CaptureTestVoice", seconds=2.0, seed=3, encoder=VOICES[family])
        inputs["performance"] = out(graph.graph.node("WorldKitShotPerformance", audio=out(voice)))
    return graph, inputs


@pytest.mark.parametrize("family", list(FAMILIES))
def test_search_best_of_n_and_reference_attention_work_on_each_family(comfy, tiny_models, family):
    graph, inputs = family_graph(comfy, tiny_models, family)
    node = graph.sampler("search", seed=SEED, candidates=2, search="1@0.5", **inputs)
    for offset in range(2):
        graph.sampler(f"lone{offset}", seed=SEED + offset, **inputs)
    graph.sampler("plain", seed=3, **inputs)
    graph.sampler("attended", seed=3, reference_attention=1.0, **inputs)
    probes = graph.run()
    frames, report = probes["search"]
    shot = report["shots"][0]
    assert shot["family"] == family
    assert report["search"] == "1@0.5" and [check["step"] for check in shot["search"]["checks"]] == [1]
    lone = [probes[f"lone{offset}"][0] for offset in range(2)]
    assert not torch.equal(lone[0], lone[1])
    assert torch.equal(frames, lone[shot["chosen"]])
    progress = [(value, total) for node_id, value, total in graph.result.progress if node_id == node]
    assert progress[-1] == (STEPS + 1, STEPS + 1)  # both candidates to the check, the winner to the end

    attention = probes["attended"][1]["shots"][0]["reference_attention"]
    assert attention["extended_calls"] == BLOCKS.get(family, 2) * STEPS  # every block, every step
    assert not torch.equal(probes["attended"][0], probes["plain"][0])


# where a later segment reads the shot from its own first frame on: HuMo's voice, the camera path, Animate's clip
# (S2V reads its voice from the latent frames sampled so far, WanSoundImageToVideoExtend's rule, which
# test_binding_sound.py checks against the native chain)
FROM_FRAME = {"humo": ("audio_from_frame",), "camera": ("camera", "from_frame"), "animate": ("animate", "clip_start")}
LONG_SHOT_SIZE = {"s2v": 64}  # S2V's motion encoder patches latents 8x8: its frames must be 64 px or more


@pytest.mark.parametrize("family", list(FAMILIES))
def test_a_long_shot_chains_segments_on_each_family(comfy, tiny_models, family):
    size = LONG_SHOT_SIZE.get(family, CHAIN_SIZE)
    graph, inputs = family_graph(comfy, tiny_models, family, frames=21, size=size)
    graph.sampler("long", seed=11, native_frames=13, overlap_frames=5, **inputs)
    frames, report = graph.run()["long"]
    shot = report["shots"][0]
    segments = shot["candidates"][0]["segments"]
    assert frames.shape == (shot["frames"], size, size, 3) and len(segments) >= 2
    assert segments[-1]["start"] + segments[-1]["frames"] == frames.shape[0]
    if family in FROM_FRAME:  # the report shows the last segment's binding
        found = shot
        for key in FROM_FRAME[family]:
            found = found[key]
        assert found == segments[-1]["start"] > 0


@pytest.mark.parametrize("family", list(FAMILIES))
def test_an_interrupt_stops_each_family_within_the_step(comfy, tiny_models, family):
    graph, inputs = family_graph(comfy, tiny_models, family)
    graph.model = graph.graph.node("WorldKitTestInterruptAtCall", model=out(graph.model), call=3)
    node = graph.sampler("interrupted", seed=1, candidates=2, **inputs)
    result = comfy.run(graph.graph.prompt())
    reached = [value for node_id, value, _ in result.progress if node_id == node]
    assert reached and max(reached) == 2  # the second candidate's first step saw the interrupt
    assert result.history.get("status", {}).get("status_str") != "success"


def test_reference_attention_on_a_shot_without_entities_says_why_it_did_nothing(comfy, tiny_models):
    graph = SamplerGraph(comfy, tiny_models)
    graph.shot = graph.add_shot("an empty street at dawn", 9, entities="")
    graph.sampler("empty", seed=2, reference_attention=1.0, steps=STEPS)
    graph.sampler("plain", seed=2, steps=STEPS)
    probes = graph.run()
    attention = probes["empty"][1]["shots"][0]["reference_attention"]
    assert attention["extended_calls"] == 0 and "names no entities" in attention["note"]
    assert "note" not in probes["plain"][1]["shots"][0]["reference_attention"]
    assert torch.equal(probes["empty"][0], probes["plain"][0])
