"""Bind Shot in a real ComfyUI server with tiny Wan models.

One reference: Bind Shot's conditioning and latent are tensor-equal to ComfyUI's own node for that
family (WanVaceToVideo, WanPhantomSubjectToVideo, WanImageToVideo, WanFirstLastFrameToVideo,
WanTrackToVideo, WanMoveTrackToVideo) fed the same pixels. Several references: reference frames in
role order (each equal to the native node's encoding of that image alone), the trim count, and
KSampler -> TrimVideoLatent -> VAEDecode yields the shot's frame count. Tensors come back through
the test-only node package tests/host/testing_nodes/worldkit_test_capture.
"""

from __future__ import annotations

import io
import json
import os
import sys
from dataclasses import astuple, dataclass

import numpy as np
import pytest
import torch
from graphs import Graph, ksampler, load_clip_vision, load_wan, out
from PIL import Image
from safetensors import safe_open
from safetensors.torch import load_file

SIZE = 64
FRAMES = 9
LATENT_FRAMES = (FRAMES - 1) // 4 + 1
ATI_TRACK = [[{"x": 8 + 2 * i, "y": 12 + i} for i in range(21)], [{"x": 50 - i, "y": 40 - i} for i in range(30)]]


def pattern(seed: int, width: int, height: int) -> np.ndarray:
    """A smooth colour pattern (upsampled noise), so resizing and encoding have something to act on."""
    generator = np.random.default_rng(seed)
    coarse = generator.random((4, 4, 3))
    image = Image.fromarray((coarse * 255).astype(np.uint8)).resize((width, height), Image.BILINEAR)
    return np.asarray(image)


def load_image(graph: Graph, comfy, name: str, seed: int, width: int = SIZE, height: int = SIZE) -> str:
    buffer = io.BytesIO()
    Image.fromarray(pattern(seed, width, height)).save(buffer, format="PNG")
    comfy.upload_image(buffer.getvalue(), f"{name}.png")
    return graph.node("LoadImage", image=f"{name}.png")


def world_of(graph: Graph, entities: list[tuple[str, str, str]]) -> str:
    """(name, kind, LoadImage id) triples -> a WORLD holding exactly those pixels."""
    images = {f"image_{i}": out(node) for i, (_, _, node) in enumerate(entities, start=1)}
    return graph.node("CaptureTestWorld", entities=",".join(f"{n}:{k}" for n, k, _ in entities), **images)


def shot(graph: Graph, entities: str, world: str | None = None, **overrides) -> str:
    widgets = dict(
        prompt="the skunk walks to the flame",
        entities=entities,
        shot_size="medium",
        angle="eye level",
        camera_move="static",
        lens_mm=35,
        lighting="night",
        mood="",
        duration="frames",
        frames=FRAMES,
        fps=16,
        resolution="custom",
        aspect="16:9",
        width=SIZE,
        height=SIZE,
        seed=0,
        continuity="cut",
        negative_prompt="blurry",
        name="test shot",
    )
    widgets.update(overrides)
    if world is not None:
        widgets["world"] = out(world)
    return graph.node("WorldKitShot", **widgets)


def bind(
    graph: Graph, model: str, vae: str, clip: str, world: str, shot_id: str, family: str = "auto", **optional
) -> str:
    return graph.node(
        "WorldKitBindShot",
        model=out(model),
        vae=out(vae),
        clip=out(clip),
        world=out(world),
        shot=out(shot_id),
        family=family,
        location_as="auto",
        views_per_entity=1,
        vace_strength=1.0,
        track_strength=1.0,
        ati_temperature=220.0,
        ati_topk=2,
        **{k: v for k, v in optional.items() if v is not None},
    )


def native_prompts(graph: Graph, clip: str, shot_id: str) -> tuple[str, str]:
    """CLIPTextEncode of the Shot node's compiled prompt and negative prompt."""
    positive = graph.node("CLIPTextEncode", text=out(shot_id, 1), clip=out(clip))
    negative = graph.node("CLIPTextEncode", text=out(shot_id, 2), clip=out(clip))
    return positive, negative


def save(graph: Graph, name: str, **links) -> str:
    return graph.node("CaptureTestSaveTensors", name=name, **links)


def saved(comfy, name: str) -> tuple[dict[str, torch.Tensor], dict]:
    path = comfy.output_dir / f"{name}.safetensors"
    with safe_open(str(path), framework="pt") as handle:
        scalars = json.loads(handle.metadata()["scalars"])
    return load_file(str(path)), scalars


def assert_tensor_equal(comfy, ours: str, native: str) -> tuple[dict[str, torch.Tensor], dict]:
    """Every tensor of our saved outputs equals the native node's, key for key; returns ours."""
    mine, my_scalars = saved(comfy, ours)
    theirs, _ = saved(comfy, native)
    assert sorted(mine) == sorted(theirs)
    for key in theirs:
        assert mine[key].shape == theirs[key].shape, key
        assert torch.equal(mine[key], theirs[key]), f"{key} differs (max {(mine[key] - theirs[key]).abs().max()})"
    return mine, my_scalars


SIZE_INPUTS = {"width": SIZE, "height": SIZE, "length": FRAMES, "batch_size": 1}


def test_vace_one_reference_matches_wan_vace_to_video(comfy, tiny_models):
    graph = Graph()
    model, clip, vae = load_wan(graph, tiny_models, "wan_vace")
    skunk = load_image(graph, comfy, "vace_skunk", seed=1, width=80, height=80)  # resized to the frame
    world = world_of(graph, [("skunk", "character", skunk)])
    shot_id = shot(graph, "skunk", world)
    ours = bind(graph, model, vae, clip, world, shot_id)
    positive, negative = native_prompts(graph, clip, shot_id)
    native = graph.node(
        "WanVaceToVideo",
        positive=out(positive),
        negative=out(negative),
        vae=out(vae),
        strength=1.0,
        reference_image=out(skunk),
        **SIZE_INPUTS,
    )
    save(graph, "vace1_ours", positive=out(ours, 0), negative=out(ours, 1), latent=out(ours, 2), number=out(ours, 3))
    save(
        graph,
        "vace1_native",
        positive=out(native, 0),
        negative=out(native, 1),
        latent=out(native, 2),
        number=out(native, 3),
    )
    comfy.run(graph.prompt())
    tensors, scalars = assert_tensor_equal(comfy, "vace1_ours", "vace1_native")
    assert tensors["positive.0.vace_frames.0"].shape == (1, 32, 1 + LATENT_FRAMES, SIZE // 8, SIZE // 8)
    assert scalars["number"] == saved(comfy, "vace1_native")[1]["number"] == 1


def test_phantom_one_subject_matches_wan_phantom_subject_to_video(comfy, tiny_models):
    graph = Graph()
    model, clip, vae = load_wan(graph, tiny_models, "wan_t2v")
    skunk = load_image(graph, comfy, "phantom_skunk", seed=2, width=96, height=96)
    world = world_of(graph, [("skunk", "character", skunk)])
    shot_id = shot(graph, "skunk", world)
    ours = bind(graph, model, vae, clip, world, shot_id, family="phantom")
    positive, negative = native_prompts(graph, clip, shot_id)
    native = graph.node(
        "WanPhantomSubjectToVideo",
        positive=out(positive),
        negative=out(negative),
        vae=out(vae),
        images=out(skunk),
        **SIZE_INPUTS,
    )
    save(graph, "phantom_ours", positive=out(ours, 0), negative=out(ours, 1), latent=out(ours, 2), number=out(ours, 3))
    save(graph, "phantom_native", positive=out(native, 0), negative=out(native, 2), latent=out(native, 3))
    comfy.run(graph.prompt())
    tensors, scalars = assert_tensor_equal(comfy, "phantom_ours", "phantom_native")
    assert tensors["positive.0.time_dim_concat"].shape == (1, 16, 1, SIZE // 8, SIZE // 8)
    assert scalars["number"] == 0


@dataclass
class PlateScene:
    """A graph with a tiny Wan model, a one-location world from a loaded plate, and a Shot of it."""

    graph: Graph
    model: str
    clip: str
    vae: str
    plate: str
    world: str
    shot: str


def plate_scene(comfy, tiny_models, dit: str, name: str, seed: int) -> PlateScene:
    graph = Graph()
    model, clip, vae = load_wan(graph, tiny_models, dit)
    plate = load_image(graph, comfy, name, seed=seed)
    world = world_of(graph, [("forest", "location", plate)])
    return PlateScene(graph, model, clip, vae, plate, world, shot(graph, "forest", world))


def test_i2v_location_plate_matches_wan_image_to_video(comfy, tiny_models):
    scene = plate_scene(comfy, tiny_models, "wan_i2v", "i2v_forest", seed=3)
    graph, model, clip, vae, plate, world, shot_id = astuple(scene)
    vision = load_clip_vision(graph, tiny_models)
    ours = bind(graph, model, vae, clip, world, shot_id, clip_vision=out(vision))
    positive, negative = native_prompts(graph, clip, shot_id)
    encoded = graph.node("CLIPVisionEncode", clip_vision=out(vision), image=out(plate), crop="none")
    native = graph.node(
        "WanImageToVideo",
        positive=out(positive),
        negative=out(negative),
        vae=out(vae),
        start_image=out(plate),
        clip_vision_output=out(encoded),
        **SIZE_INPUTS,
    )
    save(graph, "i2v_ours", positive=out(ours, 0), negative=out(ours, 1), latent=out(ours, 2))
    save(graph, "i2v_native", positive=out(native, 0), negative=out(native, 1), latent=out(native, 2))
    comfy.run(graph.prompt())
    tensors, _ = assert_tensor_equal(comfy, "i2v_ours", "i2v_native")
    assert "positive.0.clip_vision_output.penultimate_hidden_states" in tensors


def test_flf_matches_wan_first_last_frame_to_video(comfy, tiny_models):
    scene = plate_scene(comfy, tiny_models, "wan_flf", "flf_first", seed=4)
    graph, model, clip, vae, first, world, shot_id = astuple(scene)
    vision = load_clip_vision(graph, tiny_models)
    last = load_image(graph, comfy, "flf_last", seed=5)
    ours = bind(
        graph, model, vae, clip, world, shot_id, clip_vision=out(vision), start_image=out(first), end_image=out(last)
    )
    positive, negative = native_prompts(graph, clip, shot_id)
    first_vision = graph.node("CLIPVisionEncode", clip_vision=out(vision), image=out(first), crop="none")
    last_vision = graph.node("CLIPVisionEncode", clip_vision=out(vision), image=out(last), crop="none")
    native = graph.node(
        "WanFirstLastFrameToVideo",
        positive=out(positive),
        negative=out(negative),
        vae=out(vae),
        start_image=out(first),
        end_image=out(last),
        clip_vision_start_image=out(first_vision),
        clip_vision_end_image=out(last_vision),
        **SIZE_INPUTS,
    )
    save(graph, "flf_ours", positive=out(ours, 0), negative=out(ours, 1), latent=out(ours, 2))
    save(graph, "flf_native", positive=out(native, 0), negative=out(native, 1), latent=out(native, 2))
    comfy.run(graph.prompt())
    tensors, _ = assert_tensor_equal(comfy, "flf_ours", "flf_native")
    assert tensors["positive.0.clip_vision_output.penultimate_hidden_states"].shape[1] == 2 * 257


def test_ati_track_json_matches_wan_track_to_video(comfy, tiny_models):
    scene = plate_scene(comfy, tiny_models, "wan_i2v", "ati_forest", seed=6)
    graph, model, clip, vae, plate, world, shot_id = astuple(scene)
    tracks = graph.node("PrimitiveString", value=json.dumps(ATI_TRACK))
    ours = bind(graph, model, vae, clip, world, shot_id, track_json=out(tracks))
    positive, negative = native_prompts(graph, clip, shot_id)
    native = graph.node(
        "WanTrackToVideo",
        positive=out(positive),
        negative=out(negative),
        vae=out(vae),
        tracks=json.dumps(ATI_TRACK),
        temperature=220.0,
        topk=2,
        start_image=out(plate),
        **SIZE_INPUTS,
    )
    save(graph, "ati_ours", positive=out(ours, 0), negative=out(ours, 1), latent=out(ours, 2), text=out(ours, 5))
    save(graph, "ati_native", positive=out(native, 0), negative=out(native, 1), latent=out(native, 2))
    comfy.run(graph.prompt())
    tensors, scalars = assert_tensor_equal(comfy, "ati_ours", "ati_native")
    assert json.loads(scalars["text"])["family"] == "ati"
    assert tensors["positive.0.concat_mask"].shape == (1, 4, LATENT_FRAMES, SIZE // 8, SIZE // 8)


def test_wan_move_tracks_match_wan_move_track_to_video(comfy, tiny_models):
    scene = plate_scene(comfy, tiny_models, "wan_i2v", "move_forest", seed=7)
    graph, model, clip, vae, plate, world, shot_id = astuple(scene)
    tracks = graph.node(
        "GenerateTracks",
        width=SIZE,
        height=SIZE,
        start_x=0.2,
        start_y=0.3,
        end_x=0.8,
        end_y=0.7,
        num_frames=FRAMES,
        num_tracks=1,
        track_spread=0.025,
        bezier=False,
        mid_x=0.5,
        mid_y=0.5,
        interpolation="linear",
    )
    ours = bind(graph, model, vae, clip, world, shot_id, tracks=out(tracks))
    positive, negative = native_prompts(graph, clip, shot_id)
    native = graph.node(
        "WanMoveTrackToVideo",
        positive=out(positive),
        negative=out(negative),
        vae=out(vae),
        tracks=out(tracks),
        strength=1.0,
        start_image=out(plate),
        **SIZE_INPUTS,
    )
    save(graph, "move_ours", positive=out(ours, 0), negative=out(ours, 1), latent=out(ours, 2))
    save(graph, "move_native", positive=out(native, 0), negative=out(native, 1), latent=out(native, 2))
    comfy.run(graph.prompt())
    assert_tensor_equal(comfy, "move_ours", "move_native")


def test_vace_several_references_in_role_order_sample_and_trim(comfy, tiny_models):
    graph = Graph()
    model, clip, vae = load_wan(graph, tiny_models, "wan_vace")
    images = {
        "skunk": load_image(graph, comfy, "multi_skunk", 11, 80, 80),
        "owl": load_image(graph, comfy, "multi_owl", 12),
        "toy": load_image(graph, comfy, "multi_toy", 13, 72, 72),
        "forest": load_image(graph, comfy, "multi_forest", 14, 96, 64),
    }
    kinds = {"skunk": "character", "owl": "character", "toy": "object", "forest": "location"}
    world = world_of(graph, [(name, kinds[name], node) for name, node in images.items()])
    shot_id = shot(graph, "toy: prop\nskunk\nforest\nowl", world)
    ours = bind(graph, model, vae, clip, world, shot_id)
    positive, negative = native_prompts(graph, clip, shot_id)
    for name, node in images.items():
        single = graph.node(
            "WanVaceToVideo",
            positive=out(positive),
            negative=out(negative),
            vae=out(vae),
            strength=1.0,
            reference_image=out(node),
            **SIZE_INPUTS,
        )
        save(graph, f"multi_native_{name}", positive=out(single, 0))
    sampled = ksampler(graph, out(model), out(ours, 0), out(ours, 1), out(ours, 2))
    trimmed = graph.node("TrimVideoLatent", samples=out(sampled), trim_amount=out(ours, 3))
    decoded = graph.node("VAEDecode", samples=out(trimmed), vae=out(vae))
    save(
        graph,
        "multi_ours",
        positive=out(ours, 0),
        latent=out(ours, 2),
        number=out(ours, 3),
        images=out(decoded),
        text=out(ours, 5),
    )
    comfy.run(graph.prompt())

    tensors, scalars = saved(comfy, "multi_ours")
    order = ["skunk", "owl", "toy", "forest"]  # subjects, props, then the location as a reference
    assert json.loads(scalars["text"])["reference_frames"] == order
    assert scalars["number"] == len(order)
    frames = tensors["positive.0.vace_frames.0"]
    assert frames.shape == (1, 32, len(order) + LATENT_FRAMES, SIZE // 8, SIZE // 8)
    for index, name in enumerate(order):
        native = saved(comfy, f"multi_native_{name}")[0]["positive.0.vace_frames.0"]
        assert torch.equal(frames[:, :, index], native[:, :, 0]), name
        assert torch.equal(frames[:, :, len(order) :], native[:, :, 1:])  # the same control video follows
    assert tensors["latent.samples"].shape[2] == len(order) + LATENT_FRAMES
    assert tensors["images"].shape == (FRAMES, SIZE, SIZE, 3)


def test_t2v_in_context_references_are_held_then_trimmed(comfy, tiny_models):
    graph = Graph()
    model, clip, vae = load_wan(graph, tiny_models, "wan_t2v")
    skunk = load_image(graph, comfy, "t2v_skunk", 21, 56, 80)
    forest = load_image(graph, comfy, "t2v_forest", 22, 96, 64)
    world = world_of(graph, [("skunk", "character", skunk), ("forest", "location", forest)])
    shot_id = shot(graph, "skunk\nforest", world)
    ours = bind(graph, model, vae, clip, world, shot_id)
    sampled = ksampler(graph, out(model), out(ours, 0), out(ours, 1), out(ours, 2), steps=3)
    trimmed = graph.node("TrimVideoLatent", samples=out(sampled), trim_amount=out(ours, 3))
    decoded = graph.node("VAEDecode", samples=out(trimmed), vae=out(vae))
    save(graph, "t2v_bound", latent=out(ours, 2), number=out(ours, 3))
    save(graph, "t2v_sampled", latent=out(sampled), images=out(decoded))
    comfy.run(graph.prompt())

    bound, scalars = saved(comfy, "t2v_bound")
    result, _ = saved(comfy, "t2v_sampled")
    assert scalars["number"] == 2
    mask = bound["latent.noise_mask"]
    assert mask.shape == (1, 1, 2 + LATENT_FRAMES, SIZE // 8, SIZE // 8)
    assert mask[:, :, :2].abs().max() == 0 and mask[:, :, 2:].min() == 1
    held, generated = result["latent.samples"][:, :, :2], result["latent.samples"][:, :, 2:]
    assert torch.allclose(held, bound["latent.samples"][:, :, :2], atol=1e-4)
    assert generated.abs().max() > 0
    assert result["images"].shape == (FRAMES, SIZE, SIZE, 3)


def test_i2v_start_frame_composed_from_plate_and_masked_subject(comfy, tiny_models):
    graph = Graph()
    model, clip, vae = load_wan(graph, tiny_models, "wan_i2v")
    plate = load_image(graph, comfy, "compose_plate", seed=41)
    rgba = np.zeros((32, 32, 4), dtype=np.uint8)
    rgba[8:24, 12:20] = (255, 0, 0, 255)  # an opaque red subject, transparent around it
    buffer = io.BytesIO()
    Image.fromarray(rgba).save(buffer, format="PNG")
    comfy.upload_image(buffer.getvalue(), "compose_subject.png")
    subject = graph.node("LoadImage", image="compose_subject.png")
    matte = graph.node("InvertMask", mask=out(subject, 1))  # LoadImage's mask is 1 where transparent
    world = graph.node(
        "CaptureTestWorld",
        entities="forest:location,skunk:character",
        image_1=out(plate),
        image_2=out(subject),
        mask_2=out(matte),
    )
    shot_id = shot(graph, "skunk\nforest", world, shot_size="full")
    ours = bind(graph, model, vae, clip, world, shot_id, clip_vision=out(load_clip_vision(graph, tiny_models)))
    sampled = ksampler(graph, out(model), out(ours, 0), out(ours, 1), out(ours, 2))
    decoded = graph.node("VAEDecode", samples=out(sampled), vae=out(vae))
    save(graph, "compose", images=out(decoded), number=out(ours, 3))
    save(graph, "compose_start", images=out(ours, 4))
    comfy.run(graph.prompt())

    start = saved(comfy, "compose_start")[0]["images"][0]
    plate_pixels = torch.from_numpy(pattern(41, SIZE, SIZE).copy()).float() / 255
    red = (start[..., 0] > 0.95) & (start[..., 1] < 0.05) & (start[..., 2] < 0.05)
    rows, cols = torch.nonzero(red, as_tuple=True)
    assert rows.max() - rows.min() + 1 == pytest.approx(0.8 * SIZE, abs=2)  # a full shot: 80 % of the height
    assert (cols.min() + cols.max()) / 2 == pytest.approx(SIZE / 2, abs=1.5)
    outside = ~torch.nn.functional.max_pool2d(red[None, None].float(), 5, 1, 2)[0, 0].bool()
    assert torch.allclose(start[outside], plate_pixels[outside], atol=1e-6)  # the plate, not the PNG's background
    result, scalars = saved(comfy, "compose")
    assert scalars["number"] == 0 and result["images"].shape == (FRAMES, SIZE, SIZE, 3)


def test_errors_name_what_would_work(comfy, tiny_models):
    graph = Graph()
    model, clip, vae = load_wan(graph, tiny_models, "wan_t2v")
    skunk = load_image(graph, comfy, "error_skunk", 31)
    world = world_of(graph, [("skunk", "character", skunk)])
    missing = bind(graph, model, vae, clip, world, shot(graph, "fox"))
    save(graph, "errors_missing", latent=out(missing, 2))
    result = comfy.run(graph.prompt(), expect_error=True)
    assert "'fox'" in result.error["exception_message"]
    assert "Entities in this world: 'skunk' (character)" in result.error["exception_message"]

    graph = Graph()
    model, clip, vae = load_wan(graph, tiny_models, "wan_t2v")
    skunk = load_image(graph, comfy, "error_skunk", 31)
    world = world_of(graph, [("skunk", "character", skunk)])
    wrong = bind(graph, model, vae, clip, world, shot(graph, "skunk"), family="vace")
    save(graph, "errors_family", latent=out(wrong, 2))
    result = comfy.run(graph.prompt(), expect_error=True)
    assert "choose one of: auto, t2v, phantom" in result.error["exception_message"]

    graph = Graph()
    skunk = load_image(graph, comfy, "error_skunk", 31)
    world = world_of(graph, [("skunk", "character", skunk)])
    checked = shot(graph, "skunk\nfox: prop", world)
    save(graph, "errors_shot", text=out(checked, 1))
    result = comfy.run(graph.prompt(), expect_error=True)
    assert result.error["node_type"] == "WorldKitShot"
    assert (
        "Shot entities: the world has no entity named 'fox'. Entities in this world: 'skunk' (character)"
        in result.error["exception_message"]
    )


def test_shot_list_coverage_and_pick(comfy, tiny_models):
    graph = Graph()
    template = dict(
        lighting="moonlight",
        mood="tense",
        duration="5 s",
        frames=81,
        fps=16,
        resolution="720p",
        aspect="16:9",
        width=832,
        height=480,
        seed=3,
    )
    cover = graph.node(
        "WorldKitCoverage",
        location="field",
        subjects="man, cow",
        props="lantern",
        action="the herd stirs",
        establishing_wide=True,
        medium=True,
        close_up=True,
        over_the_shoulder=True,
        reverse=True,
        insert=True,
        **template,
    )
    extra = shot(graph, "man", name="pickup")
    listed = graph.node("WorldKitShotList", shots=out(cover), shot_1=out(extra))
    picked = graph.node("WorldKitPickShot", shots=out(listed), index=7)
    save(graph, "coverage_prompts", text=out(cover, 1))
    save(graph, "coverage_summary", text=out(listed, 1))
    save(graph, "coverage_pick", text=out(picked, 1))
    comfy.run(graph.prompt())
    prompts = saved(comfy, "coverage_prompts")[1]["text"].splitlines()
    assert [line.split(":")[0] for line in prompts] == [
        "1. establishing wide",
        "2. medium",
        "3. close-up",
        "4. over-the-shoulder",
        "5. reverse",
        "6. insert",
    ]
    assert "over man's shoulder onto cow" in prompts[3] and "Insert shot of lantern" in prompts[5]
    summary = saved(comfy, "coverage_summary")[1]["text"].splitlines()
    assert len(summary) == 7 and "81 frames at 16 fps, 1280x720" in summary[0]
    assert saved(comfy, "coverage_pick")[1]["text"].startswith("1. pickup: medium")


def test_engine_maths_equal_comfyui_helpers(comfyui_path_on_sys_path):
    import comfy.utils
    import node_helpers

    from worldkit.models.shots.binding.context import cover_frames, set_values

    generator = torch.Generator().manual_seed(0)
    for source, target in (((56, 80), (64, 64)), ((96, 48), (64, 32)), ((64, 64), (64, 64)), ((33, 97), (48, 112))):
        images = torch.rand(2, *source, 3, generator=generator)
        native = comfy.utils.common_upscale(images.movedim(-1, 1), target[1], target[0], "bilinear", "center").movedim(
            1, -1
        )
        assert torch.equal(cover_frames(images, target[1], target[0]), native)
    conditioning = [[torch.zeros(1), {"a": [1]}], [torch.ones(1), {}]]
    for append in (False, True):
        assert set_values(conditioning, {"a": [2], "b": 3}, append) == node_helpers.conditioning_set_values(
            conditioning, {"a": [2], "b": 3}, append
        )


@pytest.fixture
def comfyui_path_on_sys_path():
    path = os.environ.get("COMFYUI_PATH", "/opt/ComfyUI")
    sys.path.insert(0, path)
    yield
    sys.path.remove(path)


def packs_reference(graph: Graph, image: str, name: str, kind: str, width: int, height: int) -> str:
    """WorldKit's own Reference node (not the test-only world builder), no mask: the whole image is the entity."""
    return graph.node(
        "WorldKitReference",
        image=out(image),
        name=name,
        kind=kind,
        description="",
        invert_mask=False,
        width=width,
        height=height,
        margin=0.1,
        background="white",
        remove_background=False,
        fit="cover",
    )


def test_vace_with_the_packs_reference_of_another_aspect_and_a_strength_matches_native(comfy, tiny_models):
    """A 3:2 subject photo prepared by Reference for the square 64x64 shot, bound at vace_strength 0.7, equals
    WanVaceToVideo given the prepared view at strength 0.7, scalars included."""
    graph = Graph()
    model, clip, vae = load_wan(graph, tiny_models, "wan_vace")
    photo = load_image(graph, comfy, "vace_wide_skunk", seed=7, width=120, height=80)
    reference = packs_reference(graph, photo, "skunk", "character", SIZE, SIZE)
    world = graph.node("WorldKitWorld", reference_1=out(reference))
    shot_id = shot(graph, "skunk", world)
    ours = graph.node(
        "WorldKitBindShot",
        model=out(model),
        vae=out(vae),
        clip=out(clip),
        world=out(world),
        shot=out(shot_id),
        family="auto",
        location_as="auto",
        views_per_entity=1,
        vace_strength=0.7,
        track_strength=1.0,
        ati_temperature=220.0,
        ati_topk=2,
    )
    positive, negative = native_prompts(graph, clip, shot_id)
    native = graph.node(
        "WanVaceToVideo",
        positive=out(positive),
        negative=out(negative),
        vae=out(vae),
        strength=0.7,
        reference_image=out(reference, 1),
        **SIZE_INPUTS,
    )
    save(
        graph, "vace_wide_ours", positive=out(ours, 0), negative=out(ours, 1), latent=out(ours, 2), number=out(ours, 3)
    )
    save(
        graph,
        "vace_wide_native",
        positive=out(native, 0),
        negative=out(native, 1),
        latent=out(native, 2),
        number=out(native, 3),
    )
    save(graph, "vace_wide_views", views=out(reference, 1))
    comfy.run(graph.prompt())
    assert_tensor_equal(comfy, "vace_wide_ours", "vace_wide_native")
    ours_scalars, native_scalars = saved(comfy, "vace_wide_ours")[1], saved(comfy, "vace_wide_native")[1]
    assert ours_scalars == native_scalars, (ours_scalars, native_scalars)  # strengths travel as scalars
    assert "0.7" in json.dumps(ours_scalars)
    (views,) = saved(comfy, "vace_wide_views")[0].values()
    assert views.shape == (1, SIZE, SIZE, 3)


def test_i2v_plate_resized_by_the_packs_reference_matches_wan_image_to_video(comfy, tiny_models):
    """A 4:3 location plate prepared by Reference at 96x72 becomes the start frame of a 64x64 shot exactly as
    WanImageToVideo makes it from the same prepared plate (and CLIP vision sees the plate cropped to the frame)."""
    graph = Graph()
    model, clip, vae = load_wan(graph, tiny_models, "wan_i2v")
    photo = load_image(graph, comfy, "i2v_wide_forest", seed=8, width=128, height=96)
    plate = packs_reference(graph, photo, "forest", "location", 96, 72)
    world = graph.node("WorldKitWorld", reference_1=out(plate))
    shot_id = shot(graph, "forest", world)
    vision = load_clip_vision(graph, tiny_models)
    ours = bind(graph, model, vae, clip, world, shot_id, clip_vision=out(vision))
    positive, negative = native_prompts(graph, clip, shot_id)
    framed = graph.node(
        "ImageScale", image=out(plate, 1), upscale_method="bilinear", width=SIZE, height=SIZE, crop="center"
    )
    encoded = graph.node("CLIPVisionEncode", clip_vision=out(vision), image=out(framed), crop="none")
    native = graph.node(
        "WanImageToVideo",
        positive=out(positive),
        negative=out(negative),
        vae=out(vae),
        start_image=out(plate, 1),
        clip_vision_output=out(encoded),
        **SIZE_INPUTS,
    )
    save(graph, "i2v_wide_ours", positive=out(ours, 0), negative=out(ours, 1), latent=out(ours, 2))
    save(graph, "i2v_wide_native", positive=out(native, 0), negative=out(native, 1), latent=out(native, 2))
    comfy.run(graph.prompt())
    assert_tensor_equal(comfy, "i2v_wide_ours", "i2v_wide_native")
