"""WorldKit/sampling nodes."""

import json
from fractions import Fraction

import comfy.model_management
import comfy.samplers
import comfy.utils
import torch
from comfy_api.latest import InputImpl, Types, io

from ..models.sampling.cut import (
    DEFAULT_BEAT_THRESHOLD,
    DEFAULT_MIN_KEEP,
    TRANSITIONS,
    assemble_cut,
    detect_beats,
    parse_shot_lengths,
)
from ..models.sampling.identity import FEATURE_DETECTORS
from ..models.sampling.multishot import render_shot_list, shot_boundaries
from ..models.sampling.reference_attention import entity_reference_latents
from ..models.sampling.scoring import (
    DEFAULT_MAX_FRAMES,
    DEFAULT_TEMPORAL_WEIGHT,
    pick_best,
    score_candidate,
    score_candidates,
    select_references,
)
from ..models.sampling.search import DEFAULT_SEARCH, parse_search, require_schedule_candidates
from ..models.sampling.selection import SelectionError, parse_selection
from ..models.shared.pixels import require_finite
from ..models.shared.wan import MAX_FRAMES, WanShapeError, require_wan_frame_count
from ..models.shots.binding import TRACKLESS_FAMILY_CHOICES
from ..models.shots.shot import Shot, split_names
from . import categories
from .inputs import entities_problem, frames_input, recheck, seed_input, verdict
from .runtime.attention_patch import apply_reference_attention
from .runtime.early_preview import early_decoding_available
from .runtime.progress import NodeProgress, check_interrupt
from .runtime.shot_sampling import (
    SamplerSettings,
    ShotModels,
    encode_views,
    make_pipeline,
    model_latent_channels,
    total_steps,
)
from .types import Reference, Shots, World
from .types import Shot as ShotSocket


def shot_list(shots, shot) -> list[Shot]:
    """The shots to render: a SHOTS list, one SHOT, or both (the single shot last)."""
    found: list[Shot] = []
    if shots is not None:
        found.extend([shots] if isinstance(shots, Shot) else shots)
    if shot is not None:
        found.append(shot)
    if not found:
        raise ValueError("World Shot Sampler needs shots: connect a Shot List to 'shots' or a Shot to 'shot'.")
    return found


MIN_NATIVE_FRAMES = 5
MAX_CANDIDATES = 16


def shot_list_outputs() -> list[io.Output]:
    """A rendered shot list's outputs, in the order links refer to them (Load Shot Frames gives the same)."""
    return [
        io.Image.Output(display_name="frames", tooltip="Every shot's frames, one after another."),
        io.String.Output(display_name="shot_boundaries", tooltip="Frames per shot, for Assemble Cut's shot_lengths."),
        io.Video.Output(display_name="video", tooltip="The shots cut together at the shots' fps."),
        io.String.Output(display_name="report", tooltip="JSON: per shot the candidates' scores and the one kept."),
    ]


class WorldKitWorldShotSampler(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(
            node_id="WorldKitWorldShotSampler",
            display_name="World Shot Sampler",
            category=categories.SAMPLING,
            description="Render a shot list that keeps the world: every shot bound to its entities, sampled as "
            "KSampler does (N candidates, the best kept by consistency score), trimmed, decoded and "
            "cut together. Long shots are chained segments with colour continuity.",
            inputs=[
                io.Model.Input("model", tooltip="The loaded Wan model (with any LoRA or cache node applied)."),
                io.Vae.Input("vae", tooltip="The Wan VAE: encodes references and start frames, decodes the shots."),
                io.Clip.Input("clip", tooltip="The UMT5 text encoder (CLIPLoader, type wan)."),
                World.Input("world", tooltip="The encoded world the shots' entities come from."),
                Shots.Input("shots", optional=True, tooltip="The shot list; rendered in order."),
                ShotSocket.Input(
                    "shot", optional=True, tooltip="One shot (appended after the list when both are given)."
                ),
                seed_input("Base seed; a shot's own seed is added, and candidates use seed, seed + 1, …"),
                io.Int.Input(
                    "steps",
                    default=20,
                    min=1,
                    max=10000,
                    tooltip="Sampling steps per segment, as on KSampler (20 for Wan; 4 with a step-distillation LoRA).",
                ),
                io.Float.Input(
                    "cfg",
                    default=5.0,
                    min=0.0,
                    max=100.0,
                    step=0.1,
                    round=0.01,
                    tooltip="Classifier-free guidance, as on KSampler; 1.0 skips the negative pass (twice as fast).",
                ),
                io.Combo.Input(
                    "sampler_name",
                    options=comfy.samplers.KSampler.SAMPLERS,
                    default="uni_pc",
                    tooltip="The sampling algorithm, as on KSampler.",
                ),
                io.Combo.Input(
                    "scheduler",
                    options=comfy.samplers.KSampler.SCHEDULERS,
                    default="simple",
                    tooltip="How noise levels are spaced over the steps, as on KSampler.",
                ),
                io.Float.Input(
                    "denoise",
                    default=1.0,
                    min=0.01,
                    max=1.0,
                    step=0.01,
                    tooltip="Share of the noise schedule to run, as on KSampler (above 0); 1.0 for new shots.",
                ),
                io.Int.Input(
                    "candidates",
                    default=1,
                    min=1,
                    max=MAX_CANDIDATES,
                    tooltip="Candidates per shot (best of N by consistency score).",
                ),
                io.Float.Input(
                    "reference_attention",
                    default=0.0,
                    min=0.0,
                    max=1.0,
                    step=0.05,
                    tooltip="Self-attention also attends to the shot's entity references. "
                    "0 is plain sampling, 1 treats reference tokens like the video's own.",
                ),
                io.ClipVision.Input(
                    "clip_vision",
                    optional=True,
                    tooltip="Scores candidates by CLIP-I (and conditions I2V families); "
                    "without it a feature-match and colour score is used.",
                ),
                frames_input(
                    "native_frames",
                    81,
                    "Longest clip the model samples at once; longer shots are chained.",
                    minimum=MIN_NATIVE_FRAMES,
                ),
                io.Int.Input(
                    "overlap_frames",
                    default=9,
                    min=1,
                    max=41,
                    step=4,
                    tooltip="Frames each chained segment shares with the one before it.",
                ),
                io.Combo.Input(
                    "family",
                    options=list(TRACKLESS_FAMILY_CHOICES),
                    default="auto",
                    tooltip="How shots are bound; auto reads the loaded model.",
                ),
                io.String.Input(
                    "search",
                    default=DEFAULT_SEARCH,
                    optional=True,
                    tooltip="With several candidates, judge them early and stop the weak: '2@0.2>1@0.4' keeps "
                    "the best 2 after 20 % of the steps and the best 1 after 40 %. 'off' renders every "
                    "candidate to the end.",
                ),
                io.String.Input(
                    "select",
                    default="",
                    optional=True,
                    tooltip="Render only some shots and candidates, e.g. 'shot=3;candidate=1' (from 1); each gets "
                    "the seeds and frames of a full run. Empty renders everything.",
                ),
            ],
            outputs=shot_list_outputs(),
        )

    @classmethod
    def validate_inputs(
        cls,
        native_frames: int,
        overlap_frames: int,
        candidates: int,
        search: str = DEFAULT_SEARCH,
        select: str = "",
    ) -> bool | str:
        """Checked before the prompt runs; the inputs are named so ComfyUI still checks all the others.

        A linked input is None here (its value comes later); execute checks it then.
        """
        if candidates is not None and not 1 <= candidates <= MAX_CANDIDATES:
            return f"candidates is {candidates}; use 1 to {MAX_CANDIDATES}."
        try:
            if search is not None:
                require_schedule_candidates(parse_search(search), candidates)
            if select is not None:
                parse_selection(select)
        except (ValueError, SelectionError) as error:
            return str(error)
        if native_frames is None or overlap_frames is None:
            return True
        if not MIN_NATIVE_FRAMES <= native_frames <= MAX_FRAMES:
            return f"native_frames is {native_frames}; use {MIN_NATIVE_FRAMES} to {MAX_FRAMES} (81 for Wan 2.1)."
        try:
            require_wan_frame_count(native_frames, "native_frames (81 for Wan 2.1)")
        except WanShapeError as error:
            return str(error)
        if not 1 <= overlap_frames <= native_frames // 2:
            return f"overlap_frames is {overlap_frames}; use 1 to half of native_frames ({native_frames // 2})."
        return True

    @classmethod
    def execute(
        cls,
        model,
        vae,
        clip,
        world,
        seed,
        steps,
        cfg,
        sampler_name,
        scheduler,
        denoise,
        candidates,
        reference_attention,
        native_frames,
        overlap_frames,
        family="auto",
        shots=None,
        shot=None,
        clip_vision=None,
        search=DEFAULT_SEARCH,
        select="",
    ) -> io.NodeOutput:
        shots = shot_list(shots, shot)
        schedule = parse_search(search)
        require_schedule_candidates(schedule, candidates)
        selection = parse_selection(select)
        rates = sorted({candidate.fps for candidate in shots})
        if len(rates) > 1:
            raise ValueError(
                f"the shots have different frame rates {rates}; one cut plays at one rate: give every "
                "shot the same fps, or use one sampler per rate."
            )
        sizes = sorted({candidate.size for candidate in shots})
        if len(sizes) > 1:
            raise ValueError(
                f"the shots have different frame sizes {sizes} (width, height); one cut needs one size: "
                "give every shot the same resolution and aspect, or use one sampler per size."
            )
        settings = SamplerSettings(sampler_name, scheduler, steps, cfg, denoise)
        schedule, search_note = (schedule if candidates > 1 else None), None  # one candidate: nothing to judge
        if schedule is not None and not early_decoding_available(model):
            schedule = None
            search_note = "this model's latents have no preview decoder; every candidate ran to the end"
        progress = NodeProgress(
            total_steps(shots, candidates, steps, native_frames, overlap_frames, selection, schedule)
        )
        pipeline = make_pipeline(
            ShotModels(model, vae, clip, world, clip_vision, family),
            settings,
            reference_attention,
            native_frames,
            overlap_frames,
            progress,
            schedule,
        )
        results = render_shot_list(pipeline, shots, seed, candidates, selection)
        frames = results[0].frames if len(results) == 1 else torch.cat([result.frames for result in results])
        boundaries = shot_boundaries(results)
        fps = shots[0].fps
        video = InputImpl.VideoFromComponents(Types.VideoComponents(images=frames, frame_rate=Fraction(fps)))
        report = {
            "seed": seed,
            "candidates": candidates,
            "sampler": settings.__dict__,
            "fps": fps,
            "search": str(schedule) if schedule is not None else "off",
            **({"search_note": search_note} if search_note else {}),
            "reference_attention": reference_attention,
            "native_frames": native_frames,
            "overlap_frames": overlap_frames,
            "boundaries": boundaries,
            "shots": [result.report for result in results],
        }
        return io.NodeOutput(frames, json.dumps(boundaries), video, json.dumps(report))


class WorldKitReferenceAttention(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(
            node_id="WorldKitReferenceAttention",
            display_name="World Reference Attention",
            category=categories.SAMPLING,
            description="Patch a Wan model so every self-attention also attends to the named entities' reference "
            "latents at the same step (training-free). Works with any sampler node; strength 0 "
            "returns the model unchanged.",
            inputs=[
                io.Model.Input("model", tooltip="The Wan model to patch."),
                World.Input("world", tooltip="The encoded world whose references the video attends to."),
                io.String.Input(
                    "entities",
                    default="",
                    multiline=False,
                    tooltip="Entity names, comma separated; empty uses every entity of the world.",
                ),
                io.Float.Input(
                    "strength",
                    default=0.5,
                    min=0.0,
                    max=1.0,
                    step=0.05,
                    tooltip="0 leaves the model unchanged; 1 treats reference tokens like the video's own.",
                ),
                io.Vae.Input(
                    "vae", optional=True, tooltip="Encodes references that have no encoding for this model yet."
                ),
            ],
            outputs=[io.Model.Output(display_name="model", tooltip="The patched model, for any sampler node.")],
        )

    @classmethod
    def validate_inputs(cls, entities=None) -> bool | str:
        return verdict(entities_problem(entities))

    @classmethod
    def execute(cls, model, world, entities, strength, vae=None) -> io.NodeOutput:
        recheck(cls.validate_inputs(entities))
        if strength == 0.0:
            return io.NodeOutput(model)
        latents = entity_reference_latents(
            world, split_names(entities), model_latent_channels(model), encode_views(vae) if vae is not None else None
        )
        return io.NodeOutput(apply_reference_attention(model, latents, strength))


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
            "Stills: a batch of images, one candidate each. Clips: set frames per candidate, or "
            "connect a list with one clip per item.",
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


class WorldKitAssembleCut(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(
            node_id="WorldKitAssembleCut",
            display_name="Assemble Cut",
            category=categories.SAMPLING,
            description="Join shots into one video with hard cuts or crossfades. With a track connected and "
            "snap to beats on, each cut lands on a detected beat by trimming the end of the shot "
            "before it. Connect the video to Save Video.",
            inputs=[
                io.Image.Input("frames", tooltip="Every shot's frames, one after another."),
                io.String.Input(
                    "shot_lengths",
                    default="",
                    tooltip="Frames per shot, e.g. '81, 81, 49', or the World Shot Sampler's "
                    "shot_boundaries; empty means one shot.",
                ),
                io.Float.Input(
                    "fps", default=16.0, min=1.0, max=120.0, step=1.0, tooltip="Frames per second of the cut."
                ),
                io.Combo.Input(
                    "transition",
                    options=list(TRANSITIONS),
                    default="cut",
                    tooltip="cut: a hard cut from one shot to the next; crossfade: the shots dissolve into each "
                    "other over crossfade_frames.",
                ),
                io.Int.Input(
                    "crossfade_frames",
                    default=8,
                    min=0,
                    max=240,
                    tooltip="Frames two shots overlap in a crossfade (ignored for hard cuts).",
                ),
                io.Boolean.Input(
                    "snap_to_beats",
                    default=False,
                    tooltip="Move each cut to a beat of the audio (needs the audio input).",
                ),
                io.Float.Input(
                    "beat_threshold",
                    default=DEFAULT_BEAT_THRESHOLD,
                    min=0.01,
                    max=1.0,
                    step=0.01,
                    tooltip="How strong an onset must be (share of the strongest) to count as a beat.",
                ),
                io.Float.Input(
                    "min_keep",
                    default=DEFAULT_MIN_KEEP,
                    min=0.0,
                    max=1.0,
                    step=0.05,
                    tooltip="Snapping never trims a shot below this share of its frames.",
                ),
                io.Audio.Input("audio", optional=True, tooltip="Laid under the cut; its beats place the cuts."),
            ],
            outputs=[
                io.Video.Output(display_name="video", tooltip="The cut with the track under it, for Save Video."),
                io.String.Output(display_name="cut_list", tooltip="JSON: each cut's frame and the beat it landed on."),
                io.Image.Output(display_name="frames", tooltip="The cut's frames."),
            ],
        )

    @classmethod
    def validate_inputs(cls, shot_lengths=None) -> bool | str:
        """The lengths' syntax is checked before the prompt runs; their sum once the frames arrive."""
        if shot_lengths is None:
            return True
        try:
            parse_shot_lengths(shot_lengths, None)
        except ValueError as error:
            return str(error)
        return True

    @classmethod
    def execute(
        cls,
        frames,
        shot_lengths,
        fps,
        transition,
        crossfade_frames,
        snap_to_beats,
        beat_threshold,
        min_keep,
        audio=None,
    ) -> io.NodeOutput:
        if snap_to_beats and audio is None:
            raise ValueError(
                "snap_to_beats is on but no audio is connected: connect a track to 'audio' "
                "(e.g. from Load Audio) or turn snap_to_beats off."
            )
        require_finite(frames, "frames")
        lengths = parse_shot_lengths(shot_lengths, frames.shape[0])
        beats = (
            detect_beats(audio["waveform"], audio["sample_rate"], threshold=beat_threshold) if snap_to_beats else None
        )
        cut = assemble_cut(frames, lengths, fps, transition, crossfade_frames, beats, min_keep)
        video = InputImpl.VideoFromComponents(
            Types.VideoComponents(images=cut.frames, audio=audio, frame_rate=Fraction(fps))
        )
        return io.NodeOutput(video, json.dumps(cut.to_dict()), cut.frames)


NODES: list[type[io.ComfyNode]] = [
    WorldKitWorldShotSampler,
    WorldKitReferenceAttention,
    WorldKitScoreConsistency,
    WorldKitPickBest,
    WorldKitAssembleCut,
]
