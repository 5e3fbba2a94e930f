"""Bind Shot in a real ComfyUI server with tiny Wan models.

One reference: Bind Shot's conditioning and latent are tensor-equal to ComfyUI's own node for that
family (WanVaceToVideo, WanPhantomSubjectToVideo, WanImageToVideo, WanFirstLastFrameToVideo,
WanTrackToVideo, WanMoveTrackToVideo) fed the same pixels. Several references: reference frames in
role order (each equal to the native node's encoding of that image alone), the trim count, and
KSampler -> TrimVideoLatent -> VAEDecode yields the shot's frame count. Tensors come back through
the test-only node package tests/host/testing_nodes/worldkit_test_capture.
"""

from __future__ import annotations

import json
from dataclasses import astuple

import pytest
from binding_graphs import (
    ATI_TRACK,
    FRAMES,
    LATENT_FRAMES,
    LONG_ATI_TRACK,
    SIZE,
    assert_matches_native,
    bind,
    load_image,
    native_node,
    native_prompts,
    one_reference_scene,
    save,
    save_conditioning,
    saved,
    shot,
)
from graphs import load_clip_vision, reference_node, straight_tracks

from worldkit.tools.prompt_graph import Graph, load_wan, out


def test_vace_one_reference_matches_wan_vace_to_video(comfy, tiny_models):
    scene = one_reference_scene(comfy, tiny_models, "wan_vace", "vace_skunk", 1, "skunk", "character", size=80)
    graph, model, clip, vae, skunk, world, shot_id = astuple(scene)  # the 80-pixel image is resized to the frame
    ours = bind(graph, model, vae, clip, world, shot_id)
    positive, negative = native_prompts(graph, clip, shot_id)
    theirs = native_node(graph, "WanVaceToVideo", positive, negative, vae, strength=1.0, reference_image=out(skunk))
    save_conditioning(graph, "vace1_ours", ours, number=out(ours, 3))
    save_conditioning(graph, "vace1_native", theirs, number=out(theirs, 3))
    tensors, scalars = assert_matches_native(comfy, graph, "vace1")
    assert tensors["positive.0.vace_frames.0"].shape == (1, 32, 1 + LATENT_FRAMES, SIZE // 8, SIZE // 8)
    assert scalars["number"] == saved(comfy, "vace1_native")[1]["number"] == 1


def test_phantom_one_subject_matches_wan_phantom_subject_to_video(comfy, tiny_models):
    scene = one_reference_scene(comfy, tiny_models, "wan_t2v", "phantom_skunk", 2, "skunk", "character", size=96)
    graph, model, clip, vae, skunk, world, shot_id = astuple(scene)
    ours = bind(graph, model, vae, clip, world, shot_id, family="phantom")
    positive, negative = native_prompts(graph, clip, shot_id)
    theirs = native_node(graph, "WanPhantomSubjectToVideo", positive, negative, vae, images=out(skunk))
    save_conditioning(graph, "phantom_ours", ours, number=out(ours, 3))
    save_conditioning(graph, "phantom_native", theirs, slots=(0, 2, 3))  # its image-and-text negative
    tensors, scalars = assert_matches_native(comfy, graph, "phantom")
    assert tensors["positive.0.time_dim_concat"].shape == (1, 16, 1, SIZE // 8, SIZE // 8)
    assert scalars["number"] == 0


def test_i2v_location_plate_matches_wan_image_to_video(comfy, tiny_models):
    scene = one_reference_scene(comfy, tiny_models, "wan_i2v", "i2v_forest", seed=3)
    graph, model, clip, vae, plate, world, shot_id = astuple(scene)
    vision = load_clip_vision(graph, tiny_models)
    ours = bind(graph, model, vae, clip, world, shot_id, clip_vision=out(vision))
    positive, negative = native_prompts(graph, clip, shot_id)
    encoded = graph.node("CLIPVisionEncode", clip_vision=out(vision), image=out(plate), crop="none")
    theirs = native_node(
        graph, "WanImageToVideo", positive, negative, vae, start_image=out(plate), clip_vision_output=out(encoded)
    )
    save_conditioning(graph, "i2v_ours", ours)
    save_conditioning(graph, "i2v_native", theirs)
    tensors, _ = assert_matches_native(comfy, graph, "i2v")
    assert "positive.0.clip_vision_output.penultimate_hidden_states" in tensors


def test_flf_matches_wan_first_last_frame_to_video(comfy, tiny_models):
    scene = one_reference_scene(comfy, tiny_models, "wan_flf", "flf_first", seed=4)
    graph, model, clip, vae, first, world, shot_id = astuple(scene)
    vision = load_clip_vision(graph, tiny_models)
    last = load_image(graph, comfy, "flf_last", seed=5)
    ours = bind(
        graph, model, vae, clip, world, shot_id, clip_vision=out(vision), start_image=out(first), end_image=out(last)
    )
    positive, negative = native_prompts(graph, clip, shot_id)
    first_vision = graph.node("CLIPVisionEncode", clip_vision=out(vision), image=out(first), crop="none")
    last_vision = graph.node("CLIPVisionEncode", clip_vision=out(vision), image=out(last), crop="none")
    theirs = native_node(
        graph,
        "WanFirstLastFrameToVideo",
        positive,
        negative,
        vae,
        start_image=out(first),
        end_image=out(last),
        clip_vision_start_image=out(first_vision),
        clip_vision_end_image=out(last_vision),
    )
    save_conditioning(graph, "flf_ours", ours)
    save_conditioning(graph, "flf_native", theirs)
    tensors, _ = assert_matches_native(comfy, graph, "flf")
    assert tensors["positive.0.clip_vision_output.penultimate_hidden_states"].shape[1] == 2 * 257


@pytest.mark.parametrize(
    ("track", "warnings"),
    [
        (ATI_TRACK, []),
        (LONG_ATI_TRACK, ["ATI track 1: 162 points cut to 121 as ComfyUI's ATI node reads them."]),
    ],
    ids=["short", "162_points"],
)
def test_ati_track_json_matches_wan_track_to_video(comfy, tiny_models, track, warnings):
    scene = one_reference_scene(comfy, tiny_models, "wan_i2v", f"ati_forest_{len(track[0])}", seed=6)
    graph, model, clip, vae, plate, world, shot_id = astuple(scene)
    tracks = graph.node("PrimitiveString", value=json.dumps(track))
    ours = bind(graph, model, vae, clip, world, shot_id, track_json=out(tracks))
    positive, negative = native_prompts(graph, clip, shot_id)
    theirs = native_node(
        graph,
        "WanTrackToVideo",
        positive,
        negative,
        vae,
        tracks=json.dumps(track),
        temperature=220.0,
        topk=2,
        start_image=out(plate),
    )
    save_conditioning(graph, "ati_ours", ours, text=out(ours, 5))
    save_conditioning(graph, "ati_native", theirs)
    tensors, scalars = assert_matches_native(comfy, graph, "ati")
    info = json.loads(scalars["text"])
    assert info["family"] == "ati" and info["warnings"] == warnings
    assert tensors["positive.0.concat_mask"].shape == (1, 4, LATENT_FRAMES, SIZE // 8, SIZE // 8)


def test_wan_move_tracks_match_wan_move_track_to_video(comfy, tiny_models):
    scene = one_reference_scene(comfy, tiny_models, "wan_i2v", "move_forest", seed=7)
    graph, model, clip, vae, plate, world, shot_id = astuple(scene)
    tracks = straight_tracks(graph, SIZE, FRAMES, (0.2, 0.3), (0.8, 0.7))
    ours = bind(graph, model, vae, clip, world, shot_id, tracks=out(tracks))
    positive, negative = native_prompts(graph, clip, shot_id)
    theirs = native_node(
        graph, "WanMoveTrackToVideo", positive, negative, vae, tracks=out(tracks), strength=1.0, start_image=out(plate)
    )
    save_conditioning(graph, "move_ours", ours)
    save_conditioning(graph, "move_native", theirs)
    assert_matches_native(comfy, graph, "move")


def test_vace_with_the_packs_reference_of_another_aspect_and_a_strength_matches_native(comfy, tiny_models):
    """A 3:2 subject photo prepared by Reference for the square 64x64 shot, bound at vace_strength 0.7, equals
    WanVaceToVideo given the prepared view at strength 0.7, scalars included."""
    graph = Graph()
    model, clip, vae = load_wan(graph, tiny_models, "wan_vace")
    photo = load_image(graph, comfy, "vace_wide_skunk", seed=7, width=120, height=80)
    reference = reference_node(graph, photo, "skunk", "character", SIZE, SIZE)
    world = graph.node("WorldKitWorld", reference_1=out(reference))
    shot_id = shot(graph, "skunk", world)
    ours = bind(graph, model, vae, clip, world, shot_id, vace_strength=0.7)
    positive, negative = native_prompts(graph, clip, shot_id)
    theirs = native_node(
        graph, "WanVaceToVideo", positive, negative, vae, strength=0.7, reference_image=out(reference, 1)
    )
    save_conditioning(graph, "vace_wide_ours", ours, number=out(ours, 3))
    save_conditioning(graph, "vace_wide_native", theirs, number=out(theirs, 3))
    save(graph, "vace_wide_views", views=out(reference, 1))
    assert_matches_native(comfy, graph, "vace_wide")
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
    plate = reference_node(graph, photo, "forest", "location", 96, 72)
    world = graph.node("WorldKitWorld", reference_1=out(plate))
    shot_id = shot(graph, "forest", world)
    vision = load_clip_vision(graph, tiny_models)
    ours = bind(graph, model, vae, clip, world, shot_id, clip_vision=out(vision))
    positive, negative = native_prompts(graph, clip, shot_id)
    framed = graph.node(
        "ImageScale", image=out(plate, 1), upscale_method="bilinear", width=SIZE, height=SIZE, crop="center"
    )
    encoded = graph.node("CLIPVisionEncode", clip_vision=out(vision), image=out(framed), crop="none")
    theirs = native_node(
        graph, "WanImageToVideo", positive, negative, vae, start_image=out(plate, 1), clip_vision_output=out(encoded)
    )
    save_conditioning(graph, "i2v_wide_ours", ours)
    save_conditioning(graph, "i2v_wide_native", theirs)
    assert_matches_native(comfy, graph, "i2v_wide")
