"""Bind Shot's `negative_text` for Phantom is tensor-equal to WanPhantomSubjectToVideo's, in a real server.

The control compares it with the native node's other negative (blank subjects), so the equality check is
shown to tell the two apart.
"""

from __future__ import annotations

from dataclasses import astuple

import pytest
from binding_graphs import assert_tensor_equal, bind, native_node, native_prompts, one_reference_scene, save

from worldkit.tools.prompt_graph import out

NEGATIVE_TEXT = 6


def test_phantom_negative_text_matches_wan_phantom_subject_to_video(comfy, tiny_models):
    scene = one_reference_scene(
        comfy, tiny_models, "wan_t2v", "phantom_negative_skunk", 5, "skunk", "character", size=96
    )
    graph, model, clip, vae, skunk, world, shot_id = astuple(scene)
    ours = bind(graph, model, vae, clip, world, shot_id, family="phantom")
    positive, negative = native_prompts(graph, clip, shot_id)
    native = native_node(graph, "WanPhantomSubjectToVideo", positive, negative, vae, images=out(skunk))
    save(graph, "phantom_negative_text_ours", negative=out(ours, NEGATIVE_TEXT))
    save(graph, "phantom_negative_text_native", negative=out(native, 1))
    save(graph, "phantom_negative_img_text_native", negative=out(native, 2))
    comfy.run(graph.prompt())
    tensors, _ = assert_tensor_equal(comfy, "phantom_negative_text_ours", "phantom_negative_text_native")
    assert tensors["negative.0.time_dim_concat"].abs().max() > 0
    with pytest.raises(AssertionError, match="time_dim_concat differs"):
        assert_tensor_equal(comfy, "phantom_negative_text_ours", "phantom_negative_img_text_native")
