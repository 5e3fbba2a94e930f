"""Negative controls for the sampler's "outputs differ" checks (test_sampler.py): the same inputs, computed
twice, give equal frames, so a difference there comes from the seed or the reference attention, not from noise.

ComfyUI serves a node whose inputs equal another's from its cache, so each run samples through its own
call-counting model wrapper (numerically transparent), and the test checks that both runs executed.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import torch
from graphs import ksampler
from sampler_graph import SamplerGraph

from worldkit.tools.prompt_graph import out


def sampler_run(graph: SamplerGraph, model: str, name: str, **settings) -> str:
    graph.model = model
    return graph.sampler(name, **settings)


def attention_ksampler_run(graph: SamplerGraph, model: str, name: str) -> str:
    """KSampler on a Reference Attention model, fed by Bind Shot."""
    inputs = {key: out(getattr(graph, key)) for key in ("vae", "clip", "world", "shot")}
    bind = graph.add("WorldKitBindShot", model=out(model), **inputs)
    patched = graph.add(
        "WorldKitReferenceAttention", model=out(model), world=out(graph.world), entities="toy", strength=0.5
    )
    sampled = ksampler(graph.graph, out(patched), out(bind, 0), out(bind, 1), out(bind, 2), seed=3, steps=2)
    graph.probe(name, images=out(graph.graph.node("VAEDecode", samples=out(sampled), vae=out(graph.vae))))
    return sampled


CONTROLS: dict[str, Callable[..., str]] = {
    "another seed differs": partial(sampler_run, seed=7),
    "reference attention changes the frames": partial(sampler_run, seed=3, reference_attention=1.0),
    "KSampler on a Reference Attention model differs from plain": attention_ksampler_run,
}


def test_the_same_sampling_inputs_twice_give_equal_frames(comfy, tiny_models):
    graph = SamplerGraph(comfy, tiny_models)
    plain = graph.model
    runs = {}
    for row, (check, run) in enumerate(CONTROLS.items()):
        for copy in "ab":
            model = graph.graph.node("WorldKitTestCountCalls", model=out(plain), name=f"control_{row}{copy}")
            runs[check, copy] = run(graph, model, f"control_{row}{copy}")
    probes = graph.run()
    for row, check in enumerate(CONTROLS):
        assert {runs[check, "a"], runs[check, "b"]} <= graph.result.executed, f"{check}: a run came from the cache"
        first, second = probes[f"control_{row}a"][0], probes[f"control_{row}b"][0]
        assert first.ndim == 4 and torch.equal(first, second), check
