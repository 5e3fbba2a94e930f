"""Wan 2.2 TI2V-5B in a real ComfyUI server, with a tiny random 5B DiT and a tiny Wan 2.2 VAE of ComfyUI's classes.

ComfyUI recognises the tiny files as it does the released ones (a WAN22 model with the Wan22 latent format, the
48-channel 16x Wan 2.2 VAE). Bind Shot's latent equals Wan22ImageToVideoLatent's, with and without a start frame;
World Shot Sampler renders a 5B shot by the 5B's rules (x32 sizes, 24 fps, 121 native frames) and refuses a size
or a VAE the 5B cannot take.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from dataclasses import astuple
from pathlib import Path

import numpy
import torch
from binding_graphs import (
    SIZE,
    SIZE_INPUTS,
    assert_matches_native,
    bind,
    load_image,
    native_prompts,
    one_reference_scene,
    save,
    save_conditioning,
    shot,
    world_of,
)
from sampler_graph import SamplerGraph

import worldkit
from worldkit.models.shared.wan import WAN_2_2_5B
from worldkit.tools.prompt_graph import Graph, load_wan, out

DIT = "wan22_ti2v"
LATENT = (1, 48, 3, SIZE // 16, SIZE // 16)  # 9 frames at 64x64 in the Wan 2.2 VAE's latents


def native_latent(graph: Graph, clip: str, shot_id: str, vae: str, name: str, **start) -> None:
    """Wan22ImageToVideoLatent at the shot's size and length, saved with the shot's encoded prompts."""
    positive, negative = native_prompts(graph, clip, shot_id)
    latent = graph.node("Wan22ImageToVideoLatent", vae=out(vae), **SIZE_INPUTS, **start)
    save(graph, name, positive=out(positive), negative=out(negative), latent=out(latent))


def test_ti2v_location_plate_matches_wan22_image_to_video_latent(comfy, tiny_models):
    scene = one_reference_scene(comfy, tiny_models, DIT, "ti2v_forest", seed=21)
    graph, model, clip, vae, plate, world, _ = astuple(scene)
    shot_id = shot(graph, "forest", world, fps=WAN_2_2_5B.fps)
    ours = bind(graph, model, vae, clip, world, shot_id)
    save_conditioning(graph, "ti2v_i2v_ours", ours, text=out(ours, 5))
    native_latent(graph, clip, shot_id, vae, "ti2v_i2v_native", start_image=out(plate))
    tensors, scalars = assert_matches_native(comfy, graph, "ti2v_i2v")
    assert tensors["latent.samples"].shape == LATENT
    assert tensors["latent.noise_mask"][:, :, 0].eq(0).all() and tensors["latent.noise_mask"][:, :, 1:].eq(1).all()
    assert '"family": "ti2v"' in scalars["text"] and '"location_as": "first frame"' in scalars["text"]


def test_ti2v_without_a_start_frame_matches_wan22_image_to_video_latent(comfy, tiny_models):
    graph = Graph()
    model, clip, vae = load_wan(graph, tiny_models, DIT)
    skunk = load_image(graph, comfy, "ti2v_skunk", seed=22)
    world = world_of(graph, [("skunk", "character", skunk)])
    shot_id = shot(graph, "skunk", world, fps=WAN_2_2_5B.fps)
    save_conditioning(graph, "ti2v_t2v_ours", bind(graph, model, vae, clip, world, shot_id))
    native_latent(graph, clip, shot_id, vae, "ti2v_t2v_native")
    tensors, _ = assert_matches_native(comfy, graph, "ti2v_t2v")
    assert tensors["latent.samples"].shape == LATENT and "latent.noise_mask" not in tensors


def test_a_16_fps_shot_renders_at_the_5bs_rules_and_equals_bind_shot_and_ksampler(comfy, tiny_models):
    """9 frames written at 16 fps last 0.5 s: the 5B renders them as 13 frames at 24 fps, at its own native length,
    exactly as KSampler renders Bind Shot's latent; the consistency search decodes the 5B's latents early."""
    graph = SamplerGraph(comfy, tiny_models, dit=DIT)
    graph.sampler("sampler", seed=5)
    bind_node = graph.bind()
    graph.probe("ksampler", images=out(graph.sample_bound(graph.model, bind_node, seed=5)), text=out(bind_node, 5))
    graph.sampler("searched", seed=5, candidates=2, search="fast")
    probes = graph.run()
    frames, report = probes["sampler"]
    assert frames.shape == (13, SIZE, SIZE, 3)
    assert report["fps"] == 24 and report["native_frames"] == 121 and report["model_rules"] == WAN_2_2_5B.name
    timing = report["shots"][0]["timing"]
    assert timing["asked"] == {"fps": 16, "frames": 9} and timing["rendered"] == {"fps": 24, "frames": 13}
    assert "rendered as 13 frames at 24 fps" in timing["note"]
    native, info = probes["ksampler"]
    assert info["family"] == "ti2v" and info["frames"] == 13 and info["fps"] == 24
    assert torch.equal(frames, native)
    searched = probes["searched"][1]
    assert searched["search"] != "off" and "search_note" not in searched
    assert searched["shots"][0]["search"]["checks"]
    assert searched["shots"][0]["search"]["preview"] == "Wan22 latent-to-RGB factors (48 channels)"


def test_the_searchs_early_decode_is_comfyuis_own_latent_preview_for_wan_2_1_and_2_2_latents():
    """The search's preview decoder (without a tiny autoencoder in vae_approx) equals ComfyUI's Latent2RGBPreviewer
    frame by frame, on 16-channel Wan 2.1 and 48-channel Wan 2.2 latents, within the previewer's 8-bit rounding."""
    path = os.environ.get("COMFYUI_PATH", "/opt/ComfyUI")
    sys.path.insert(0, path)
    try:
        import comfy.cli_args

        comfy.cli_args.args.cpu = True
        import comfy.latent_formats
        import latent_preview

        # the module imports only ComfyUI's own, so it loads without the pack's node registry
        spec = importlib.util.spec_from_file_location(
            "early_preview", Path(worldkit.__file__).parent / "nodes" / "runtime" / "early_preview.py"
        )
        early_preview = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(early_preview)
    finally:
        sys.path.remove(path)

    class Loaded:
        def __init__(self, latent_format) -> None:
            self.latent_format = latent_format

        def get_model_object(self, name: str):
            assert name == "latent_format"
            return self.latent_format

    for latent_format, channels in ((comfy.latent_formats.Wan21(), 16), (comfy.latent_formats.Wan22(), 48)):
        model = Loaded(latent_format)
        latent = torch.randn(1, channels, 3, 4, 5, generator=torch.Generator().manual_seed(channels))
        ours = early_preview.early_decoder(model)(latent)
        native = latent_preview.Latent2RGBPreviewer(
            latent_format.latent_rgb_factors,
            latent_format.latent_rgb_factors_bias,
            latent_format.latent_rgb_factors_reshape,
        )
        assert ours.shape == (3, 4, 5, 3)
        for index in range(3):
            frame = native.decode_latent_to_preview(latent[:, :, index : index + 1])
            expected = torch.from_numpy(numpy.asarray(frame).astype(numpy.float32) / 255.0)
            assert (ours[index] - expected).abs().max() <= 1.0 / 255.0
        assert (
            early_preview.early_decoder_name(model)
            == f"{type(latent_format).__name__} latent-to-RGB factors ({channels} channels)"
        )


def test_a_size_the_5b_cannot_take_is_refused_with_the_nearest_before_sampling(comfy, tiny_models):
    graph = SamplerGraph(comfy, tiny_models, dit=DIT, size=48)
    node = graph.sampler("never", seed=0)
    result = comfy.run(graph.graph.prompt(), expect_error=True)
    assert result.error["node_type"] == "WorldKitWorldShotSampler"
    assert (
        "shot 1's frame width is 48, but Wan 2.2 TI2V-5B needs a positive multiple of 32: the nearest size it "
        "takes is 32x32; presets: 480p 16:9 = 832x480; 480p 9:16 = 480x832; 720p 1:1 = 960x960."
        in result.error["exception_message"]
    )
    assert not any(node_id == node for node_id, _, _ in result.progress)


def test_the_5b_with_the_wan_2_1_vae_is_refused_naming_the_vae_to_load(comfy, tiny_models):
    graph = Graph()
    model, clip, vae = load_wan(graph, tiny_models, DIT, vae="vae")
    skunk = load_image(graph, comfy, "ti2v_wrong_vae", seed=23)
    world = world_of(graph, [("skunk", "character", skunk)])
    bound = bind(graph, model, vae, clip, world, shot(graph, "skunk", world))
    save(graph, "ti2v_wrong_vae", text=out(bound, 5))
    result = comfy.run(graph.prompt(), expect_error=True)
    assert result.error["node_type"] == "WorldKitBindShot"
    assert (
        "The VAE makes 16-channel latents (the wan_2.1_vae.safetensors kind), but the loaded model is Wan 2.2 "
        "TI2V-5B, which takes 48-channel latents: load wan2.2_vae.safetensors in the VAE loader."
        in result.error["exception_message"]
    )
