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
    native_node,
    native_prompts,
    one_reference_scene,
    save_conditioning,
    saved,
    shot,
)
from graphs import load_clip_vision
from sampler_graph import SamplerGraph

from worldkit.models.motion.camera_path import camera_embedding, camera_path, move_speed
from worldkit.tools.prompt_graph import out


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
