"""Reference attention proven by what reached the attention kernel, not by the node's own counters: a probe
model records every attention call's keys and values as the kernel receives them."""

from __future__ import annotations

import torch
from safetensors.torch import load_file
from sampler_graph import SIZE, SamplerGraph

from worldkit.tools.prompt_graph import out

REFERENCE_TOKENS = (SIZE // 16) ** 2  # one 64x64 view: an 8x8 latent in 2x2 patches


def kernel_calls(comfy, name: str) -> list[tuple[list[int], torch.Tensor, torch.Tensor]]:
    """(query shape, keys, values) of every attention call the probe saw, in order."""
    tensors = load_file(str(comfy.output_dir / f"{name}.safetensors"))
    calls = sorted({key.split(".")[0] for key in tensors})
    return [(tensors[f"{c}.q_shape"].tolist(), tensors[f"{c}.k"], tensors[f"{c}.v"]) for c in calls]


def extended(calls) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The reference keys and values appended in self-attention calls: keys longer than the queries by the
    reference tokens."""
    return [
        (k[:, -REFERENCE_TOKENS:], v[:, -REFERENCE_TOKENS:])
        for q, k, v in calls
        if k.shape[1] == q[1] + REFERENCE_TOKENS
    ]


def captured(calls) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Keys and values of the capture passes' self-attention over the reference tokens alone."""
    return [(k, v) for q, k, v in calls if q[1] == REFERENCE_TOKENS and k.shape[1] == REFERENCE_TOKENS]


def test_the_kernel_receives_the_references_keys_and_values(comfy, tiny_models):
    graph = SamplerGraph(comfy, tiny_models)
    bind = graph.bind()
    for name, strength in (("kernel_attended", 1.0), ("kernel_plain", 0.0)):
        probed = graph.graph.node("WorldKitTestAttentionProbe", model=out(graph.model), name=name)
        model = graph.reference_attention(probed, strength)
        graph.probe(f"{name}_frames", images=out(graph.sample_bound(model, bind, seed=3)))
    graph.run()

    attended, plain = kernel_calls(comfy, "kernel_attended"), kernel_calls(comfy, "kernel_plain")
    references, captures = extended(attended), captured(attended)
    blocks, steps = 2, 2
    assert len(references) == blocks * steps, [(q, k.shape) for q, k, _ in attended]
    # The capture pass ends with the last block's keys stored before its kernel runs, so the kernel saw the
    # capture of every block but the last: in each step the first block's appended keys are those captured.
    matched = [any(torch.equal(keys, k) and torch.equal(values, v) for k, v in captures) for keys, values in references]
    assert matched[0::blocks] == [True] * steps, matched
    assert not torch.equal(references[0][0], references[1][0]), "each block appends its own reference keys"
    assert not extended(plain) and not captured(plain), "strength 0 must leave attention untouched"
    assert len(plain) < len(attended)
