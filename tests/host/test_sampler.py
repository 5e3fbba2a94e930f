"""World Shot Sampler and Reference Attention through a real ComfyUI server with tiny Wan models."""

from __future__ import annotations

import pytest
import torch
from graphs import load_clip_vision
from sampler_graph import CHAIN_SIZE, SIZE, SamplerGraph

from worldkit.tests.scenes import lab_mean_shifts
from worldkit.tools.prompt_graph import out


def test_another_seed_differs(comfy, tiny_models):
    """Same-seed equality, the control for this check, runs uncached in test_sampler_controls.py."""
    graph = SamplerGraph(comfy, tiny_models)
    first_node = graph.sampler("first", seed=7)
    components = graph.graph.node("GetVideoComponents", video=out(first_node, 2))
    graph.probe("video", images=out(components, 0))
    graph.probe("boundaries", text=out(first_node, 1))
    graph.sampler("other", seed=8)
    probes = graph.run()
    first, report = probes["first"]
    assert first.shape == (9, SIZE, SIZE, 3)
    assert not torch.equal(first, probes["other"][0])
    assert report["shots"][0]["seeds"] == [7]
    assert torch.equal(probes["video"][0], first)
    assert probes["boundaries"][1] == [{"shot": 0, "start": 0, "end": 9}]


def test_best_of_n_picks_the_argmax_and_reports_every_score(comfy, tiny_models):
    graph = SamplerGraph(comfy, tiny_models)
    best_node = graph.sampler("best", seed=20, candidates=3, search="off")
    for offset in range(3):
        single = graph.sampler(f"single{offset}", seed=20 + offset, candidates=1)
        scored = graph.add(
            "WorldKitScoreConsistency", frames=out(single, 0), references=out(graph.world), entities="toy"
        )
        graph.probe(f"score{offset}", text=out(scored, 1))
    probes = graph.run()
    frames, report = probes["best"]
    shot = report["shots"][0]
    assert shot["seeds"] == [20, 21, 22]
    assert len(shot["scores"]) == 3 and len(shot["candidates"]) == 3
    assert shot["chosen"] == max(range(3), key=lambda i: (shot["scores"][i], -i))
    assert shot["chosen_seed"] == 20 + shot["chosen"]
    for offset in range(3):
        assert probes[f"single{offset}"][1]["shots"][0]["scores"] == [None]  # one candidate: nothing to choose
        independent = probes[f"score{offset}"][1]["overall"]
        assert shot["scores"][offset] == pytest.approx(independent, abs=1e-6)
    assert torch.equal(frames, probes[f"single{shot['chosen']}"][0])
    progress = [(value, total) for node, value, total in graph.result.progress if node == best_node]
    assert progress and progress[-1] == (6, 6)  # one bar over candidates x steps


def test_strength_zero_equals_bind_shot_and_plain_ksampler_bit_for_bit(comfy, tiny_models):
    graph = SamplerGraph(comfy, tiny_models)
    graph.sampler("sampler", seed=5, reference_attention=0.0)
    bind = graph.bind()
    graph.probe("ksampler", images=out(graph.sample_bound(graph.model, bind, seed=5, trim=True)), text=out(bind, 5))
    # The Reference Attention node at strength 0 hands KSampler the model unchanged.
    patched = graph.reference_attention(graph.model, strength=0.0)
    graph.probe("node_zero", images=out(graph.sample_bound(patched, bind, seed=5, trim=True)))
    probes = graph.run()
    ours, report = probes["sampler"]
    native, info = probes["ksampler"]
    assert info["trim_latent"] >= 1  # the T2V binding prepends the reference, so trimming is exercised
    assert report["shots"][0]["trim_latent_frames"] == info["trim_latent"]
    assert torch.equal(ours, native)
    assert torch.equal(probes["node_zero"][0], native)


def test_bind_shot_and_the_sampler_report_a_binding_under_the_same_keys(comfy, tiny_models):
    graph = SamplerGraph(comfy, tiny_models)
    graph.sampler("sampler", seed=5)
    graph.probe("info", text=out(graph.bind(), 5))
    probes = graph.run()
    info, shot = probes["info"][1], probes["sampler"][1]["shots"][0]
    keys = ("family", "location_as", "reference_frames", "trim_latent_frames", "compiled_prompt")
    assert {key: info[key] for key in keys} == {key: shot[key] for key in keys}
    assert info["reference_frames"] == ["toy"] and info["compiled_negative_prompt"] == shot["compiled_negative_prompt"]


def test_reference_attention_changes_output_and_attends_to_the_reference_tokens(comfy, tiny_models):
    graph = SamplerGraph(comfy, tiny_models)
    graph.sampler("plain", seed=3, reference_attention=0.0)
    graph.sampler("attended", seed=3, reference_attention=1.0)
    graph.probe("views", images=out(graph.views, 1))
    bind = graph.bind()
    patched = graph.reference_attention(graph.model, strength=0.5)
    for name, model in (("ks_plain", graph.model), ("ks_patched", patched)):
        graph.probe(name, images=out(graph.sample_bound(model, bind, seed=3)))
    probes = graph.run()
    plain, plain_report = probes["plain"]
    attended, report = probes["attended"]
    assert attended.shape == plain.shape
    assert not torch.equal(attended, plain)  # tiny random weights: the change is small but real
    assert not torch.equal(probes["ks_plain"][0], probes["ks_patched"][0])

    views = probes["views"][0]
    view_tokens = (SIZE // 16) ** 2  # each view is encoded at the shot's 64x64: an 8x8 latent in 2x2 patches
    shot = report["shots"][0]
    attention = shot["reference_attention"]
    latent_frames = (9 - 1) // 4 + 1 + shot["trim_latent_frames"]
    assert attention["reference_tokens"] == views.shape[0] * view_tokens
    assert attention["video_tokens"] == latent_frames * (SIZE // 16) ** 2
    blocks, steps = 2, 2
    assert attention["extended_calls"] == blocks * steps  # cfg 1: one model call per step
    plain_attention = plain_report["shots"][0]["reference_attention"]
    assert plain_attention["extended_calls"] == plain_attention["captured_blocks"] == 0


@pytest.mark.parametrize("dit", ["wan_vace", "wan_i2v"])
def test_reference_attention_runs_on_vace_and_image_to_video_models(comfy, tiny_models, dit):
    graph = SamplerGraph(comfy, tiny_models, dit=dit)
    vision = {"clip_vision": out(load_clip_vision(graph.graph, tiny_models))} if dit == "wan_i2v" else {}
    graph.sampler("plain", seed=4, reference_attention=0.0, **vision)
    graph.sampler("attended", seed=4, reference_attention=0.8, **vision)
    probes = graph.run()
    plain, attended = probes["plain"][0], probes["attended"][0]
    attention = probes["attended"][1]["shots"][0]["reference_attention"]
    assert attended.shape == plain.shape == (9, SIZE, SIZE, 3)
    assert not torch.equal(attended, plain)
    assert attention["reference_tokens"] == (SIZE // 16) ** 2
    assert attention["extended_calls"] == 2 * 2  # two blocks, two steps


def test_chained_161_frame_shot_is_seamless_and_colour_continuous(comfy, tiny_models):
    graph = SamplerGraph(comfy, tiny_models, frames=161, size=CHAIN_SIZE)
    graph.sampler("long", seed=11, native_frames=81, overlap_frames=9)
    frames, report = graph.run()["long"]
    assert frames.shape == (161, CHAIN_SIZE, CHAIN_SIZE, 3)
    segments = report["shots"][0]["candidates"][0]["segments"]
    assert [(s["start"], s["frames"]) for s in segments] == [(0, 81), (72, 81), (144, 17)]

    seam_steps = {i for s in segments[1:] for i in range(s["start"] - 1, s["start"] + s["context"])}
    assert seams_are_invisible(frames, seam_steps)
    # Control: the same frames with the second segment's colours lifted, an unmatched seam the check must catch.
    unmatched = frames.clone()
    unmatched[segments[1]["start"] :] = (unmatched[segments[1]["start"] :] + torch.tensor([0.15, 0.0, -0.1])).clamp(
        0, 1
    )
    assert not seams_are_invisible(unmatched, seam_steps)


def seams_are_invisible(frames: torch.Tensor, seam_steps: set[int]) -> bool:
    """No frame-to-frame step across a seam is larger, in pixels or in mean LAB colour, than the largest inside
    a segment."""
    inside = [i for i in range(frames.shape[0] - 1) if i not in seam_steps]
    steps = (frames[1:] - frames[:-1]).abs().mean(dim=(1, 2, 3))
    shifts = lab_mean_shifts(frames)
    return all(
        max(float(change[i]) for i in seam_steps) <= max(float(change[i]) for i in inside) for change in (steps, shifts)
    )


def test_shots_at_different_frame_rates_are_refused_before_sampling(comfy, tiny_models):
    graph = SamplerGraph(comfy, tiny_models)
    other = graph.add_shot("the toy at dusk", 9, fps=24)
    shots = graph.add("WorldKitShotList", shot_1=out(graph.shot), shot_2=out(other))
    node = graph.sampler("never", shots=out(shots), seed=0, steps=1)
    result = comfy.run(graph.graph.prompt(), expect_error=True)
    assert result.error["node_type"] == "WorldKitWorldShotSampler"
    assert "different frame rates [16, 24]" in result.error["exception_message"]
    assert not any(node_id == node for node_id, _, _ in result.progress)


def test_interrupt_stops_the_sampler_within_the_step(comfy, tiny_models):
    graph = SamplerGraph(comfy, tiny_models, frames=161, size=CHAIN_SIZE)
    steps, interrupt_call = 6, 9  # cfg 1: one model call per step; the call lands in the second segment
    graph.model = graph.graph.node("WorldKitTestInterruptAtCall", model=out(graph.model), call=interrupt_call)
    node = graph.sampler("interrupted", seed=1, steps=steps, candidates=2)
    result = comfy.run(graph.graph.prompt())
    reached = [value for node_id, value, _ in result.progress if node_id == node]
    assert reached and max(reached) == interrupt_call - 1  # the step whose model call saw the interrupt never ends
    probes = [n for n, spec in graph.graph.nodes.items() if spec["class_type"] == "WorldKitTestSaveTensor"]
    assert probes and not set(probes) & set(result.outputs)  # nothing downstream of the sampler ran
    assert result.history.get("status", {}).get("status_str") != "success"
