"""Reference attention maths on plain tensors: extra tokens, strength as a logit bias, strength 0 exact."""

import math

import pytest
import torch

from worldkit.models.sampling.reference_attention import (
    CaptureComplete,
    ReferenceAttentionSession,
    entity_reference_latents,
    extended_self_attention,
    reference_logit_bias,
    reference_model_input,
    stack_reference_latents,
)
from worldkit.models.world.entities import Encoding, Reference, World

HEADS = 2
HEAD_DIM = 4


class RecordingAttention:
    """Explicit softmax attention in ComfyUI's [B, L, H*D] layout that records the key counts it saw."""

    def __init__(self) -> None:
        self.key_counts: list[int] = []

    def __call__(self, q, k, v, heads, mask=None):
        self.key_counts.append(k.shape[1])
        b, lq, width = q.shape
        d = width // heads
        qh, kh, vh = (t.view(b, -1, heads, d).transpose(1, 2) for t in (q, k, v))
        logits = qh @ kh.transpose(-1, -2) / math.sqrt(d)
        if mask is not None:
            logits = logits + mask
        out = logits.softmax(-1) @ vh
        return out.transpose(1, 2).reshape(b, lq, width)


def tokens(batch: int, count: int, seed: int) -> torch.Tensor:
    return torch.randn(
        batch, count, HEADS * HEAD_DIM, generator=torch.Generator().manual_seed(seed), dtype=torch.float64
    )


def weighted_attention(q, k, v, ref_k, ref_v, strength):
    """Attention where every reference key's exp(logit) is multiplied by strength, written out by hand."""
    b, lq, width = q.shape
    d = width // HEADS
    keys, values = torch.cat([k, ref_k], 1), torch.cat([v, ref_v], 1)
    qh, kh, vh = (t.view(b, -1, HEADS, d).transpose(1, 2) for t in (q, keys, values))
    weights = (qh @ kh.transpose(-1, -2) / math.sqrt(d)).exp()
    weights[..., k.shape[1] :] *= strength
    out = (weights / weights.sum(-1, keepdim=True)) @ vh
    return out.transpose(1, 2).reshape(b, lq, width)


def test_strength_zero_is_the_plain_call_bit_for_bit():
    q, k, v = tokens(2, 12, 0), tokens(2, 12, 1), tokens(2, 12, 2)
    ref_k, ref_v = tokens(2, 5, 3), tokens(2, 5, 4)
    attention = RecordingAttention()
    out = extended_self_attention(q, k, v, ref_k, ref_v, HEADS, 0.0, attention)
    assert attention.key_counts == [12]
    assert torch.equal(out, RecordingAttention()(q, k, v, HEADS))


def test_full_strength_attends_to_every_reference_token():
    q, k, v = tokens(1, 12, 0), tokens(1, 12, 1), tokens(1, 12, 2)
    ref_k, ref_v = tokens(1, 7, 3), tokens(1, 7, 4)
    attention = RecordingAttention()
    out = extended_self_attention(q, k, v, ref_k, ref_v, HEADS, 1.0, attention)
    assert attention.key_counts == [12 + 7]
    torch.testing.assert_close(out, weighted_attention(q, k, v, ref_k, ref_v, 1.0))


@pytest.mark.parametrize("strength", [0.05, 0.5, 0.9])
def test_partial_strength_scales_reference_weights(strength):
    q, k, v = tokens(2, 9, 10), tokens(2, 9, 11), tokens(2, 9, 12)
    ref_k, ref_v = tokens(1, 4, 13), tokens(1, 4, 14)  # captured with batch 1, broadcast to the video batch
    out = extended_self_attention(q, k, v, ref_k, ref_v, HEADS, strength, RecordingAttention())
    expected = weighted_attention(q, k, v, ref_k.expand(2, -1, -1), ref_v.expand(2, -1, -1), strength)
    torch.testing.assert_close(out, expected)


def test_small_strength_approaches_plain_and_differs_from_it():
    q, k, v = tokens(1, 9, 20), tokens(1, 9, 21), tokens(1, 9, 22)
    ref_k, ref_v = tokens(1, 4, 23) * 3, tokens(1, 4, 24) * 3
    plain = RecordingAttention()(q, k, v, HEADS)
    distances = [
        (extended_self_attention(q, k, v, ref_k, ref_v, HEADS, s, RecordingAttention()) - plain).abs().max()
        for s in (1.0, 0.1, 1e-6)
    ]
    assert distances[0] > distances[1] > distances[2] > 0
    assert distances[2] < 1e-3


def test_logit_bias_values():
    bias = reference_logit_bias(3, 2, 0.25, torch.float32, torch.device("cpu"))
    assert bias.shape == (1, 5)
    assert torch.equal(bias[0, :3], torch.zeros(3))
    torch.testing.assert_close(bias[0, 3:], torch.full((2,), math.log(0.25)))


def test_out_of_range_strength_is_refused():
    q = tokens(1, 3, 0)
    with pytest.raises(ValueError, match=r"0\.\.1"):
        extended_self_attention(q, q, q, q, q, HEADS, 1.5, RecordingAttention())
    with pytest.raises(ValueError, match=r"0\.\.1"):
        ReferenceAttentionSession(strength=-0.1)


def run_block(session, attention, hidden, context, block_index):
    """A Wan-like block: self-attention first, then cross-attention, both tagged with the block index."""
    self_out = session(attention, hidden, hidden, hidden, HEADS, block_index)
    cross_out = session(attention, self_out, context, context, HEADS, block_index)
    return hidden + cross_out


def test_session_captures_self_attention_and_extends_only_self_attention():
    session = ReferenceAttentionSession(strength=1.0)
    attention = RecordingAttention()
    context = tokens(1, 6, 30)
    reference, video = tokens(1, 4, 31), tokens(1, 10, 32)

    session.begin_capture()
    for block in range(3):
        reference = run_block(session, attention, reference, context, block)
    assert sorted(session.keys) == [0, 1, 2]
    assert attention.key_counts == [4, 6] * 3

    attention.key_counts.clear()
    session.begin_attend()
    for block in range(3):
        video = run_block(session, attention, video, context, block)
    assert attention.key_counts == [10 + 4, 6] * 3
    assert session.stats.as_dict() == {
        "extended_calls": 3,
        "captured_blocks": 3,
        "reference_tokens": 4,
        "video_tokens": 10,
    }

    session.end()
    assert session.keys == {} and session.mode == "idle"


def test_session_at_strength_zero_is_plain():
    session = ReferenceAttentionSession(strength=0.0)
    attention = RecordingAttention()
    context, reference, video = tokens(1, 6, 40), tokens(1, 4, 41), tokens(1, 10, 42)
    session.begin_capture()
    run_block(session, attention, reference, context, 0)
    session.begin_attend()
    out = run_block(session, attention, video, context, 0)
    assert torch.equal(out, run_block(ReferenceAttentionSession(0.0), RecordingAttention(), video, context, 0))
    assert session.stats.extended_calls == 0


def test_stack_groups_views_by_size_in_order():
    a, b, c = torch.zeros(16, 1, 4, 4), torch.ones(16, 1, 4, 4), torch.full((16, 1, 2, 6), 2.0)
    clips = stack_reference_latents([a, c, b])
    assert [tuple(clip.shape) for clip in clips] == [(1, 16, 2, 4, 4), (1, 16, 1, 2, 6)]
    assert torch.equal(clips[0][0, :, 1], b[:, 0])


def test_reference_model_input_noises_like_flow_matching_and_pads_channels():
    clean = torch.ones(1, 16, 2, 4, 4)
    noise = torch.full_like(clean, 3.0)
    sigma = torch.tensor([0.25])

    def noise_scaling(s, n, x):
        return s.view(-1, 1, 1, 1, 1) * n + (1 - s.view(-1, 1, 1, 1, 1)) * x

    out = reference_model_input(
        clean, sigma, noise, batch=2, channels=36, noise_scaling=noise_scaling, calculate_input=lambda s, x: x
    )
    assert out.shape == (2, 36, 2, 4, 4)
    torch.testing.assert_close(out[:, :16], torch.full((2, 16, 2, 4, 4), 0.25 * 3 + 0.75))
    assert torch.equal(out[:, 16:], torch.zeros(2, 20, 2, 4, 4))


def world_with_encodings() -> World:
    def ref(name, views):
        latents = torch.arange(views, dtype=torch.float32).view(views, 1, 1, 1, 1).expand(views, 16, 1, 2, 2).clone()
        old = Encoding("old-vae", 64, 64, torch.zeros(views, 4, 1, 2, 2))
        return Reference(
            name, "character", name, torch.zeros(views, 8, 8, 3), encodings=[old, Encoding("wan", 64, 64, latents)]
        )

    return World({"skunk": ref("skunk", 2), "forest": ref("forest", 1)})


def test_entity_latents_pick_matching_encoding_and_reject_unknown_names():
    world = world_with_encodings()
    latents = entity_reference_latents(world, ["skunk"], latent_channels=16)
    assert [tuple(t.shape) for t in latents] == [(16, 1, 2, 2)] * 2
    assert latents[1].max() == 1
    assert len(entity_reference_latents(world, [], 16)) == 3
    with pytest.raises(ValueError, match="moose"):
        entity_reference_latents(world, ["moose"], 16)
    with pytest.raises(ValueError, match="48 latent channels"):
        entity_reference_latents(world, ["forest"], 48)


def test_two_reference_clips_in_one_step_are_attended_together():
    session = ReferenceAttentionSession(strength=1.0)
    attention = RecordingAttention()
    context = tokens(1, 6, 50)
    session.begin_capture()
    run_block(session, attention, tokens(1, 4, 51), context, 0)
    session.continue_capture()
    run_block(session, attention, tokens(1, 3, 52), context, 0)
    assert session.keys[0].shape[1] == 7
    attention.key_counts.clear()
    session.begin_attend()
    run_block(session, attention, tokens(1, 10, 53), context, 0)
    assert attention.key_counts == [10 + 7, 6]


def test_entities_without_encodings_are_encoded_on_demand():
    world = world_with_encodings()
    world.references["forest"].encodings.clear()
    encoded = []

    def encode(reference):
        encoded.append(reference.name)
        return torch.full((1, 16, 1, 2, 2), 7.0)

    latents = entity_reference_latents(world, ["skunk", "forest"], 16, encode)
    assert encoded == ["forest"]
    assert len(latents) == 3 and latents[2].max() == 7


def test_capture_stops_after_the_last_blocks_keys_are_stored():
    session = ReferenceAttentionSession(strength=1.0)
    attention = RecordingAttention()
    reference = tokens(1, 4, 60)
    session.begin_capture()
    session(attention, reference, reference, reference, HEADS, 0)
    with pytest.raises(CaptureComplete):
        session(attention, reference, reference, reference, HEADS, 1, last_block=True)
    assert sorted(session.keys) == [0, 1]
    assert attention.key_counts == [4]  # the last block's own attention is not computed
