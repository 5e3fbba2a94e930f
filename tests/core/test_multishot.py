"""The shot-list orchestrator with constructed pipelines: best of N, trimming, reference bleed, continuity, chaining."""

import json
from types import SimpleNamespace

import pytest
import torch

from worldkit.models.sampling.candidate import leading_reference_frames, trim_latent
from worldkit.models.sampling.joining import shot_boundaries
from worldkit.models.sampling.multishot import candidate_seeds, render_shot_list, total_steps
from worldkit.models.sampling.selection import parse_selection
from worldkit.models.sampling.shot_pipeline import ShotPipeline
from worldkit.models.shots.shot import Shot, ShotEntity
from worldkit.models.world.entities import Reference

SIZE = 16
RED = torch.tensor([0.9, 0.1, 0.1])


def solid(color: torch.Tensor, frames: int = 1) -> torch.Tensor:
    return color.view(1, 1, 1, 3).expand(frames, SIZE, SIZE, 3).clone()


SKUNK = Reference("skunk", "character", "a small skunk", views=solid(RED))


def make_shot(frames: int = 9, continuity: str = "cut", seed: int = 0, **extra) -> Shot:
    return Shot(
        prompt="a skunk",
        entities=(ShotEntity("skunk"),),
        duration="frames",
        frames=frames,
        resolution="custom",
        width=SIZE,
        height=SIZE,
        continuity=continuity,
        seed=seed,
        **extra,
    )


class Bound:
    def __init__(self, shot, context, frames, trim, reference_names=("skunk",)):
        self.shot, self.context, self.frames, self.trim_latent_frames = shot, context, frames, trim
        self.reference_names = reference_names
        self.lead_latent = None


class FakeModel:
    """Latents are pixels laid out [1, 3, T, H, W]; the binder prepends the reference view as one frame to trim.

    A candidate's content is a flat grey whose level is a known function of its seed, so its score is known.
    ``bleed`` makes the first content frame a copy of the reference (the VACE/Phantom complaint).
    """

    def __init__(self, bleed: bool = False, prepends: tuple[str, ...] = ("skunk",)) -> None:
        self.bleed = bleed
        self.prepends = prepends
        self.bind_calls: list[tuple[torch.Tensor | None, int]] = []
        self.new_from: list[int] = []
        self.sampled_seeds: list[int] = []

    def bind(self, shot, context, frames, new_from, latent_so_far):
        self.bind_calls.append((context, frames))
        self.new_from.append(new_from)
        return Bound(shot, context, frames, trim=1, reference_names=self.prepends)

    @staticmethod
    def level(seed: int) -> float:
        return 0.2 + 0.1 * ((seed * 5) % 7)

    def sample(self, shot, bound, seed):
        self.sampled_seeds.append(seed)
        generator = torch.Generator().manual_seed(seed)
        content = self.level(seed) + 0.01 * torch.rand(bound.frames, SIZE, SIZE, 3, generator=generator)
        if self.bleed:
            content[0] = RED
        if bound.context is not None:
            content[: bound.context.shape[0]] = bound.context
        pixels = torch.cat([solid(RED), content])
        return pixels.permute(3, 0, 1, 2).unsqueeze(0)

    @staticmethod
    def decode(latent):
        return latent[0].permute(1, 2, 3, 0)

    def pipeline(self, **options) -> ShotPipeline:
        return ShotPipeline(
            bind=self.bind,
            sample=self.sample,
            decode=self.decode,
            references=lambda shot: [SKUNK],
            score=lambda frames, refs: float(frames[1:].mean()),
            **options,
        )


def test_best_of_n_keeps_the_argmax_and_reports_every_score():
    model = FakeModel()
    result = render_shot_list(model.pipeline(), [make_shot(seed=3)], seed=10, candidates=4)[0]
    seeds = [13, 14, 15, 16]
    report = result.report
    assert report["seeds"] == seeds
    assert len(report["scores"]) == 4 and all(isinstance(s, float) for s in report["scores"])
    expected = max(range(4), key=lambda i: FakeModel.level(seeds[i]))
    assert report["chosen"] == expected
    assert report["scores"].index(max(report["scores"])) == expected
    assert report["chosen_seed"] == seeds[expected]
    assert len(model.bind_calls) == 1  # one binding serves every candidate of the shot
    assert abs(float(result.frames[1:].mean()) - FakeModel.level(seeds[expected])) < 0.01
    json.dumps(report)


def test_same_seed_gives_the_same_frames():
    first = render_shot_list(FakeModel().pipeline(), [make_shot()], seed=5, candidates=2)[0]
    second = render_shot_list(FakeModel().pipeline(), [make_shot()], seed=5, candidates=2)[0]
    assert torch.equal(first.frames, second.frames)


def test_trimmed_reference_frames_never_reach_the_output():
    result = render_shot_list(FakeModel().pipeline(), [make_shot(frames=9)], seed=0, candidates=1)[0]
    assert result.frames.shape == (9, SIZE, SIZE, 3)
    assert leading_reference_frames(result.frames, [SKUNK]) == 0
    assert not any(torch.allclose(frame, solid(RED)[0]) for frame in result.frames)
    assert leading_reference_frames(torch.cat([solid(RED), result.frames]), [SKUNK]) == 1  # control: a copy is seen
    assert result.report["candidates"][0]["reference_bleed_frames_dropped"] == 0


def test_first_kept_frame_is_never_the_reference_even_when_the_model_bleeds():
    result = render_shot_list(FakeModel(bleed=True).pipeline(), [make_shot(frames=9)], seed=0, candidates=1)[0]
    assert (result.frames[0] - solid(RED)[0]).abs().mean() > 0.1
    assert result.frames.shape[0] == 8
    assert result.report["candidates"][0]["reference_bleed_frames_dropped"] == 1
    assert result.report["frames"] == 8


def test_a_start_frame_that_looks_like_a_reference_is_kept():
    """A location plate or a start image opens the clip on purpose; only prepended references can bleed."""
    model = FakeModel(bleed=True, prepends=())
    result = render_shot_list(model.pipeline(), [make_shot(frames=9)], seed=0, candidates=1)[0]
    assert result.frames.shape[0] == 9
    assert torch.allclose(result.frames[0], solid(RED)[0])
    assert result.report["candidates"][0]["reference_bleed_frames_dropped"] == 0


def test_continue_starts_from_the_last_frame_and_cut_does_not():
    model = FakeModel()
    shots = [make_shot(), make_shot(continuity="continue"), make_shot(continuity="cut")]
    results = render_shot_list(model.pipeline(), shots, seed=0, candidates=1)
    contexts = [context for context, _ in model.bind_calls]
    assert contexts[0] is None and contexts[2] is None
    assert torch.equal(contexts[1], results[0].frames[-1:])
    assert torch.equal(results[1].frames[0], results[0].frames[-1])
    assert [r.report["continued_from_previous"] for r in results] == [False, True, False]
    assert shot_boundaries(results) == [
        {"shot": 0, "start": 0, "end": 9},
        {"shot": 1, "start": 9, "end": 18},
        {"shot": 2, "start": 18, "end": 27},
    ]


def test_first_shot_cannot_continue():
    with pytest.raises(ValueError, match="first shot"):
        render_shot_list(FakeModel().pipeline(), [make_shot(continuity="continue")], seed=0, candidates=1)


def test_long_shot_is_chained_in_native_segments():
    model = FakeModel()
    shot = make_shot(frames=161)
    result = render_shot_list(model.pipeline(native_frames=81, overlap=9), [shot], seed=0, candidates=1)[0]
    assert result.frames.shape[0] == 161
    assert [frames for _, frames in model.bind_calls] == [81, 81, 17]
    assert [None if c is None else c.shape[0] for c, _ in model.bind_calls] == [None, 9, 9]
    assert model.new_from == [0, 81, 153]  # each segment's new frames follow its 9 context frames
    assert len(set(model.sampled_seeds)) == 3
    assert [s["start"] for s in result.report["candidates"][0]["segments"]] == [0, 72, 144]


def test_candidate_seeds_and_trim_errors():
    assert candidate_seeds(2**64 - 1, 2) == [2**64 - 1, 0]
    with pytest.raises(ValueError, match="at least 1"):
        candidate_seeds(0, 0)
    latent = torch.zeros(1, 16, 3, 4, 4)
    assert trim_latent(latent, 1).shape[2] == 2
    with pytest.raises(ValueError, match="only 3"):
        trim_latent(latent, 3)


def test_nan_scores_are_refused():
    model = FakeModel()
    pipeline = model.pipeline()
    pipeline.score = lambda frames, refs: float("nan")
    with pytest.raises(ValueError, match="NaN"):
        render_shot_list(pipeline, [make_shot()], seed=0, candidates=2)


def test_interrupt_is_checked_before_every_segment():
    calls = []

    def interrupt():
        calls.append(1)
        if len(calls) == 2:
            raise InterruptedError("cancelled")

    pipeline = FakeModel().pipeline()
    pipeline.check_interrupt = interrupt
    with pytest.raises(InterruptedError):
        render_shot_list(pipeline, [make_shot()], seed=0, candidates=3)
    assert len(calls) == 2


def test_a_single_candidate_is_not_scored_unless_asked():
    scored = []

    def score(frames, refs):
        scored.append(frames.shape[0])
        return 0.5

    pipeline = FakeModel().pipeline()
    pipeline.score = score
    report = render_shot_list(pipeline, [make_shot()], seed=0, candidates=1)[0].report
    assert scored == [] and report["scores"] == [None] and report["chosen"] == 0
    pipeline.score_single_candidate = True
    report = render_shot_list(pipeline, [make_shot()], seed=0, candidates=1)[0].report
    assert scored == [9] and report["scores"] == [0.5]


def test_total_steps_counts_the_segments_and_candidates_the_render_samples():
    """The progress bar's total is what render_shot_list samples: every selected shot's segments x candidates."""
    model = FakeModel()
    shots = [make_shot(frames=9), make_shot(frames=161), make_shot(frames=89)]
    selection = parse_selection("shot=2,3")
    render_shot_list(model.pipeline(native_frames=81, overlap=9), shots, seed=0, candidates=2, selection=selection)
    assert total_steps(shots, 2, 1, 81, 9, selection) == len(model.sampled_seeds) == 2 * (3 + 2)
    assert total_steps(shots, 2, 20, 81, 9) == 20 * 2 * (1 + 3 + 2)


def test_a_segment_continuing_from_latents_is_bound_with_the_latent_so_far_and_decodes_its_lead_first():
    """S2V's chaining: each later segment is bound with every earlier segment's sampled latent, concatenated, and the
    latent frames its binding leads with (the overlap, rendered before) are decoded ahead of what it sampled."""
    calls = []

    def bind(shot, context, frames, new_from, latent_so_far):
        calls.append((frames, new_from, None if latent_so_far is None else latent_so_far[0, 0, :, 0, 0].tolist()))
        lead = None if latent_so_far is None else latent_so_far[:, :, -context.shape[0] :]
        new = frames - (0 if context is None else context.shape[0])
        return SimpleNamespace(trim_latent_frames=0, reference_names=(), lead_latent=lead, new=new, index=len(calls))

    def sample(shot, bound, seed):
        return torch.full((1, 3, bound.new, SIZE, SIZE), float(bound.index))

    pipeline = ShotPipeline(
        bind=bind,
        sample=sample,
        decode=lambda latent: latent[0].permute(1, 2, 3, 0),
        references=lambda shot: [SKUNK],
        score=lambda frames, refs: 0.0,
        native_frames=13,
        overlap=5,
        color_strength=0.0,
    )
    result = render_shot_list(pipeline, [make_shot(frames=29)], seed=0, candidates=1)[0]
    assert calls == [(13, 0, None), (13, 13, [1.0] * 13), (13, 21, [1.0] * 13 + [2.0] * 8)]
    assert result.frames[:, 0, 0, 0].tolist() == [1.0] * 13 + [2.0] * 8 + [3.0] * 8
