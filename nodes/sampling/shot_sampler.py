"""WorldKit/Sampling: the World Shot Sampler."""

import json
from fractions import Fraction

import comfy.model_management
import comfy.samplers
import comfy.utils
from comfy_api.latest import InputImpl, Types, io

from ...models.sampling.experts import AUTO_SWITCH, boundaries_in_words, switch_step_problem
from ...models.sampling.joining import join_shots, require_one_rate
from ...models.sampling.long_shot import overlap_problem, require_native_frames
from ...models.sampling.multishot import render_shot_list, steps_per_shot
from ...models.sampling.search import (
    DEFAULT_SEARCH,
    SEARCH_CHOICES,
    SEARCH_PRESETS,
    parse_search_choice,
    require_schedule_candidates,
)
from ...models.sampling.selection import SelectionError, parse_selection
from ...models.sampling.storyboard import report_header
from ...models.sampling.takes import parse_takes
from ...models.shared.wan import MAX_FRAMES, WAN_2_1, WAN_2_2_5B, WanShapeError
from ...models.shots.binding import TRACKLESS_FAMILY_CHOICES
from ...models.shots.shot import Shot, shots_for_model, timing_report
from .. import categories
from ..inputs import length_input, names_problem, seed_input, wan_inputs
from ..runtime.early_preview import early_decoding_available
from ..runtime.ksampling import SamplerSettings, shot_experts
from ..runtime.live_storyboard import LiveProgress
from ..runtime.shot_sampling import (
    ShotModels,
    loaded_rules,
    make_pipeline,
    shot_reuse,
)
from ..types import Performance as PerformanceType
from ..types import Shot as ShotSocket
from ..types import Shots
from .storyboard_preview import model_name, preview_video, storyboard_ui


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


MODELS_OWN_NATIVE_FRAMES = 0  # native_frames 0: the loaded model's own length
MIN_NATIVE_FRAMES = 5
MAX_STEPS = 10000
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
            "KSampler does (N candidates, the best kept by consistency score), trimmed, decoded and cut together. "
            "Long shots are chained segments with colour continuity.",
            inputs=[
                *wan_inputs("encodes references and start frames, decodes the shots"),
                Shots.Input("shots", optional=True, tooltip="The shot list; rendered in order."),
                ShotSocket.Input(
                    "shot", optional=True, tooltip="One shot (appended after the list when both are given)."
                ),
                seed_input("Base seed; a shot's own seed is added, and candidates use seed, seed + 1, …"),
                io.Int.Input(
                    "steps",
                    default=20,
                    min=1,
                    max=MAX_STEPS,
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
                length_input(
                    "native_frames",
                    MODELS_OWN_NATIVE_FRAMES,
                    "Longest clip the model samples at once; longer shots are chained. 0 takes the loaded model's "
                    f"own ({WAN_2_1.native_frames} for Wan 2.1 / A14B, {WAN_2_2_5B.native_frames} for TI2V-5B).",
                    minimum=MODELS_OWN_NATIVE_FRAMES,
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
                io.Combo.Input(
                    "search",
                    options=list(SEARCH_CHOICES),
                    default=DEFAULT_SEARCH,
                    optional=True,
                    extra_dict={"presets": SEARCH_PRESETS},  # for web/js/search_presets.js's load-time migration
                    tooltip="With several candidates, judge them early and stop the weak. careful ("
                    f"{SEARCH_PRESETS['careful']}) keeps the best 2 after 20 % of the steps and the best 1 after "
                    f"40 %; fast ({SEARCH_PRESETS['fast']}) keeps the best 1 after 15 %; off renders every "
                    "candidate to the end; custom uses search_custom.",
                ),
                io.String.Input(
                    "select",
                    default="",
                    optional=True,
                    tooltip="Render only some shots and candidates, e.g. 'shot=3;candidate=1' (from 1); each gets "
                    "the seeds and frames of a full run. Empty renders everything.",
                ),
                PerformanceType.Input(
                    "performance",
                    optional=True,
                    tooltip="HuMo, Wan Animate and Wan S2V: the voice and driving clip every shot's character "
                    "performs to (Shot Performance), read from each shot's first frame.",
                ),
                io.String.Input(
                    "search_custom",
                    default=SEARCH_PRESETS[DEFAULT_SEARCH],
                    optional=True,
                    tooltip="The schedule when search is custom: 'keep@fraction' checks joined by '>', e.g. "
                    "'3@0.1>1@0.3' keeps the best 3 after 10 % of the steps and the best 1 after 30 %.",
                ),
                io.String.Input(
                    "takes",
                    default="",
                    optional=True,
                    tooltip="Chosen takes for the cut, e.g. 'shot=2:seed=24' renders shot 2 as a run with seed 24 "
                    "did (':candidate=1' keeps one candidate); entries joined by commas. The storyboard's Use this "
                    "take fills it. Shots rendered before in this ComfyUI process are reused, not rendered again.",
                ),
                io.Model.Input(
                    "low_noise_model",
                    optional=True,
                    tooltip="Wan 2.2 A14B's low-noise expert (model is then the high-noise one): the high-noise "
                    "expert samples the first steps, this one the rest, as ComfyUI's two-KSamplerAdvanced template.",
                ),
                io.Int.Input(
                    "switch_step",
                    default=AUTO_SWITCH,
                    min=0,
                    max=MAX_STEPS,
                    optional=True,
                    tooltip="With low_noise_model: the step the low-noise expert starts at. 0 uses Wan 2.2's rule, "
                    f"the first step whose timestep is below the expert boundary × 1000 ({boundaries_in_words()}).",
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
        search_custom: str = "",
        takes: str = "",
        steps: int | None = None,
        switch_step: int = AUTO_SWITCH,
    ) -> bool | str:
        """Checked before the prompt runs; the inputs are named so ComfyUI still checks all the others.

        A linked input is None here (its value comes later); execute checks it then.
        """
        if candidates is not None and not 1 <= candidates <= MAX_CANDIDATES:
            return f"candidates is {candidates}; use 1 to {MAX_CANDIDATES}."
        # ComfyUI leaves the range check of an input named here to this method
        if steps is not None and not 1 <= steps <= MAX_STEPS:
            return f"steps is {steps}; use 1 to {MAX_STEPS}."
        if steps is not None and switch_step is not None and switch_step_problem(switch_step, steps):
            return switch_step_problem(switch_step, steps)
        problem = names_problem(search=search, select=select, search_custom=search_custom, takes=takes)
        if problem:
            return problem
        try:
            if search is not None and search_custom is not None:
                require_schedule_candidates(parse_search_choice(search, search_custom), candidates)
            if select is not None:
                parse_selection(select)
            if takes is not None:
                parse_takes(takes)
        except (ValueError, SelectionError) as error:
            return str(error)
        if native_frames is None or overlap_frames is None or native_frames == MODELS_OWN_NATIVE_FRAMES:
            return True  # with the model's own length, overlap_frames is checked against it when the model is known
        if not MIN_NATIVE_FRAMES <= native_frames <= MAX_FRAMES:
            return (
                f"native_frames is {native_frames}; use {MODELS_OWN_NATIVE_FRAMES} (the loaded model's own) or "
                f"{MIN_NATIVE_FRAMES} to {MAX_FRAMES}."
            )
        try:
            require_native_frames(native_frames, WanShapeError)
        except WanShapeError as error:
            return str(error)
        return overlap_problem(overlap_frames, native_frames, "overlap_frames") or True

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
        search_custom="",
        takes="",
        low_noise_model=None,
        switch_step=AUTO_SWITCH,
        performance=None,
    ) -> io.NodeOutput:
        rules = loaded_rules(model, vae)
        asked = shot_list(shots, shot)
        shots = shots_for_model(asked, rules, ValueError)
        native_frames = native_frames or rules.native_frames
        problem = overlap_problem(overlap_frames, native_frames, "overlap_frames")
        if problem:
            raise ValueError(problem)
        settings = SamplerSettings(sampler_name, scheduler, steps, cfg, denoise)
        experts = shot_experts(model, low_noise_model, settings, switch_step)
        schedule = parse_search_choice(search, search_custom)
        require_schedule_candidates(schedule, candidates)
        selection = parse_selection(select)
        chosen_takes = parse_takes(takes)
        require_one_rate(
            (candidate.fps for candidate in shots),
            "the shots",
            "give every shot the same fps, or use one sampler per rate",
        )
        sizes = sorted({candidate.size for candidate in shots})
        if len(sizes) > 1:
            raise ValueError(
                f"the shots have different frame sizes {sizes} (width, height); one cut needs one size: "
                "give every shot the same resolution and aspect, or use one sampler per size."
            )
        schedule, search_note = (schedule if candidates > 1 else None), None  # one candidate: nothing to judge
        if schedule is not None and not early_decoding_available(model):
            schedule = None
            search_note = "this model's latents have no preview decoder; every candidate ran to the end"
        progress = LiveProgress(
            steps_per_shot(shots, candidates, steps, native_frames, overlap_frames, selection, schedule, chosen_takes)
        )
        models = ShotModels(model, vae, clip, world, clip_vision, family, rules, experts, performance)
        pipeline = make_pipeline(
            models,
            settings,
            reference_attention,
            native_frames,
            overlap_frames,
            progress,
            schedule,
        )
        pipeline.live = progress.live
        reuse = shot_reuse(models, settings, reference_attention, read=bool(chosen_takes.by_shot))
        results = render_shot_list(pipeline, shots, seed, candidates, selection, chosen_takes, reuse)
        for result in results:
            index = result.report["shot"]
            result.report["timing"] = timing_report(asked[index], shots[index], rules)
        frames, boundaries = join_shots(results)
        fps = shots[0].fps
        video = InputImpl.VideoFromComponents(Types.VideoComponents(images=frames, frame_rate=Fraction(fps)))
        report = {
            **report_header(model_name(model), None if low_noise_model is None else model_name(low_noise_model)),
            "seed": seed,
            "candidates": candidates,
            "sampler": settings.__dict__,
            **({"experts": experts.switch.report()} if experts.low is not None else {}),
            "fps": fps,
            "search": str(schedule) if schedule is not None else "off",
            "select": selection.to_text(),
            "takes": chosen_takes.to_text(),
            **({"search_note": search_note} if search_note else {}),
            "reference_attention": reference_attention,
            "model_rules": rules.name,
            "native_frames": native_frames,
            "overlap_frames": overlap_frames,
            "boundaries": boundaries,
            "shots": [result.report for result in results],
        }
        text = json.dumps(report)
        shown = {**preview_video(video), **storyboard_ui(frames, report, text, world)}
        return io.NodeOutput(frames, json.dumps(boundaries), video, text, ui=shown)


NODES: list[type[io.ComfyNode]] = [WorldKitWorldShotSampler]
