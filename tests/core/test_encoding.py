"""The encoding cache: keys by content and model identity, counts encodes, reuses encodings a reference carries."""

from dataclasses import replace
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F

from worldkit.models.world.encoding import (
    EncodeStats,
    EncodingCache,
    clear_cache,
    encode_counts,
    encode_reference,
    encode_world,
    model_identity,
)
from worldkit.models.world.entities import World
from worldkit.models.world.preprocess import PreprocessSettings, build_reference


class CountingVAE:
    """A stand-in for ComfyUI's Wan VAE: 8x spatial pooling into 16 channels, one latent frame per image."""

    def __init__(self, scale: float = 1.0):
        self.weights = {"encoder.conv1.weight": torch.full((4, 3), scale), "decoder.head.0.gamma": torch.ones(4)}
        self.inputs: list[torch.Tensor] = []

    def get_sd(self):
        return self.weights

    def spacial_compression_encode(self):
        return 8

    def encode(self, pixels: torch.Tensor) -> torch.Tensor:
        assert pixels.ndim == 4 and pixels.shape[0] == 1 and pixels.shape[-1] == 3
        self.inputs.append(pixels.clone())
        pooled = F.avg_pool2d(pixels.movedim(-1, 1), 8) * self.weights["encoder.conv1.weight"][0, 0]
        return pooled.repeat(1, 6, 1, 1)[:, :16].unsqueeze(2)


class CountingClipVision:
    def __init__(self):
        self.calls = 0

    def state_dict(self):
        return {"vision_model.embeddings.class_embedding": torch.arange(8.0)}

    def encode_image(self, image: torch.Tensor, crop: bool = True):
        self.calls += 1
        pooled = image.mean(dim=(1, 2))
        return SimpleNamespace(
            penultimate_hidden_states=pooled.unsqueeze(1).repeat(1, 5, 2), image_embeds=pooled.repeat(1, 2)
        )


def views(seed: int, count: int = 3, height: int = 48, width: int = 64) -> torch.Tensor:
    return torch.rand(count, height, width, 3, generator=torch.Generator().manual_seed(seed))


def subject(seed: int = 0, settings: PreprocessSettings | None = None, name: str = "skunk", count: int = 3):
    mask = torch.zeros(count, 48, 64)
    mask[:, 10:40, 20:50] = 1.0
    return build_reference(
        name, "character", "", views(seed, count), mask, settings or PreprocessSettings(width=64, height=48)
    )


@pytest.fixture(autouse=True)
def empty_cache():
    clear_cache()
    yield
    clear_cache()


def test_first_encode_encodes_every_view_once_at_the_frame_size():
    vae = CountingVAE()
    stats = EncodeStats()
    encoding = encode_reference(subject(), vae, 64, 48, stats=stats)
    assert len(vae.inputs) == 3
    assert encoding.latents.shape == (3, 16, 1, 6, 8)
    assert (encoding.width, encoding.height, encoding.vae_identity) == (64, 48, model_identity(vae))
    assert stats.as_dict() == {"vae_encoded": 3, "clip_encoded": 0, "cache_hits": 0, "reused": 0}


def test_unchanged_reference_rebuilt_from_the_same_pixels_encodes_nothing():
    vae = CountingVAE()
    first = encode_reference(subject(seed=1), vae, 64, 48)
    stats = EncodeStats()
    again = encode_reference(subject(seed=1), vae, 64, 48, stats=stats)
    assert len(vae.inputs) == 3
    assert stats.vae_encoded == 0 and stats.cache_hits == 3
    assert torch.equal(first.latents, again.latents)


def test_one_changed_view_encodes_only_that_view():
    vae = CountingVAE()
    reference = subject(seed=2)
    encode_reference(reference, vae, 64, 48)
    edited = reference.views.clone()
    edited[1, 20, 30, 0] += 0.01
    stats = EncodeStats()
    encode_reference(replace(reference, views=edited), vae, 64, 48, stats=stats)
    assert stats.vae_encoded == 1 and stats.cache_hits == 2


def test_preprocessing_settings_frame_size_and_mask_are_part_of_the_key():
    vae = CountingVAE()
    reference = subject(seed=3)
    encode_reference(reference, vae, 64, 48)
    for changed in (
        replace(reference, preprocess={**reference.preprocess, "margin": 0.3}),
        replace(reference, masks=1.0 - reference.masks),
    ):
        stats = EncodeStats()
        encode_reference(changed, vae, 64, 48, stats=stats)
        assert stats.vae_encoded == 3
    stats = EncodeStats()
    encode_reference(reference, vae, 32, 24, stats=stats)
    assert stats.vae_encoded == 3


def test_model_identity_follows_the_weights_not_the_object():
    assert model_identity(CountingVAE()) == model_identity(CountingVAE())
    assert model_identity(CountingVAE()) != model_identity(CountingVAE(scale=2.0))
    half = CountingVAE()
    half.weights = {k: v.to(torch.bfloat16) for k, v in half.weights.items()}
    assert model_identity(half) != model_identity(CountingVAE())
    with pytest.raises(TypeError, match="get_sd"):
        model_identity(object())


def test_same_weights_in_a_new_vae_object_reuse_the_cache_and_other_weights_do_not():
    encode_reference(subject(seed=4), CountingVAE(), 64, 48)
    reloaded = CountingVAE()
    encode_reference(subject(seed=4), reloaded, 64, 48)
    assert reloaded.inputs == []
    other = CountingVAE(scale=2.0)
    encode_reference(subject(seed=4), other, 64, 48)
    assert len(other.inputs) == 3


def test_encoding_carried_by_the_reference_is_reused_without_the_cache():
    vae = CountingVAE()
    reference = subject(seed=5)
    carried = reference.with_encoding(encode_reference(reference, vae, 64, 48))
    clear_cache()
    stats = EncodeStats()
    encoding = encode_reference(carried, vae, 64, 48, stats=stats)
    assert len(vae.inputs) == 3 and stats.reused == 3 and stats.vae_encoded == 0
    assert encoding is carried.encodings[0]


def test_a_carried_encoding_is_not_reused_for_another_fit():
    vae = CountingVAE()
    reference = subject(seed=12)
    carried = reference.with_encoding(encode_reference(reference, vae, 48, 48))
    stats = EncodeStats()
    cropped = encode_reference(carried, vae, 48, 48, fit="cover", stats=stats)
    assert stats.vae_encoded == 3 and stats.reused == 0
    assert not torch.equal(cropped.latents, carried.encodings[0].latents)
    assert torch.equal(encode_reference(reference, vae, 48, 48).latents, carried.encodings[0].latents)  # control


def test_clip_vision_is_encoded_once_and_added_to_carried_latents():
    vae, clip = CountingVAE(), CountingClipVision()
    reference = subject(seed=6)
    latents_only = reference.with_encoding(encode_reference(reference, vae, 64, 48))
    stats = EncodeStats()
    encoding = encode_reference(latents_only, vae, 64, 48, clip, stats=stats)
    assert clip.calls == 3 and len(vae.inputs) == 3
    assert stats.reused == 3 and stats.clip_encoded == 3
    assert encoding.clip_penultimate.shape == (3, 5, 6) and encoding.clip_embeds.shape == (3, 6)
    assert encoding.clip_identity == model_identity(clip)
    encode_reference(subject(seed=6), CountingVAE(), 32, 24, clip)
    assert clip.calls == 3


def test_subject_frames_are_padded_and_plates_are_cropped_when_the_aspect_differs():
    vae = CountingVAE()
    encode_reference(subject(seed=7), vae, 48, 48)
    frame = vae.inputs[0][0]
    assert torch.allclose(frame[:6], torch.ones(6, 48, 3))  # 64x48 contained in 48x48: white bands
    plate = build_reference("street", "location", "", views(8, count=1), None, PreprocessSettings(width=64, height=48))
    encode_reference(plate, vae, 48, 48)
    expected = plate.views[0, :, 8:56]  # centre crop, same size: no resampling
    assert torch.equal(vae.inputs[-1][0], expected)


def test_subject_frames_at_the_same_aspect_are_resized_exactly_as_comfyui_does():
    vae = CountingVAE()
    reference = subject(seed=11)
    encode_reference(reference, vae, 32, 24)
    expected = F.interpolate(reference.views[:1].movedim(-1, 1), size=(24, 32), mode="bilinear").movedim(1, -1)
    assert torch.equal(vae.inputs[0], expected)


def test_frame_size_must_suit_the_vae():
    with pytest.raises(ValueError, match="multiples of 8"):
        encode_reference(subject(), CountingVAE(), 60, 48)


def test_encode_world_attaches_encodings_and_reports_progress_and_totals():
    vae = CountingVAE()
    world = World.from_labelled([("a", subject(seed=9, name="skunk")), ("b", subject(seed=10, name="toy", count=2))])
    before = encode_counts()["vae_encoded"]
    progress = []
    encoded, stats = encode_world(world, vae, 64, 48, on_view=lambda done, total: progress.append((done, total)))
    assert stats.vae_encoded == 5 and encode_counts()["vae_encoded"] == before + 5
    done = [d for d, _ in progress]
    assert progress[-1] == (5, 5) and set(done) == {0, 1, 2, 3, 4, 5} and done == sorted(done)
    assert [len(r.encodings) for r in encoded.references.values()] == [1, 1]
    assert all(len(r.encodings) == 0 for r in world.references.values())
    _, again = encode_world(encoded, vae, 64, 48)
    assert again.vae_encoded == 0 and again.reused == 5


def test_cache_evicts_least_recently_used_entries_beyond_capacity():
    cache = EncodingCache(capacity_bytes=3 * 400)
    for key in "abc":
        cache.put(key, (torch.zeros(100),))
    assert cache.get("a") is not None
    cache.put("d", (torch.zeros(100),))
    assert cache.get("b") is None and cache.get("a") is not None and len(cache) == 3
    cache.put("huge", (torch.zeros(1000),))
    assert cache.get("huge") is None and cache.nbytes == 1200
