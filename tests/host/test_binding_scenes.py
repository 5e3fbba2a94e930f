"""Bind Shot beyond one reference, in a real ComfyUI: several references in role order, in-context frames, composed
start frames, errors that say what would work, shot lists, and the engine's maths against ComfyUI's helpers."""

from __future__ import annotations

import io
import json
import os
import sys

import numpy as np
import pytest
import torch
from binding_graphs import (
    FRAMES,
    LATENT_FRAMES,
    SIZE,
    bind,
    load_image,
    native_node,
    native_prompts,
    pattern,
    save,
    saved,
    shot,
    world_of,
)
from graphs import ksampler, load_clip_vision
from PIL import Image

from worldkit.tools.prompt_graph import Graph, load_wan, out


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
        single = native_node(graph, "WanVaceToVideo", positive, negative, vae, strength=1.0, reference_image=out(node))
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
    assert bound["latent.samples"][:, :, 2:].abs().max() == 0 < generated.abs().max()  # zero until sampled
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
