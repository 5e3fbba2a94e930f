"""Bind Shot and World Shot Sampler on Wan S2V, with tiny random S2V weights built with ComfyUI's own classes and
loaded by its loaders, and a seeded wav2vec2-shaped voice.

Bind Shot's conditioning and latent are tensor-equal to WanSoundImageToVideo fed the same pixels and voice; a long
shot chained through Bind Shot's video_latent equals WanSoundImageToVideo + WanSoundImageToVideoExtend chained by
hand, sample for sample, at square and non-square sizes; World Shot Sampler renders an S2V shot bit for bit as
KSampler on the native node's conditioning does. A voice of the wrong encoder (for S2V or HuMo), or none, is refused
naming the input and the fix.
"""

from __future__ import annotations

import json
from dataclasses import astuple

import pytest
import torch
from binding_graphs import (
    FRAMES,
    SIZE,
    assert_matches_native,
    assert_tensor_equal,
    bind,
    native_node,
    native_prompts,
    one_reference_scene,
    save,
    save_conditioning,
    saved,
    shot,
)
from graphs import ksampler, wan_conditioning
from sampler_graph import SamplerGraph

from worldkit.models.sampling.long_shot import render_long_shot, segment_seed
from worldkit.tools.prompt_graph import Graph, out

TOY_COLOR = 0xC04020  # the sampler graph's toy, a flat colour
VOICE_SECONDS = 2.0  # 32 frames at 16 a second: three chained clips of 9 frames (12 voice frames each) hear it


def voice(graph: Graph, encoder: str = "wav2vec2", seconds: float = VOICE_SECONDS, seed: int = 3) -> str:
    return graph.node("CaptureTestVoice", seconds=seconds, seed=seed, encoder=encoder)


def native_extend(graph: Graph, positive: str, negative: str, vae: str, so_far: str, **inputs) -> str:
    """WanSoundImageToVideoExtend continuing the latent ``so_far`` for FRAMES frames."""
    return graph.node(
        "WanSoundImageToVideoExtend",
        positive=out(positive),
        negative=out(negative),
        vae=out(vae),
        length=FRAMES,
        video_latent=out(so_far),
        **inputs,
    )


def s2v_scene(comfy, tiny_models, name: str):
    return one_reference_scene(comfy, tiny_models, "wan_s2v", name, 14, "skunk", "character")


def test_s2v_with_a_voice_a_pose_and_a_start_matches_wan_sound_image_to_video(comfy, tiny_models):
    graph, model, clip, vae, skunk, world, shot_id = astuple(s2v_scene(comfy, tiny_models, "s2v_skunk"))
    spoken = voice(graph)
    pose = graph.node("CaptureTestVideo", frames=FRAMES, width=SIZE, height=SIZE, seed=21)
    start = graph.node("CaptureTestVideo", frames=5, width=SIZE, height=SIZE, seed=22)
    performance = graph.node("WorldKitShotPerformance", audio=out(spoken), pose_video=out(pose))
    ours = bind(graph, model, vae, clip, world, shot_id, performance=out(performance))
    moving = bind(graph, model, vae, clip, world, shot_id, performance=out(performance), start_image=out(start))
    positive, negative = native_prompts(graph, clip, shot_id)
    native = dict(audio_encoder_output=out(spoken), ref_image=out(skunk), control_video=out(pose))
    theirs = native_node(graph, "WanSoundImageToVideo", positive, negative, vae, **native)
    theirs_moving = native_node(graph, "WanSoundImageToVideo", positive, negative, vae, ref_motion=out(start), **native)
    save_conditioning(graph, "s2v1_ours", ours, text=out(ours, 5))
    save_conditioning(graph, "s2v1_native", theirs)
    save_conditioning(graph, "s2v_motion_ours", moving)
    save_conditioning(graph, "s2v_motion_native", theirs_moving)
    tensors, scalars = assert_matches_native(comfy, graph, "s2v1")
    assert tensors["positive.0.audio_embed"].shape == (1, 25, 1024, 4 * ((FRAMES - 1) // 4 + 1))
    assert tensors["positive.0.audio_embed"].abs().sum() > 0 and not tensors["negative.0.audio_embed"].any()
    info = json.loads(scalars["text"])
    assert info["family"] == "s2v" and info["reference_frames"] == ["skunk"]
    assert info["s2v"] == {
        "character": "skunk",
        "audio_frame_offset": 0,
        "audio": "voice",
        "voice_frames": 32,  # VOICE_SECONDS at 16 frames a second
        "motion": None,
        "pose_video": True,
        "overlap_latent_frames": 0,
    }
    moved, _ = assert_tensor_equal(comfy, "s2v_motion_ours", "s2v_motion_native")
    assert moved["positive.0.reference_motion"].shape[2] == 19


def test_a_long_s2v_shot_chained_through_bind_shot_equals_the_native_extend_chain(comfy, tiny_models):
    """Three clips: the second continues the first's latent, the third both (concatenated), as the S2V template
    chains WanSoundImageToVideoExtend; every clip's conditioning and every sampled latent are equal."""
    graph, model, clip, vae, skunk, world, shot_id = astuple(s2v_scene(comfy, tiny_models, "s2v_chain"))
    spoken = voice(graph)
    performance = graph.node("WorldKitShotPerformance", audio=out(spoken))
    positive, negative = native_prompts(graph, clip, shot_id)
    ours_so_far = theirs_so_far = None
    for index in range(3):
        extra = {} if ours_so_far is None else {"video_latent": out(ours_so_far)}
        ours = bind(graph, model, vae, clip, world, shot_id, performance=out(performance), **extra)
        inputs = dict(audio_encoder_output=out(spoken), ref_image=out(skunk))
        if theirs_so_far is None:
            theirs = native_node(graph, "WanSoundImageToVideo", positive, negative, vae, **inputs)
        else:
            theirs = native_extend(graph, positive, negative, vae, theirs_so_far, **inputs)
        ours_sampled, theirs_sampled = (
            ksampler(graph, out(model), out(node, 0), out(node, 1), out(node, 2), seed=40 + index)
            for node in (ours, theirs)
        )
        save_conditioning(graph, f"s2v_chain{index}_ours", ours, text=out(ours, 5))
        save_conditioning(graph, f"s2v_chain{index}_native", theirs)
        save(graph, f"s2v_chain{index}_sampled_ours", latent=out(ours_sampled))
        save(graph, f"s2v_chain{index}_sampled_native", latent=out(theirs_sampled))
        ours_so_far, theirs_so_far = (
            sampled
            if so_far is None
            else graph.node("LatentConcat", samples1=out(so_far), samples2=out(sampled), dim="t")
            for so_far, sampled in ((ours_so_far, ours_sampled), (theirs_so_far, theirs_sampled))
        )
    comfy.run(graph.prompt())
    latent_frames = (FRAMES - 1) // 4 + 1
    for index in range(3):
        tensors, scalars = assert_tensor_equal(comfy, f"s2v_chain{index}_ours", f"s2v_chain{index}_native")
        assert json.loads(scalars["text"])["s2v"]["audio_frame_offset"] == 4 * latent_frames * index
        assert tensors["positive.0.audio_embed"].abs().sum() > 0
        assert ("positive.0.reference_motion" in tensors) == (index > 0)
        sampled, _ = assert_tensor_equal(comfy, f"s2v_chain{index}_sampled_ours", f"s2v_chain{index}_sampled_native")
        assert sampled["latent.samples"].shape[2] == latent_frames and torch.isfinite(sampled["latent.samples"]).all()
    assert saved(comfy, "s2v_chain2_ours")[0]["positive.0.reference_motion"].shape[2] == 2 * latent_frames


@pytest.mark.parametrize(("width", "height"), [(96, 64), (64, 96)])
def test_s2v_at_a_non_square_size_matches_wan_sound_image_to_video_and_its_extend(comfy, tiny_models, width, height):
    """A square photo, a pose clip at twice the frame and a start image of the other orientation, each centre-cropped
    to a frame wider or taller than it is high; then the sampled clip continued through video_latent, as
    WanSoundImageToVideoExtend continues it. The later clip follows the pose from its own first frame, 12; the native
    node reads control_video from frame 0 whatever the offset, so by hand it is given the pose from there."""
    name = f"s2v_{width}x{height}"
    scene = one_reference_scene(comfy, tiny_models, "wan_s2v", name, 15, "skunk", "character", size=80)
    graph, model, clip, vae, skunk, world, _ = astuple(scene)
    shot_id = shot(graph, "skunk", world, width=width, height=height)
    spoken = voice(graph)
    pose = graph.node("CaptureTestVideo", frames=FRAMES + 12, width=2 * width, height=2 * height, seed=23)
    start = graph.node("CaptureTestVideo", frames=5, width=height, height=width, seed=24)
    performance = graph.node("WorldKitShotPerformance", audio=out(spoken), pose_video=out(pose))
    ours = bind(graph, model, vae, clip, world, shot_id, performance=out(performance), start_image=out(start))
    positive, negative = native_prompts(graph, clip, shot_id)
    inputs = dict(audio_encoder_output=out(spoken), ref_image=out(skunk), control_video=out(pose))
    size = {"width": width, "height": height, "batch_size": 1}
    theirs = wan_conditioning(
        graph,
        "WanSoundImageToVideo",
        positive,
        negative,
        vae,
        {**size, "length": FRAMES},
        ref_motion=out(start),
        **inputs,
    )
    sampled = {
        side: ksampler(graph, out(model), out(node, 0), out(node, 1), out(node, 2), seed=44)
        for side, node in (("ours", ours), ("native", theirs))
    }
    later = bind(
        graph, model, vae, clip, world, shot_id, performance=out(performance), video_latent=out(sampled["ours"])
    )
    later_pose = graph.node("ImageFromBatch", image=out(pose), batch_index=12, length=FRAMES)
    later_inputs = {**inputs, "control_video": out(later_pose)}
    later_native = native_extend(graph, positive, negative, vae, sampled["native"], **later_inputs)
    for side, first_node, later_node in (("ours", ours, later), ("native", theirs, later_native)):
        info = {"text": out(later_node, 5)} if side == "ours" else {}
        save_conditioning(graph, f"{name}_first_{side}", first_node)
        save_conditioning(graph, f"{name}_later_{side}", later_node, **info)
        save(graph, f"{name}_sampled_{side}", latent=out(sampled[side]))
    comfy.run(graph.prompt())
    latent_shape = (1, 16, (FRAMES - 1) // 4 + 1, height // 8, width // 8)
    first, _ = assert_tensor_equal(comfy, f"{name}_first_ours", f"{name}_first_native")
    assert first["latent.samples"].shape == first["positive.0.control_video"].shape == latent_shape
    assert first["positive.0.reference_latents.0"].shape == (1, 16, 1, height // 8, width // 8)
    assert first["positive.0.reference_motion"].shape == (1, 16, 19, height // 8, width // 8)
    assert first["positive.0.control_video"].abs().sum() > 0
    sampled_ours, _ = assert_tensor_equal(comfy, f"{name}_sampled_ours", f"{name}_sampled_native")
    assert sampled_ours["latent.samples"].shape == latent_shape
    later_ours, scalars = assert_tensor_equal(comfy, f"{name}_later_ours", f"{name}_later_native")
    assert later_ours["positive.0.reference_motion"].shape == latent_shape
    assert not torch.equal(later_ours["positive.0.control_video"], first["positive.0.control_video"])
    assert json.loads(scalars["text"])["s2v"]["audio_frame_offset"] == 12


# family, the voice's encoder (None: no voice) and seconds, the shot's fps, and what the refusal must say
REFUSED_VOICES = {
    "s2v_whisper": (
        "s2v",
        "whisper",
        VOICE_SECONDS,
        16,
        ("audio is a Whisper large v3 encoder's output", "wav2vec2_large_english_fp16"),
    ),
    "s2v_silent": ("s2v", None, VOICE_SECONDS, 16, ("needs a voice", "wav2vec2_large_english_fp16")),
    "humo_wav2vec2": (
        "humo",
        "wav2vec2",
        VOICE_SECONDS,
        25,
        ("audio is a wav2vec2 large encoder's output", "whisper_large_v3_fp16"),
    ),
    "humo_16fps": (
        "humo",
        "whisper",
        VOICE_SECONDS,
        16,
        ("shot is at 16 fps, but humo hears its voice at 25", "set the shot's fps to 25"),
    ),
    "s2v_blip": ("s2v", "wav2vec2", 0.01, 16, ("audio lasts 10 ms", "shorter than one frame at 16 fps")),
}


@pytest.mark.parametrize("case", list(REFUSED_VOICES))
def test_a_voice_the_family_cannot_hear_is_refused_naming_the_input_and_the_fix(comfy, tiny_models, case):
    """Each family hears through one audio encoder at one frame rate: a voice of another encoder, none (S2V), one
    shorter than a frame, or a shot at another rate is refused by Bind Shot."""
    family, encoder, seconds, fps, wanted = REFUSED_VOICES[case]
    scene = one_reference_scene(comfy, tiny_models, f"wan_{family}", case, 14, "skunk", "character", fps=fps)
    graph, model, clip, vae, _, world, shot_id = astuple(scene)
    parts = {}  # S2V's performance without a voice still drives the pose; HuMo would refuse the unread pose
    if family == "s2v":
        parts["pose_video"] = out(graph.node("CaptureTestVideo", frames=FRAMES, width=SIZE, height=SIZE, seed=1))
    if encoder is not None:
        parts["audio"] = out(voice(graph, encoder=encoder, seconds=seconds))
    performance = graph.node("WorldKitShotPerformance", **parts)
    node = bind(graph, model, vae, clip, world, shot_id, performance=out(performance))
    save(graph, f"{case}_refused", positive=out(node, 0))
    error = comfy.run(graph.prompt(), expect_error=True).error
    message = error.get("exception_message", "")
    assert error.get("node_id") == node, error
    assert all(part in message for part in wanted) and "Shot Performance" in message, message


def test_world_shot_sampler_refuses_a_wav2vec2_voice_for_humo_before_it_samples(comfy, tiny_models):
    graph = SamplerGraph(comfy, tiny_models, dit="wan_humo")
    graph.shot = graph.add_shot("the toy sings", 9, fps=25)
    performance = graph.graph.node("WorldKitShotPerformance", audio=out(voice(graph.graph)))
    node = graph.sampler("humo_wav2vec2_sampler", performance=out(performance))
    result = comfy.run(graph.graph.prompt(), expect_error=True)
    message = result.error.get("exception_message", "")
    assert result.error.get("node_id") == node, result.error
    assert "wav2vec2 large encoder's output" in message and "whisper_large_v3_fp16" in message, message
    assert not [step for step in result.progress if step[0] == node]  # refused before its first step


def test_world_shot_sampler_renders_s2v_as_ksampler_on_wan_sound_image_to_video_and_attends_to_references(
    comfy, tiny_models
):
    graph = SamplerGraph(comfy, tiny_models, dit="wan_s2v")
    graph.shot = graph.add_shot("the toy sings by the curb", 9, world=out(graph.world))  # prompts with descriptions
    spoken = voice(graph.graph)
    performance = graph.graph.node("WorldKitShotPerformance", audio=out(spoken))
    graph.sampler("sampler", seed=5, performance=out(performance))
    graph.sampler("attended", seed=5, performance=out(performance), reference_attention=0.8)
    positive, negative = native_prompts(graph.graph, graph.clip, graph.shot)
    toy = graph.graph.node("EmptyImage", width=graph.size, height=graph.size, batch_size=1, color=TOY_COLOR)
    size = {"width": graph.size, "height": graph.size, "length": 9, "batch_size": 1}
    native = wan_conditioning(
        graph.graph,
        "WanSoundImageToVideo",
        positive,
        negative,
        graph.vae,
        size,
        audio_encoder_output=out(spoken),
        ref_image=out(toy),
    )
    sampled = ksampler(graph.graph, out(graph.model), out(native, 0), out(native, 1), out(native, 2), seed=5)
    graph.probe("native", images=out(graph.graph.node("VAEDecode", samples=out(sampled), vae=out(graph.vae))))
    probes = graph.run()
    (ours, report), (native_frames, _) = probes["sampler"], probes["native"]
    assert ours.shape == (9, graph.size, graph.size, 3) and torch.equal(ours, native_frames)
    assert report["shots"][0]["family"] == "s2v" and report["shots"][0]["s2v"]["audio"] == "voice"
    # reference attention reaches S2V's blocks as every family's: the toy's tokens, in both blocks at both steps
    attended, attended_report = probes["attended"]
    attention = attended_report["shots"][0]["reference_attention"]
    assert attended.shape == ours.shape and not torch.equal(attended, ours)
    assert attention["reference_tokens"] == (graph.size // 16) ** 2 and attention["extended_calls"] == 2 * 2


def test_world_shot_sampler_chains_a_long_s2v_shot_as_the_native_extend_chain_by_hand(comfy, tiny_models):
    """21 frames at a native length of 13 sharing 5: the second segment is WanSoundImageToVideoExtend (length 5) on
    the first's latent, and re-renders the 5 shared frames from its last 2 latent frames; the shot is those two
    clips joined as the long-shot path joins every segment (colour matched and crossfaded over the overlap)."""
    graph = SamplerGraph(comfy, tiny_models, dit="wan_s2v")
    graph.shot = graph.add_shot("the toy sings on", 21, world=out(graph.world))
    spoken = voice(graph.graph)
    performance = graph.graph.node("WorldKitShotPerformance", audio=out(spoken))
    graph.sampler("long", seed=5, performance=out(performance), native_frames=13, overlap_frames=5)
    positive, negative = native_prompts(graph.graph, graph.clip, graph.shot)
    toy = graph.graph.node("EmptyImage", width=graph.size, height=graph.size, batch_size=1, color=TOY_COLOR)
    inputs = dict(positive=out(positive), negative=out(negative), vae=out(graph.vae))
    inputs.update(audio_encoder_output=out(spoken), ref_image=out(toy))
    size = {"width": graph.size, "height": graph.size, "batch_size": 1}
    first = graph.graph.node("WanSoundImageToVideo", length=13, **size, **inputs)
    first_sampled = ksampler(graph.graph, out(graph.model), out(first, 0), out(first, 1), out(first, 2), seed=5)
    second = graph.graph.node("WanSoundImageToVideoExtend", length=5, video_latent=out(first_sampled), **inputs)
    second_sampled = ksampler(
        graph.graph, out(graph.model), out(second, 0), out(second, 1), out(second, 2), seed=segment_seed(5, 1)
    )
    lead = graph.graph.node("TrimVideoLatent", samples=out(first_sampled), trim_amount=2)
    joined = graph.graph.node("LatentConcat", samples1=out(lead), samples2=out(second_sampled), dim="t")
    for name, latent in (("first", first_sampled), ("second", joined)):
        graph.probe(name, images=out(graph.graph.node("VAEDecode", samples=out(latent), vae=out(graph.vae))))
    probes = graph.run()
    (ours, report), (first_frames, _), (second_frames, _) = (probes[n] for n in ("long", "first", "second"))
    assert ours.shape == (21, graph.size, graph.size, 3) and first_frames.shape[0] == second_frames.shape[0] == 13
    assert torch.equal(ours[:8], first_frames[:8])  # the first segment's frames before the overlap, as sampled
    clips = [first_frames, second_frames]
    expected, _ = render_long_shot(21, 13, lambda segment, context: clips[segment.index].clone(), 5)
    assert torch.allclose(ours, expected, atol=1e-5), (ours - expected).abs().max()
    shot = report["shots"][0]
    assert [segment["start"] for segment in shot["candidates"][0]["segments"]] == [0, 8]
    assert shot["s2v"]["audio_frame_offset"] == 16 and shot["s2v"]["overlap_latent_frames"] == 2
    assert shot["s2v"]["motion"] == "video_latent"
