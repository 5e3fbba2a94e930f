"""Bind Shot and World Shot Sampler on Wan Fun Camera, HuMo and Wan Animate, with tiny random weights of each
kind built with ComfyUI's own classes and loaded by its loaders.

Bind Shot's conditioning and latent are tensor-equal to ComfyUI's own node for the family fed the same pixels
(WanCameraEmbedding + WanCameraImageToVideo, WanHuMoImageToVideo, WanAnimateToVideo), and World Shot Sampler
renders each family bit for bit as Bind Shot followed by KSampler does.
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
    bind,
    load_image,
    native_node,
    native_prompts,
    one_reference_scene,
    save_conditioning,
    saved,
    shot,
    world_of,
)
from graphs import ksampler, load_clip_vision
from sampler_graph import SamplerGraph

from worldkit.models.motion.camera_path import camera_embedding, camera_path, move_speed
from worldkit.tools.prompt_graph import Graph, load_wan, out


@pytest.mark.parametrize(
    ("move", "preset", "fps"), [("dolly in", "Zoom In", 16), ("crane up", "Pan Up", 24), ("truck left", "Pan Left", 16)]
)
def test_fun_camera_preset_moves_match_wan_camera_embedding_and_image_to_video(comfy, tiny_models, move, preset, fps):
    scene = one_reference_scene(comfy, tiny_models, "wan_camera", f"camera_{preset[:3]}", seed=9)
    graph, model, clip, vae, plate, world, _ = astuple(scene)
    shot_id = shot(graph, "forest", world, camera_move=move, fps=fps)
    vision = load_clip_vision(graph, tiny_models)
    ours = bind(graph, model, vae, clip, world, shot_id, clip_vision=out(vision))
    positive, negative = native_prompts(graph, clip, shot_id)
    speed = move_speed(FRAMES, fps)
    embedding = graph.node(
        "WanCameraEmbedding", camera_pose=preset, width=SIZE, height=SIZE, length=FRAMES, speed=speed
    )
    encoded = graph.node("CLIPVisionEncode", clip_vision=out(vision), image=out(plate), crop="none")
    theirs = native_node(
        graph,
        "WanCameraImageToVideo",
        positive,
        negative,
        vae,
        start_image=out(plate),
        clip_vision_output=out(encoded),
        camera_conditions=out(embedding),
    )
    name = f"camera_{move.replace(' ', '_')}"
    save_conditioning(graph, f"{name}_ours", ours, text=out(ours, 5))
    save_conditioning(graph, f"{name}_native", theirs)
    tensors, scalars = assert_matches_native(comfy, graph, name)
    assert tensors["positive.0.camera_conditions"].shape == (1, 24, (FRAMES - 1) // 4 + 1, SIZE, SIZE)
    info = json.loads(scalars["text"])
    assert info["family"] == "camera" and info["camera"]["native_preset"] == preset
    assert info["camera"]["speed"] == pytest.approx(speed)


def test_world_shot_sampler_drives_fun_camera_with_an_orbit_as_bind_shot_and_ksampler_do(comfy, tiny_models):
    graph = SamplerGraph(comfy, tiny_models, dit="wan_camera")
    graph.shot = graph.add_shot("the camera circles the toy", 9, camera_move="orbit")
    graph.sampler("sampler", seed=5)
    bind_node = graph.bind()
    graph.probe("ksampler", images=out(graph.sample_bound(graph.model, bind_node, seed=5)), text=out(bind_node, 5))
    graph.graph.node("CaptureTestSaveTensors", name="camera_orbit_bound", positive=out(bind_node, 0))
    probes = graph.run()
    (ours, report), (native, info) = probes["sampler"], probes["ksampler"]
    assert torch.equal(ours, native) and ours.shape == (9, graph.size, graph.size, 3)
    shot_report = report["shots"][0]
    assert shot_report["family"] == info["family"] == "camera"
    assert shot_report["camera"] == info["camera"] and info["camera"]["move"] == "orbit"
    assert info["camera"]["native_preset"] is None
    expected = camera_embedding(camera_path("orbit", 9, move_speed(9, 16)), graph.size, graph.size)
    assert torch.equal(saved(comfy, "camera_orbit_bound")[0]["positive.0.camera_conditions"], expected)


HUMO_FPS = 25  # the rate HuMo hears a voice at: a voiced HuMo shot runs at it


def voice_performance(graph: Graph, seconds: float = 1.0, seed: int = 3) -> tuple[str, str]:
    """A seeded Whisper-shaped voice and a Shot Performance carrying it."""
    voice = graph.node("CaptureTestVoice", seconds=seconds, seed=seed)
    return voice, graph.node("WorldKitShotPerformance", audio=out(voice))


def test_humo_one_character_and_a_voice_match_wan_humo_image_to_video(comfy, tiny_models):
    scene = one_reference_scene(
        comfy, tiny_models, "wan_humo", "humo_skunk", 10, "skunk", "character", size=80, fps=HUMO_FPS
    )
    graph, model, clip, vae, skunk, world, shot_id = astuple(scene)
    voice, performance = voice_performance(graph)
    ours = bind(graph, model, vae, clip, world, shot_id, performance=out(performance))
    positive, negative = native_prompts(graph, clip, shot_id)
    theirs = native_node(
        graph, "WanHuMoImageToVideo", positive, negative, vae, ref_image=out(skunk), audio_encoder_output=out(voice)
    )
    save_conditioning(graph, "humo1_ours", ours, text=out(ours, 5))
    save_conditioning(graph, "humo1_native", theirs)
    tensors, scalars = assert_matches_native(comfy, graph, "humo1")
    assert tensors["positive.0.audio_embed"].shape == (1, (FRAMES - 1) // 4 + 1, 8, 5, 1280)
    assert tensors["positive.0.audio_embed"].abs().sum() > 0
    info = json.loads(scalars["text"])
    assert info["family"] == "humo" and info["reference_frames"] == ["skunk"] and info["audio"] == "voice"
    assert info["voice_frames"] == 25  # a second of voice at HuMo's 25 frames a second


def test_humo_several_characters_are_frames_of_its_reference_each_as_the_native_node_encodes_it(comfy, tiny_models):
    graph = Graph()
    model, clip, vae = load_wan(graph, tiny_models, "wan_humo")
    skunk, owl = (load_image(graph, comfy, f"humo_{name}", seed=seed) for name, seed in (("skunk", 11), ("owl", 12)))
    world = world_of(graph, [("skunk", "character", skunk), ("owl", "character", owl)])
    shot_id = shot(graph, "skunk, owl", world, fps=HUMO_FPS)
    voice, performance = voice_performance(graph)
    ours = bind(graph, model, vae, clip, world, shot_id, performance=out(performance))
    silent = bind(graph, model, vae, clip, world, shot_id)
    positive, negative = native_prompts(graph, clip, shot_id)
    save_conditioning(graph, "humo2_ours", ours, text=out(ours, 5))
    for name, image in (("skunk", skunk), ("owl", owl)):
        theirs = native_node(
            graph, "WanHuMoImageToVideo", positive, negative, vae, ref_image=out(image), audio_encoder_output=out(voice)
        )
        save_conditioning(graph, f"humo2_{name}", theirs)
    for name, bound in (("voice", ours), ("silent", silent)):  # the model runs on two reference frames
        sampled = ksampler(graph, out(model), out(bound, 0), out(bound, 1), out(bound, 2))
        graph.node("CaptureTestSaveTensors", name=f"humo2_sampled_{name}", latent=out(sampled))
    comfy.run(graph.prompt())
    mine, scalars = saved(comfy, "humo2_ours")
    (reference,) = (mine[key] for key in mine if key.startswith("positive.0.reference_latents"))
    assert reference.shape[2] == 2
    for index, name in enumerate(("skunk", "owl")):
        native, _ = saved(comfy, f"humo2_{name}")
        assert torch.equal(reference[:, :, index : index + 1], native["positive.0.reference_latents.0"])
        for key in ("positive.0.audio_embed", "negative.0.audio_embed", "latent.samples", "positive.0.cond"):
            assert torch.equal(mine[key], native[key]), key
    assert json.loads(scalars["text"])["reference_frames"] == ["skunk", "owl"]
    for name in ("voice", "silent"):
        samples = saved(comfy, f"humo2_sampled_{name}")[0]["latent.samples"]
        assert samples.shape == mine["latent.samples"].shape and torch.isfinite(samples).all()


def test_world_shot_sampler_drives_humo_with_a_voice_as_bind_shot_and_ksampler_do(comfy, tiny_models):
    graph = SamplerGraph(comfy, tiny_models, dit="wan_humo")
    graph.shot = graph.add_shot("the toy leans against the curb", 9, fps=HUMO_FPS)
    _, performance = voice_performance(graph.graph, seed=4)
    graph.sampler("sampler", seed=5, performance=out(performance))
    bind_node = graph.bind(performance=out(performance))
    graph.probe("ksampler", images=out(graph.sample_bound(graph.model, bind_node, seed=5)), text=out(bind_node, 5))
    probes = graph.run()
    (ours, report), (native, info) = probes["sampler"], probes["ksampler"]
    assert torch.equal(ours, native) and ours.shape == (9, graph.size, graph.size, 3)
    assert report["shots"][0]["family"] == info["family"] == "humo"
    assert report["shots"][0]["audio"] == info["audio"] == "voice"


def video(graph: Graph, frames: int, seed: int, width: int = SIZE, height: int = SIZE) -> str:
    return graph.node("CaptureTestVideo", frames=frames, width=width, height=height, seed=seed)


def animate_scene(comfy, tiny_models, name: str, frames: int, replacement: bool) -> tuple:
    """A skunk, a driving clip (pose, face crops) of ``frames`` frames and, for replacement, a plate and a mask."""
    scene = one_reference_scene(comfy, tiny_models, "wan_animate", name, 13, "skunk", "character")
    clips = {
        "pose_video": out(video(scene.graph, frames, 21)),
        "face_video": out(video(scene.graph, frames, 22, 32, 32)),
    }
    if replacement:
        clips["background_video"] = out(video(scene.graph, frames, 23))
        plate = video(scene.graph, frames, 24)
        clips["character_mask"] = out(scene.graph.node("ImageToMask", image=out(plate), channel="red"))
    performance = scene.graph.node("WorldKitShotPerformance", **clips)
    return scene, clips, performance


def native_animate(
    graph: Graph, positive: str, negative: str, vae: str, character: str, clips: dict, offset: int, **inputs
) -> str:
    """WanAnimateToVideo on the character's image and the clips, continuing up to 5 frames, from ``offset``."""
    return native_node(
        graph,
        "WanAnimateToVideo",
        positive,
        negative,
        vae,
        reference_image=out(character),
        continue_motion_max_frames=5,
        video_frame_offset=offset,
        **clips,
        **inputs,
    )


def test_animate_animation_matches_wan_animate_to_video(comfy, tiny_models):
    scene, clips, performance = animate_scene(comfy, tiny_models, "animate_skunk", FRAMES, replacement=False)
    graph, model, clip, vae, skunk, world, shot_id = astuple(scene)
    vision = load_clip_vision(graph, tiny_models)
    ours = bind(graph, model, vae, clip, world, shot_id, clip_vision=out(vision), performance=out(performance))
    positive, negative = native_prompts(graph, clip, shot_id)
    encoded = graph.node("CLIPVisionEncode", clip_vision=out(vision), image=out(skunk), crop="none")
    theirs = native_animate(graph, positive, negative, vae, skunk, clips, 0, clip_vision_output=out(encoded))
    save_conditioning(graph, "animate1_ours", ours, number=out(ours, 3), text=out(ours, 5))
    save_conditioning(graph, "animate1_native", theirs, number=out(theirs, 3))
    tensors, scalars = assert_matches_native(comfy, graph, "animate1")
    assert scalars["number"] == saved(comfy, "animate1_native")[1]["number"] == 1
    assert tensors["positive.0.face_video_pixels"].shape == (1, 3, FRAMES, 512, 512)
    info = json.loads(scalars["text"])
    assert info["family"] == "animate" and info["animate"]["mode"] == "animation"


def test_animate_replacement_chunk_continuing_a_clip_matches_wan_animate_to_video(comfy, tiny_models):
    """The second chunk of a performance: 5 frames continued, new frames from driving-clip frame 13."""
    scene, clips, performance = animate_scene(comfy, tiny_models, "animate_plate", 30, replacement=True)
    graph, model, clip, vae, skunk, world, shot_id = astuple(scene)
    continued = video(graph, 5, 25)
    ours = bind(
        graph,
        model,
        vae,
        clip,
        world,
        shot_id,
        performance=out(performance),
        start_image=out(continued),
        video_frame_offset=13,
    )
    positive, negative = native_prompts(graph, clip, shot_id)
    theirs = native_animate(graph, positive, negative, vae, skunk, clips, 13, continue_motion=out(continued))
    save_conditioning(graph, "animate2_ours", ours, text=out(ours, 5))
    save_conditioning(graph, "animate2_native", theirs, number=out(theirs, 5))
    _, scalars = assert_matches_native(comfy, graph, "animate2")
    report = json.loads(scalars["text"])["animate"]
    assert report["mode"] == "replacement" and report["clip_start"] == 8 and report["trim_image"] == 5
    assert report["video_frame_offset"] == saved(comfy, "animate2_native")[1]["number"] == 8 + FRAMES


def test_world_shot_sampler_drives_animate_as_bind_shot_and_ksampler_do_and_chains_a_long_performance(
    comfy, tiny_models
):
    graph = SamplerGraph(comfy, tiny_models, dit="wan_animate")
    # pose alone: the face encoder's 512 x 512 crops would cost minutes on a CPU (the face is checked above)
    performance = graph.graph.node("WorldKitShotPerformance", pose_video=out(video(graph.graph, 21, 31)))
    graph.sampler("sampler", seed=5, performance=out(performance))
    bind_node = graph.bind(performance=out(performance))
    graph.probe(
        "ksampler", images=out(graph.sample_bound(graph.model, bind_node, seed=5, trim=True)), text=out(bind_node, 5)
    )
    graph.shot = graph.add_shot("the toy dances on", 21)
    graph.sampler("long", seed=5, performance=out(performance), native_frames=13, overlap_frames=5)
    probes = graph.run()
    (ours, report), (native, info) = probes["sampler"], probes["ksampler"]
    assert torch.equal(ours, native) and ours.shape == (9, graph.size, graph.size, 3)
    assert report["shots"][0]["family"] == info["family"] == "animate" and info["trim_latent"] == 1
    long, long_report = probes["long"]
    assert long.shape == (21, graph.size, graph.size, 3)
    shot = long_report["shots"][0]
    assert [segment["start"] for segment in shot["candidates"][0]["segments"]] == [0, 8]
    # the last chunk continued the first's 5 overlapping frames and read the clip from frame 8
    assert shot["animate"] == {
        "mode": "animation",
        "character": "toy",
        "clip_start": 8,
        "continue_motion_frames": 5,
        "trim_image": 5,
        "video_frame_offset": 21,
    }
