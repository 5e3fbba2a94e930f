"""WorldKit/Sampling: Score Consistency and Best of N."""

import json

import torch
from comfy_api.latest import io

from ...models.sampling.identity import FEATURE_DETECTORS
from ...models.sampling.scoring import (
    DEFAULT_MAX_FRAMES,
    DEFAULT_TEMPORAL_WEIGHT,
    pick_best,
    score_candidate,
    score_candidates,
    select_references,
)
from ...models.shots.shot import split_names
from .. import categories
from ..inputs import entities_problem, recheck, verdict
from ..runtime.progress import NodeProgress, check_interrupt
from ..types import Reference, World


def scoring_inputs() -> list[io.Input]:
    """Inputs shared by Score Consistency and Best of N: what to score against, and how."""
    return [
        io.MultiType.Input(
            World.Input("references", tooltip="A world (score against its entities) or one reference."),
            types=[World, Reference],
        ),
        io.String.Input(
            "entities", default="", tooltip="Entity names, comma separated; empty scores against every entity given."
        ),
        io.ClipVision.Input(
            "clip_vision",
            optional=True,
            tooltip="Scores by CLIP-I (cosine of image embeddings); without it, SIFT/ORB feature "
            "matches and LAB colour histograms are used.",
        ),
        io.Float.Input(
            "temporal_weight",
            default=DEFAULT_TEMPORAL_WEIGHT,
            min=0.0,
            max=1.0,
            step=0.05,
            tooltip="Share of the overall score given to temporal stability (flicker); the rest is identity.",
        ),
        io.Combo.Input(
            "features",
            options=list(FEATURE_DETECTORS),
            default="sift",
            tooltip="Keypoints for the classical score (used without CLIP vision).",
        ),
        io.Int.Input(
            "max_frames",
            default=DEFAULT_MAX_FRAMES,
            min=1,
            max=1024,
            tooltip="Identity is measured on at most this many evenly spaced frames of a clip.",
        ),
    ]


class WorldKitScoreConsistency(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(
            node_id="WorldKitScoreConsistency",
            display_name="Score World Consistency",
            category=categories.SAMPLING,
            description="How well frames keep their references (identity) and how steady they are (temporal "
            "stability). Every score is 0..1, higher is better; the report lists each entity's score.",
            inputs=[io.Image.Input("frames", tooltip="A still or a clip."), *scoring_inputs()],
            outputs=[
                io.Float.Output(display_name="score", tooltip="0..1, higher keeps the references better."),
                io.String.Output(display_name="report", tooltip="JSON: each entity's identity score and stability."),
            ],
        )

    @classmethod
    def validate_inputs(cls, entities=None) -> bool | str:
        return verdict(entities_problem(entities))

    @classmethod
    def execute(
        cls, frames, references, entities, temporal_weight, features, max_frames, clip_vision=None
    ) -> io.NodeOutput:
        recheck(cls.validate_inputs(entities))
        chosen = select_references(references, split_names(entities))
        report = score_candidate(
            frames, chosen, clip_vision, temporal_weight=temporal_weight, features=features, max_frames=max_frames
        )
        return io.NodeOutput(report.overall, json.dumps(report.to_dict()))


def split_candidates(images: list[torch.Tensor], frames_per_candidate: int) -> list[torch.Tensor]:
    """Candidates from a list of IMAGE batches: each batch cut into runs of ``frames_per_candidate`` frames,
    or each batch whole when it is 0."""
    candidates = []
    for item, batch in enumerate(images):
        if batch.shape[0] == 0:
            raise ValueError(f"candidates item {item + 1} is an empty batch; connect images with at least one frame.")
        if frames_per_candidate == 0:
            candidates.append(batch)
            continue
        if batch.shape[0] % frames_per_candidate:
            raise ValueError(
                f"candidates item {item + 1} has {batch.shape[0]} frames, not a multiple of "
                f"frames_per_candidate ({frames_per_candidate}); set it to the frames of one candidate, "
                "or 0 to score each connected item whole."
            )
        candidates.extend(batch.split(frames_per_candidate))
    return candidates


class WorldKitPickBest(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(
            node_id="WorldKitPickBest",
            display_name="Best of N (Consistency)",
            category=categories.SAMPLING,
            description="Score every candidate against the references and keep the best (ties go to the first). "
            "Stills: a batch of images, one candidate each. Clips: set frames per candidate, or connect a list with "
            "one clip per item.",
            is_input_list=True,
            inputs=[
                io.Image.Input("candidates", tooltip="A batch (or a list) of candidate images or clips."),
                io.Int.Input(
                    "frames_per_candidate",
                    default=1,
                    min=0,
                    max=4096,
                    tooltip="Frames of one candidate: 1 for stills; 0 scores each connected list item whole.",
                ),
                *scoring_inputs(),
            ],
            outputs=[
                io.Image.Output(display_name="best", tooltip="The candidate that keeps the references best."),
                io.Int.Output(display_name="index", tooltip="Its position among the candidates, from 0."),
                io.String.Output(display_name="report", tooltip="JSON: every candidate's scores."),
            ],
        )

    @classmethod
    def validate_inputs(cls, entities=None) -> bool | str:
        """Inputs arrive as lists here (the node takes whole lists)."""
        return verdict(*(entities_problem(text) for text in entities or []))

    @classmethod
    def execute(
        cls,
        candidates,
        frames_per_candidate,
        references,
        entities,
        temporal_weight,
        features,
        max_frames,
        clip_vision=None,
    ) -> io.NodeOutput:
        recheck(cls.validate_inputs(entities))
        clips = split_candidates(candidates, frames_per_candidate[0])
        chosen = select_references(references[0], split_names(entities[0]))
        progress = NodeProgress(len(clips))
        check_interrupt()
        reports = score_candidates(
            clips,
            chosen,
            None if clip_vision is None else clip_vision[0],
            lambda _: progress(),
            temporal_weight=temporal_weight[0],
            features=features[0],
            max_frames=max_frames[0],
        )
        best = pick_best(reports)
        summary = {
            "best": best,
            "scores": [report.overall for report in reports],
            "candidates": [report.to_dict() for report in reports],
        }
        return io.NodeOutput(clips[best], best, json.dumps(summary))


NODES: list[type[io.ComfyNode]] = [WorldKitScoreConsistency, WorldKitPickBest]
