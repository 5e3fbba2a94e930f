"""bind_shot with small fake ComfyUI objects: reference order, trim counts, masks, errors.

Tensor equality with ComfyUI's own nodes is proven in tests/host/test_binding.py; here the fakes make
every tensor traceable to the image it came from.
"""

import json
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from worldkit.models.motion.formats import ati_times, trackset_from_ati
from worldkit.models.motion.tracks import TrackSet
from worldkit.models.shared.pixels import PixelError
from worldkit.models.shared.wan import WAN_2_1, WAN_2_2_5B
from worldkit.models.shots.binding import BindingError, BindInputs, BindOptions, bind_shot, shot_references
from worldkit.models.shots.binding.context import fitted_view, in_context_latent, set_values
from worldkit.models.shots.binding.performance import Performance
from worldkit.models.shots.shot import Shot, ShotEntity
from worldkit.models.shots.start_frame import compose_start_frame, cutout
from worldkit.models.world.entities import MissingEntityError, Reference, World
from worldkit.models.world.preprocess import fit_frames

W, H = 64, 48
FRAMES = 9
LATENT_T = 3


class FakeVAE:
    """Latents from pixels: channel c of an 8x8 block is (c + 1) x block mean; first frame alone, then 4 per latent."""

    latent_channels = 16

    def get_sd(self):
        return {"weight": torch.ones(1)}

    def encode(self, pixels):
        chunks = [pixels[:1]] + [pixels[i : i + 4] for i in range(1, pixels.shape[0], 4)]
        frames = [F.avg_pool2d(c.mean(dim=(0, 3))[None, None], 8)[0, 0] for c in chunks]
        scale = torch.arange(1, 17, dtype=torch.float32).view(16, 1, 1, 1)
        return scale[None] * torch.stack(frames)[None]


class FakeCLIP:
    def tokenize(self, text):
        return text

    def encode_from_tokens_scheduled(self, tokens):
        return [[torch.full((1, 2, 4), float(len(tokens))), {"pooled_output": None}]]


class FakeClipVision:
    def encode_image(self, image, crop=True):
        return SimpleNamespace(penultimate_hidden_states=image.mean().view(1, 1, 1).expand(1, 3, 4).clone(), crop=crop)


class FakeLatentFormat:
    def process_in(self, x):
        return (x - 1.0) * 2.0

    def process_out(self, x):
        return x / 2.0 + 1.0


class RecordingTrackMaths:
    def __init__(self):
        self.calls = []

    def ati(self, points, start_latent, width, height, length, temperature, topk):
        self.calls.append(("ati", points, start_latent.clone(), width, height, length, temperature, topk))
        return torch.full_like(start_latent[:, :4], 0.25), start_latent + 1.0

    def wan_move(self, tracks, start_latent, width, height, length, strength):
        self.calls.append(("wan_move", tracks, start_latent.clone(), width, height, length, strength))
        return start_latent + strength


# The families read from one part of the weights: their base's weights plus that part.
FAMILY_PARTS = {
    "camera": ("t2v", "control_adapter"),
    "humo": ("t2v", "audio_proj"),
    "animate": ("i2v", "face_adapter"),
    "s2v": ("t2v", "casual_audio_encoder"),
}


def model(kind="vace"):
    kind, part = FAMILY_PARTS.get(kind, (kind, None))
    in_dim = 36 if kind == "i2v" else 16
    dit = SimpleNamespace(patch_embedding=SimpleNamespace(weight=torch.zeros(4, in_dim, 1, 2, 2)))
    if kind == "vace":
        dit.vace_patch_embedding = object()
    if kind == "i2v":
        dit.img_emb = SimpleNamespace(emb_pos=None)
    if part:
        setattr(dit, part, object())
    return SimpleNamespace(model=SimpleNamespace(diffusion_model=dit, latent_format=FakeLatentFormat()))


def flat(value, views=1, size=(H, W)):
    return torch.full((views, *size, 3), value)


def make_world():
    skunk = flat(0.1, views=2)
    skunk[1] = 0.15
    return World(
        {
            "skunk": Reference("skunk", "character", "a small skunk", skunk),
            "owl": Reference("owl", "character", "an owl", flat(0.3)),
            "toy": Reference("toy", "object", "a wooden toy", flat(0.5)),
            "forest": Reference("forest", "location", "a night forest", flat(0.7, size=(60, 80))),
        }
    )


SHOT = Shot(
    prompt="they meet",
    resolution="custom",
    width=W,
    height=H,
    duration="frames",
    frames=FRAMES,
    entities=(ShotEntity("toy", "prop"), ShotEntity("skunk"), ShotEntity("forest", "location"), ShotEntity("owl")),
    negative_prompt="blurry",
)


def encoded(value, vae=None):
    return (vae or FakeVAE()).encode(torch.full((1, H, W, 3), value))


def encoded_video(frames):
    return FakeVAE().encode(frames)


def bind(family="auto", kind="vace", shot=SHOT, **kwargs):
    inputs = BindInputs(**{name: kwargs.pop(name) for name in list(kwargs) if name in BindInputs.__annotations__})
    return bind_shot(
        shot,
        kwargs.pop("world", make_world()),
        model(kind),
        kwargs.pop("vae", FakeVAE()),
        FakeCLIP(),
        family=family,
        inputs=inputs,
        **kwargs,
    )


def test_vace_binds_every_reference_in_role_order():
    bound = bind()
    assert bound.family == "vace" and bound.location_as == "reference"
    assert bound.reference_names == ("skunk", "owl", "toy", "forest")
    assert bound.trim_latent_frames == 4
    assert bound.latent["samples"].shape == (1, 16, 4 + LATENT_T, H // 8, W // 8)
    frames = bound.positive[0][1]["vace_frames"][0]
    assert frames.shape == (1, 32, 4 + LATENT_T, H // 8, W // 8)
    for index, value in enumerate((0.1, 0.3, 0.5, 0.7)):
        assert torch.allclose(frames[:, :16, index : index + 1], encoded(value))
        assert torch.allclose(frames[:, 16:, index], torch.ones_like(frames[:, 16:, index]))  # process_out(0)
    mask = bound.positive[0][1]["vace_mask"][0]
    assert mask.shape == (1, 64, 4 + LATENT_T, H // 8, W // 8)
    assert mask[:, :, :4].abs().max() == 0 and mask[:, :, 4:].min() == 1
    assert bound.negative[0][1]["vace_frames"][0] is frames
    assert bound.positive[0][0][0, 0, 0] == len(bound.prompt) and bound.negative[0][0][0, 0, 0] == len("blurry")


def test_subjects_of_another_aspect_are_padded_not_cropped():
    world = make_world()
    world.references["owl"].views = flat(0.3, size=(40, 40))
    frames = bind(world=world).positive[0][1]["vace_frames"][0]
    padded = fit_frames(flat(0.3, size=(40, 40)), W, H, "contain", (1.0, 1.0, 1.0))
    assert padded[0, 0, 0, 0] == 1.0 and padded[0, H // 2, W // 2, 0] == pytest.approx(0.3)
    assert torch.allclose(frames[:, :16, 1:2], FakeVAE().encode(padded))


def test_vace_more_views_and_location_as_first_frame():
    bound = bind(options=BindOptions(views_per_entity=2, location_as="first frame"))
    assert bound.reference_names == ("skunk", "skunk", "owl", "toy")
    assert bound.trim_latent_frames == 4
    frames = bound.positive[0][1]["vace_frames"][0]
    assert torch.allclose(frames[:, :16, 1:2], encoded(0.15))
    plate = fit_frames(flat(0.7, size=(60, 80)), W, H, "cover")
    assert torch.allclose(bound.start_frame, plate)
    kept = torch.full((FRAMES, H, W, 3), 0.5)
    kept[0] = plate[0]  # the plate is the control video's first, inactive (kept) frame
    assert torch.allclose(frames[:, :16, 4:], encoded_video(kept))
    assert torch.allclose(frames[:, 16:, 4:], encoded_video(torch.full((FRAMES, H, W, 3), 0.5)))


def test_vace_strength_appends_to_existing_vace_conditioning():
    bound = bind(options=BindOptions(vace_strength=0.5))
    again = bind_shot(SHOT, make_world(), model(), FakeVAE(), FakeCLIP())
    assert bound.positive[0][1]["vace_strength"] == [0.5]
    assert len(again.positive[0][1]["vace_frames"]) == 1


def test_phantom_subject_images_and_location_text_only():
    bound = bind("phantom", kind="t2v")
    assert bound.reference_names == ("skunk", "owl", "toy") and bound.trim_latent_frames == 0
    subjects = bound.positive[0][1]["time_dim_concat"]
    assert subjects.shape == (1, 16, 3, H // 8, W // 8)
    assert torch.allclose(subjects[:, :, 1:2], encoded(0.3))
    assert torch.equal(bound.negative_text[0][1]["time_dim_concat"], subjects)
    assert torch.allclose(bound.negative[0][1]["time_dim_concat"], torch.ones_like(subjects))
    assert bound.latent["samples"].shape[2] == LATENT_T
    assert "noise_mask" not in bound.latent
    with pytest.raises(BindingError, match="as a reference; it can take it as: text only, first frame"):
        bind("phantom", kind="t2v", options=BindOptions(location_as="reference"))


def test_negative_text_is_the_negative_unless_phantom_has_subjects():
    for family, kind in (("vace", "vace"), ("t2v", "t2v"), ("phantom", "t2v")):
        bound = bind(family, kind=kind, shot=SHOT.replace(entities=()) if family == "phantom" else SHOT)
        assert bound.negative_text is bound.negative, family
    with_subjects = bind("phantom", kind="t2v")
    assert with_subjects.negative_text is not with_subjects.negative


def test_phantom_holds_a_start_frame_for_continuity():
    bound = bind("phantom", kind="t2v", start_image=torch.full((1, H, W, 3), 0.9))
    assert bound.trim_latent_frames == 0
    assert torch.allclose(bound.latent["samples"][:, :, :1], encoded(0.9))
    assert bound.latent["noise_mask"][:, :, :1].abs().max() == 0 and bound.latent["noise_mask"][:, :, 1:].min() == 1


def test_t2v_in_context_references_held_by_noise_mask():
    bound = bind(kind="t2v")
    assert bound.family == "t2v" and bound.trim_latent_frames == 4
    assert bound.reference_names == ("skunk", "owl", "toy", "forest")  # the frames' labels, in latent order
    assert bound.positive[0][0][0, 0, 0] == len(bound.prompt) and bound.negative[0][0][0, 0, 0] == len("blurry")
    samples, noise_mask = bound.latent["samples"], bound.latent["noise_mask"]
    assert samples.shape == (1, 16, 4 + LATENT_T, H // 8, W // 8)
    for index, value in enumerate((0.1, 0.3, 0.5, 0.7)):
        assert torch.allclose(samples[:, :, index : index + 1], encoded(value))
    assert samples[:, :, 4:].abs().max() == 0
    assert noise_mask.shape == (1, 1, 4 + LATENT_T, H // 8, W // 8)
    assert noise_mask[:, :, :4].abs().max() == 0 and noise_mask[:, :, 4:].min() == 1
    assert samples[:, :, bound.trim_latent_frames :].shape[2] == (bound.frame_count - 1) // 4 + 1


def test_t2v_start_image_is_held_but_not_trimmed():
    start = torch.full((1, H, W, 3), 0.9)
    bound = bind(kind="t2v", start_image=start, options=BindOptions(location_as="text only"))
    assert bound.trim_latent_frames == 3
    assert torch.equal(bound.start_frame, start)  # what the shot starts from, handed on with the binding
    assert torch.allclose(bound.latent["samples"][:, :, 3:4], encoded(0.9))
    assert bound.latent["noise_mask"][:, :, :4].abs().max() == 0 and bound.latent["noise_mask"][:, :, 4:].min() == 1


def test_t2v_without_references_is_an_empty_latent():
    bound = bind(kind="t2v", shot=SHOT.replace(entities=()))
    assert bound.trim_latent_frames == 0 and "noise_mask" not in bound.latent
    assert bound.latent["samples"].abs().max() == 0


def test_i2v_composes_start_frame_from_plate_and_subjects():
    bound = bind(kind="i2v", clip_vision=FakeClipVision())
    assert bound.family == "i2v" and bound.trim_latent_frames == 0
    start = bound.start_frame
    assert start.shape == (1, H, W, 3)
    values = set(torch.round(start[0, ..., 0] * 100).unique().tolist())
    assert {10.0, 30.0, 50.0, 70.0} <= values  # plate plus the three placed views
    options = bound.positive[0][1]
    video = torch.ones(FRAMES, H, W, 3) * 0.5
    video[:1] = start
    assert torch.allclose(options["concat_latent_image"], FakeVAE().encode(video))
    assert options["concat_mask"].shape == (1, 1, LATENT_T, H // 8, W // 8)
    assert options["concat_mask"][:, :, 0].max() == 0 and options["concat_mask"][:, :, 1:].min() == 1
    assert options["clip_vision_output"].crop is False
    assert torch.allclose(options["clip_vision_output"].penultimate_hidden_states[0, 0, 0], start.mean())


def test_i2v_without_any_start_is_an_error():
    with pytest.raises(BindingError, match="needs a start frame"):
        bind(kind="i2v", shot=SHOT.replace(entities=()))


def test_flf_end_frame_and_combined_clip_vision():
    start, end = torch.full((1, H, W, 3), 0.2), torch.full((1, H, W, 3), 0.8)
    bound = bind("flf", kind="i2v", start_image=start, end_image=end, clip_vision=FakeClipVision())
    options = bound.positive[0][1]
    assert options["concat_mask"].shape == (1, 4, LATENT_T, H // 8, W // 8)
    mask = options["concat_mask"]  # [1, 4 frames per latent, latent frames, h, w]
    assert mask[:, :, 0].max() == 0  # the start frame's latent
    assert mask[:, 3, -1].max() == 0 and mask[:, :3, -1].min() == 1  # the end frame is the last of its latent
    assert options["clip_vision_output"].penultimate_hidden_states.shape == (1, 6, 4)


def test_ati_passes_scaled_start_latent_to_track_maths():
    maths = RecordingTrackMaths()
    tracks = trackset_from_ati(json.dumps([[{"x": 10, "y": 10}, {"x": 20, "y": 12}]]), W, H, FRAMES)
    start = torch.full((1, H, W, 3), 0.4)
    bound = bind(kind="i2v", tracks=tracks, start_image=start, track_maths=maths)
    assert bound.family == "ati"
    kind, points, start_latent, width, height, length, temperature, topk = maths.calls[0]
    assert (kind, width, height, length, temperature, topk) == ("ati", W, H, FRAMES, 220.0, 2)
    # What WanTrackToVideo's pad_pts makes of the JSON: 121 rows of (x, y, visible), a short track padded hidden.
    expected = np.zeros((1, 121, 1, 3), np.float32)
    expected[0, :2, 0] = [[10, 10, 1], [20, 12, 1]]
    assert points.dtype == np.float32 and np.array_equal(points, expected)
    video = torch.ones(FRAMES, H, W, 3) * 0.5
    video[:1] = start
    assert torch.allclose(start_latent, (FakeVAE().encode(video) - 1) * 2)
    options = bound.positive[0][1]
    assert torch.allclose(options["concat_mask"], torch.full_like(options["concat_mask"], 0.75))
    assert torch.allclose(options["concat_latent_image"], (start_latent + 1) / 2 + 1)


def test_wan_move_patches_positive_only_from_tracks_dict():
    maths = RecordingTrackMaths()
    tracks = {"track_path": torch.rand(FRAMES, 2, 2) * 40, "track_visibility": torch.ones(FRAMES, 2, dtype=torch.bool)}
    track_set = TrackSet.from_tracks_dict(tracks, W, H)
    bound = bind(kind="i2v", tracks=track_set, track_maths=maths, options=BindOptions(track_strength=0.5))
    assert bound.family == "wan_move"
    assert torch.equal(maths.calls[0][1]["track_path"], tracks["track_path"])
    assert torch.equal(maths.calls[0][1]["track_visibility"], tracks["track_visibility"])
    positive, negative = bound.positive[0][1]["concat_latent_image"], bound.negative[0][1]["concat_latent_image"]
    assert torch.allclose(positive, negative + 0.5)


def test_track_families_need_tracks():
    with pytest.raises(BindingError, match="needs tracks"):
        bind("ati", kind="i2v", track_maths=RecordingTrackMaths())


def test_one_track_object_serves_both_time_bases():
    path = torch.stack([torch.linspace(0, 40, FRAMES), torch.full((FRAMES,), 5.0)], dim=-1)[:, None]
    per_frame = TrackSet.from_tracks_dict({"track_path": path}, W, H)
    at_ticks = per_frame.ati_samples(ati_times(FRAMES))
    assert at_ticks.shape == (1, 121, 1, 3) and (at_ticks[..., 2] == 1).all()
    assert tuple(at_ticks[0, 0, 0, :2]) == (0.0, 5.0) and tuple(at_ticks[0, -1, 0, :2]) == (40.0, 5.0)
    assert at_ticks[0, 60, 0, 0] == pytest.approx(20.0)
    from_ati = trackset_from_ati(json.dumps([[{"x": 0, "y": 5}, {"x": 40, "y": 5}]]), W, H, FRAMES)
    frames = from_ati.at_frames(FRAMES)
    assert frames.num_frames == FRAMES and frames.times is None
    assert frames.visible[0, 0] and not frames.visible[-1, 0]  # hidden after the short track ends
    with pytest.raises(ValueError, match="not valid JSON"):
        trackset_from_ati("[{x: 1}", W, H, FRAMES)


def test_missing_entity_lists_the_world():
    shot = SHOT.replace(entities=(ShotEntity("fox"),))
    with pytest.raises(
        MissingEntityError, match=r"'fox'.*Entities in this world: 'skunk' \(character\), 'owl' \(character\)"
    ):
        bind(shot=shot)


def test_bad_resolution_vae_and_length():
    with pytest.raises(BindingError, match=r"4k\+1"):
        bind(options=BindOptions(length=10))
    vae = FakeVAE()
    vae.latent_channels = 48
    with pytest.raises(BindingError, match=r"48-channel latents .*load wan_2\.1_vae\.safetensors"):
        bind(vae=vae)
    with pytest.raises(BindingError, match="NaN"):
        world = make_world()
        world.references["owl"].views[0, 0, 0, 0] = float("nan")
        bind(world=world)


def test_length_override_for_segments():
    bound = bind(kind="t2v", options=BindOptions(length=5))
    assert bound.frame_count == 5 and bound.latent["samples"].shape[2] == 4 + 2


def test_shot_references_for_scoring():
    refs = shot_references(SHOT, make_world())
    assert [r.name for r in refs] == ["toy", "skunk", "forest", "owl"]


def test_a_subject_view_is_padded_with_its_own_background_and_only_its_first_view_is_fitted():
    views = torch.stack([torch.full((40, 40, 3), 0.3), torch.full((40, 40, 3), 0.6)])
    owl = Reference("owl", "character", "an owl", views, preprocess={"background": [0.0, 0.5, 0.0]})
    fitted = fitted_view(owl, 64, 32)
    assert fitted.shape == (1, 32, 64, 3)
    assert fitted[0, 16, 2].tolist() == [0.0, 0.5, 0.0] and fitted[0, 16, 32].tolist() == pytest.approx([0.3] * 3)


def test_in_context_start_frames_are_encoded_as_rgb_and_held_after_the_references():
    seen = []

    def encode(pixels):
        seen.append(pixels.shape[-1])
        return torch.ones(1, 16, 1, 2, 2)

    ctx = SimpleNamespace(
        empty_latent=lambda frames: torch.zeros(1, 16, frames, 2, 2),
        latent_length=3,
        latent_hw=(2, 2),
        vae=SimpleNamespace(encode=encode),
    )
    latent = in_context_latent(ctx, [torch.full((1, 16, 1, 2, 2), 2.0)], torch.rand(1, 16, 16, 4))
    assert seen == [3]
    assert latent["samples"][0, 0, :, 0, 0].tolist() == [2.0, 1.0, 0.0, 0.0]
    assert latent["noise_mask"][0, 0, :, 0, 0].tolist() == [0.0, 0.0, 1.0, 1.0]


def test_set_values_replaces_by_default_and_appends_to_lists_when_asked():
    conditioning = [[torch.zeros(1), {"vace_frames": [1], "other": 0}], [torch.ones(1), {}]]
    replaced = set_values(conditioning, {"vace_frames": [2]})
    assert [options for _, options in replaced] == [{"vace_frames": [2], "other": 0}, {"vace_frames": [2]}]
    appended = set_values(conditioning, {"vace_frames": [2]}, append=True)
    assert [options for _, options in appended] == [{"vace_frames": [1, 2], "other": 0}, {"vace_frames": [2]}]
    assert conditioning[0][1] == {"vace_frames": [1], "other": 0}  # the input is left as it was


def test_the_start_frame_places_each_subject_by_its_first_mask_and_props_as_props():
    world = make_world()
    skunk = world.references["skunk"]
    masks = torch.zeros(2, *skunk.views.shape[1:3])
    masks[0, 4:20, 6:18] = 1.0  # the first view's matte; the second's is empty
    world.references["skunk"] = Reference("skunk", "character", "a small skunk", skunk.views, masks)
    start = bind(kind="i2v", world=world, clip_vision=FakeClipVision()).start_frame
    views = {name: ref.views[0] for name, ref in world.references.items()}
    placed = [
        cutout("toy", views["toy"], None, True),
        cutout("skunk", views["skunk"], masks[0]),
        cutout("owl", views["owl"], None),
    ]
    expected = compose_start_frame(fitted_view(world.references["forest"], W, H), placed, W, H, SHOT.shot_size)
    assert torch.equal(start, expected)


def test_a_location_alone_starts_the_clip_on_its_plate():
    shot = SHOT.replace(entities=(ShotEntity("forest", "location"),))
    start = bind(kind="i2v", shot=shot, clip_vision=FakeClipVision()).start_frame
    assert torch.equal(start, fitted_view(make_world().references["forest"], W, H))


@pytest.mark.parametrize("kind", ["i2v", "t2v"])
def test_an_rgba_start_image_binds_by_its_colour_channels(kind):
    """ComfyUI's Wan nodes drop an IMAGE's alpha; so does binding, wherever the start frames go."""
    rgb = torch.rand(1, H, W, 3, generator=torch.Generator().manual_seed(3))
    rgba = torch.cat([rgb, torch.full((1, H, W, 1), 0.25)], dim=-1)
    extra = {"clip_vision": FakeClipVision()} if kind == "i2v" else {}
    with_alpha, without = (bind(kind=kind, start_image=image, **extra) for image in (rgba, rgb))
    assert torch.equal(with_alpha.latent["samples"], without.latent["samples"])
    for (_, options), (_, expected) in zip(with_alpha.positive, without.positive, strict=True):
        for key, value in expected.items():
            if isinstance(value, torch.Tensor):
                assert torch.equal(options[key], value), key


def test_a_subject_with_an_empty_mask_is_named_when_the_start_frame_is_composed():
    world = make_world()
    skunk = world.references["skunk"]
    empty = torch.zeros(2, *skunk.views.shape[1:3])
    world.references["skunk"] = Reference("skunk", "character", "a small skunk", skunk.views, empty)
    with pytest.raises(ValueError, match=r"^Reference 'skunk' has an empty mask, so there is no subject to place"):
        bind(kind="i2v", world=world, clip_vision=FakeClipVision())


class FakeVAE22(FakeVAE):
    """The Wan 2.2 VAE's geometry: 48 channels, one latent pixel per 16x16 pixels."""

    latent_channels = 48

    def encode(self, pixels):
        pooled = F.avg_pool2d(super().encode(pixels)[0], 2)[None]
        return torch.cat([pooled, pooled + 100.0, pooled + 200.0], dim=1)


def model_5b():
    dit = SimpleNamespace(patch_embedding=SimpleNamespace(weight=torch.zeros(4, 48, 1, 2, 2)), out_dim=48)
    return SimpleNamespace(model=SimpleNamespace(diffusion_model=dit, latent_format=FakeLatentFormat()))


SHOT_5B = SHOT.replace(width=64, height=64, fps=24)


def bind_5b(shot=SHOT_5B, vae=None, rules=WAN_2_2_5B, **kwargs):
    return bind_shot(shot, make_world(), model_5b(), vae or FakeVAE22(), FakeCLIP(), rules=rules, **kwargs)


def test_ti2v_opens_with_the_location_plate_held_by_the_noise_mask():
    """Wan22ImageToVideoLatent's rule: start latents lead, the rest is the latent format's mean (process_out of
    zeros), and the noise mask is 0 over the start frame's latent frame."""
    bound = bind_5b()
    samples, mask = bound.latent["samples"], bound.latent["noise_mask"]
    assert bound.family == "ti2v" and bound.location_as == "first frame" and bound.trim_latent_frames == 0
    assert samples.shape == (1, 48, LATENT_T, 4, 4) and mask.shape == (1, 1, LATENT_T, 4, 4)
    assert mask[:, :, 0].eq(0).all() and mask[:, :, 1:].eq(1).all()
    assert torch.equal(samples[:, :, :1], FakeVAE22().encode(bound.start_frame))
    assert samples[:, :, 1:].eq(FakeLatentFormat().process_out(torch.zeros(1))).all()


def test_ti2v_without_a_location_is_text_to_video():
    bound = bind_5b(shot=SHOT_5B.replace(entities=(ShotEntity("skunk"),)))
    assert bound.start_frame is None and set(bound.latent) == {"samples"}
    assert bound.latent["samples"].eq(0).all() and bound.latent["samples"].shape == (1, 48, LATENT_T, 4, 4)


def test_a_shot_at_16_fps_binds_at_the_5bs_24():
    bound = bind_5b(shot=SHOT_5B.replace(fps=16))  # 9 frames at 16 fps last as long as 13 at 24
    assert (bound.fps, bound.frame_count, bound.latent["samples"].shape[2]) == (24, 13, 4)


def test_a_5b_with_the_wan_2_1_vae_or_size_is_refused_with_the_fix():
    with pytest.raises(BindingError, match=r"ti2v \(Wan 2\.2 TI2V-5B.*load the VAE made for the model \(wan2\.2_vae"):
        bind_5b(vae=FakeVAE(), rules=WAN_2_1)
    with pytest.raises(BindingError) as caught:
        bind_5b(shot=SHOT_5B.replace(width=48))
    assert str(caught.value) == (
        "The shot's frame width is 48, but Wan 2.2 TI2V-5B needs a positive multiple of 32: the nearest size it takes "
        "is 32x64; presets: 480p 16:9 = 832x480; 480p 9:16 = 480x832; 720p 1:1 = 960x960."
    )


# Bind Shot's refusals: each input that would be ignored or cannot be bound is named, with what to connect or load
# instead, before anything is encoded.


def refusal(**kwargs) -> str:
    with pytest.raises(BindingError) as caught:
        bind(**kwargs)
    return str(caught.value)


def test_an_unknown_location_mode_lists_the_modes():
    assert refusal(options=BindOptions(location_as="backdrop")) == (
        "location_as 'backdrop' is not one of auto, first frame, reference, text only."
    )


def test_no_views_per_entity_is_refused_with_the_least_that_works():
    assert refusal(options=BindOptions(views_per_entity=0)) == "views_per_entity is 0; use 1 or more."
    bind(options=BindOptions(views_per_entity=1))  # control


@pytest.mark.parametrize("what", ["start_image", "end_image"])
def test_a_start_or_end_image_with_nan_is_refused_naming_it(what):
    image = torch.full((1, H, W, 3), 0.5)
    image[0, 1, 2, 0] = float("nan")
    with pytest.raises(PixelError, match=f"^{what} holds 1 NaN or infinite values"):
        bind(kind="i2v", family="flf", **{what: image})


def test_an_end_image_for_a_family_without_an_end_frame_is_refused():
    assert refusal(kind="i2v", end_image=torch.full((1, H, W, 3), 0.5)) == (
        "end_image is connected but the shot binds as i2v, which has no end frame, so it would be ignored; load a "
        "first-last-frame (FLF) model, or disconnect end_image."
    )


def test_tracks_for_a_family_without_a_track_input_are_refused():
    tracks = TrackSet.from_tracks_dict({"track_path": torch.rand(FRAMES, 1, 2) * 40}, W, H)
    assert refusal(kind="vace", tracks=tracks) == (
        "Tracks are connected but the shot binds as vace, which has no track input, so they would be ignored; load "
        "an ATI or Wan-Move (image-to-video) model, or disconnect the tracks."
    )


@pytest.mark.parametrize(
    "views",
    [torch.zeros(0, H, W, 3), torch.zeros(1, H, W), torch.zeros(1, H, W, 1), torch.zeros(1, H, W, 2)],
    ids=["none", "3d", "grey", "two channels"],
)
def test_an_entity_whose_views_are_not_images_is_named_with_their_shape(views):
    world = make_world()
    world.references["owl"].views = views
    assert refusal(world=world) == (
        f"Entity 'owl' has views of shape {tuple(views.shape)}; expected [views, height, width, 3] images. Rebuild "
        "the reference from an IMAGE."
    )


def test_a_missing_entity_is_named_with_the_shot_that_names_it():
    shot = SHOT.replace(entities=(ShotEntity("fox"),))
    with pytest.raises(MissingEntityError) as caught:
        bind(shot=shot)
    assert str(caught.value).startswith("Shot 'they meet': the world has no entity named 'fox'.")


def test_a_length_off_the_wan_grid_names_the_shots_frame_count():
    assert refusal(options=BindOptions(length=10)) == (
        "The shot's frame count is 10, but Wan clips have 4k+1 frames; use 9 or 13."
    )


def test_the_report_of_a_binding_says_what_was_bound():
    bound = bind()
    assert bound.report() == {
        "family": "vace",
        "location_as": "reference",
        "reference_frames": ["skunk", "owl", "toy", "forest"],
        "trim_latent_frames": bound.trim_latent_frames,
        "compiled_prompt": bound.prompt,
        "compiled_negative_prompt": "blurry",
    }
    assert bound.trim_latent_frames == 4 and "They meet." in bound.prompt


def test_a_performance_part_the_family_would_not_read_is_named_with_the_families_that_read_it():
    from test_binding_humo import voice  # that module imports this one

    assert refusal(kind="t2v", performance=Performance(audio=voice())) == (
        "The performance's audio would be ignored: the shot binds as t2v, which does not read it; load a model of a "
        "family that does (humo, s2v), or disconnect it from Shot Performance."
    )


def test_two_unread_performance_parts_are_named_together():
    from test_binding_humo import voice  # that module imports this one

    performance = Performance(audio=voice(), pose_video=torch.full((FRAMES, H, W, 3), 0.5))
    assert refusal(kind="t2v", performance=performance) == (
        "The performance's audio, pose_video would be ignored: the shot binds as t2v, which does not read them; load a "
        "model of a family that does (animate, humo, s2v), or disconnect them from Shot Performance."
    )


def test_a_location_mode_the_family_cannot_take_lists_those_it_can():
    start = torch.full((1, H, W, 3), 0.5)
    assert refusal(kind="i2v", start_image=start, options=BindOptions(location_as="reference")) == (
        "A i2v model cannot take the location 'forest' as a reference; it can take it as: first frame, text only."
    )


def test_a_video_latent_for_a_family_that_continues_from_frames_is_refused():
    assert refusal(kind="t2v", video_latent=torch.zeros(1, 16, 3, H // 8, W // 8)) == (
        "video_latent is connected but the shot binds as t2v, which continues from frames, not latents, so it would be "
        "ignored; load a Wan S2V model, or disconnect video_latent."
    )


def test_an_entity_with_infinite_pixels_is_named():
    world = make_world()
    world.references["owl"].views[0, 0, 0, 0] = float("inf")
    assert refusal(world=world) == "Entity 'owl' has NaN or infinite pixels; rebuild the reference."


@pytest.mark.parametrize(
    ("name", "prompt", "label"),
    [
        ("meeting", "they meet", "Shot 'meeting'"),
        (
            "",
            "a very long prompt that goes on for more than forty characters",
            "Shot 'a very long prompt that goes on for more'",
        ),
    ],
    ids=["named", "unnamed"],
)
def test_a_missing_entity_names_the_shot_or_the_start_of_its_prompt(name, prompt, label):
    with pytest.raises(MissingEntityError) as caught:
        bind(shot=SHOT.replace(name=name, prompt=prompt, entities=(ShotEntity("fox"),)))
    assert str(caught.value).startswith(f"{label}: the world has no entity named 'fox'.")
