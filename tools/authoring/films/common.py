"""Building blocks the five films share: input images, references, worlds, shots, outputs."""

from __future__ import annotations

import json
from dataclasses import dataclass

from ....demo_inputs import demo_input_name
from ..catalog import Diffusion, Loaders
from ..graph import Node, Output
from ..inputs import PREFIX
from ..variants import FilmGraph

NEGATIVE = ""  # empty: the Shot node uses Wan's standard negative prompt


def load_image(graph: FilmGraph, picture: str, title: str | None = None) -> Node:
    """LoadImage of one of the pack's input pictures (the pack places them in ComfyUI's input/worldkit/)."""
    image = demo_input_name(f"{PREFIX}{picture}.png")
    return graph.node("LoadImage", title=title or f"Load {picture.replace('_', ' ')}", image=image)


def reference(graph: FilmGraph, image: Node, name: str, kind: str, description: str, masked: bool = False) -> Node:
    """A named entity; cut-out pictures hand LoadImage's MASK (1 = transparent) over inverted."""
    links = {"mask": image.out("MASK")} if masked else {}
    return graph.node(
        "WorldKitReference",
        title=f"Reference: {name}",
        image=image.out("IMAGE"),
        name=name,
        kind=kind,
        description=description,
        invert_mask=masked,
        **graph.variant.frame_size,
        fit="cover",
        **links,
    )


def world(graph: FilmGraph, references: list[Node], vae: Node, clip_vision: Node) -> Node:
    """Combine references and encode them once (VAE latents + CLIP-vision embeddings)."""
    links = {f"reference_{i}": ref.out("reference") for i, ref in enumerate(references, start=1)}
    combined = graph.node("WorldKitWorld", **links)
    encoded = graph.node(
        "WorldKitEncodeReferences",
        references=combined.out("world"),
        vae=vae.out("VAE"),
        clip_vision=clip_vision.out("CLIP_VISION"),
        **graph.variant.frame_size,
    )
    sheet = graph.node("WorldKitPreviewWorld", world=encoded.out("world"))
    graph.node("PreviewImage", title="World bible", images=sheet.out("contact_sheet"))
    return encoded


def shot_fps(graph: FilmGraph) -> int:
    """The rate the variant's shots are written and cut at: its world model's own (16 fps; 24 on TI2V-5B)."""
    return graph.variant.rules.fps


def shot_frames(graph: FilmGraph) -> int:
    """A 5 s shot's frames at the variant's rate: its world model's native length (81; 121 on TI2V-5B)."""
    return graph.variant.rules.native_frames


def framing(graph: FilmGraph) -> dict[str, int | str]:
    """The frame rate, resolution, aspect and size every shot and coverage of a variant is made at."""
    return {
        "fps": shot_fps(graph),
        "resolution": graph.variant.resolution,
        "aspect": "16:9",
        **graph.variant.frame_size,
    }


def sampling_inputs(graph: FilmGraph, model: Diffusion, seed: int) -> dict[str, int | float | str]:
    """Seed, steps, CFG, sampler and scheduler of the variant's sampling for this diffusion model."""
    sampling = graph.variant.sampling(model.file)
    return {
        "seed": seed,
        "steps": sampling.steps,
        "cfg": sampling.cfg,
        "sampler_name": sampling.sampler_name,
        "scheduler": sampling.scheduler,
    }


def shot(
    graph: FilmGraph,
    name: str,
    prompt: str,
    entities: dict[str, str],
    world_node: Node,
    *,
    shot_size: str = "medium",
    angle: str = "eye level",
    camera_move: str = "static",
    lens_mm: int = 35,
    lighting: str = "night",
    mood: str = "",
    seconds: int = 5,
    frames: int | None = None,
    seed: int = 0,
) -> Node:
    """A shot of 5 s or 10 s (or a count of `frames`) at the variant's rate and size, bound to named entities."""
    duration = {"duration": "frames", "frames": frames} if frames else {"duration": f"{seconds} s"}
    return graph.node(
        "WorldKitShot",
        title=f"Shot: {name}",
        prompt=prompt,
        entities="\n".join(f"{entity}: {role}" for entity, role in entities.items()),
        shot_size=shot_size,
        angle=angle,
        camera_move=camera_move,
        lens_mm=lens_mm,
        lighting=lighting,
        mood=mood,
        **duration,
        **framing(graph),
        seed=seed,
        negative_prompt=NEGATIVE,
        name=name,
        world=world_node.out("world"),
    )


def shot_list(graph: FilmGraph, shots: list[Node], extend: Output | None = None) -> Node:
    """The shots in order (after `extend`'s, when given), with the list's summary shown on the canvas."""
    links = {f"shot_{i}": s.out("shot") for i, s in enumerate(shots, start=1)}
    if extend is not None:
        links["shots"] = extend
    listed = graph.node("WorldKitShotList", **links)
    show_text(graph, listed.out("summary"), "Shot list")
    return listed


def show_text(graph: FilmGraph, text: Output, title: str) -> Node:
    """Reports and compiled prompts shown on the canvas (and kept in the run's history)."""
    return graph.node("PreviewAny", title=title, source=text)


def save_video(graph: FilmGraph, video: Output, prefix: str) -> Node:
    return graph.node(
        "SaveVideo",
        title=f"Save {prefix}",
        video=video,
        filename_prefix=f"worldkit/{prefix}",
        format="mp4",
        codec="h264",
    )


def save_cut_timeline(graph: FilmGraph, frames: Output, cut: Node, prefix: str, **links: Output) -> Node:
    """The cut handed to an editor: each shot's own file and an OpenTimelineIO timeline of them (FCP XML and
    EDL need a broadcast rate, which the films' 16 fps is not). `links`: the sampler's report, the track."""
    return graph.node(
        "WorldKitSaveCutTimeline",
        title="Hand the cut to the editor (OpenTimelineIO)",
        frames=frames,
        cut_list=cut.out("cut_list"),
        filename_prefix=f"worldkit/{prefix}_cut",
        fcp_xml=False,
        edl=False,
        **links,
    )


def save_frames(graph: FilmGraph, frames: Output, prefix: str) -> Node:
    video = graph.node("CreateVideo", images=frames, fps=float(shot_fps(graph)))
    return save_video(graph, video.out("VIDEO"), prefix)


def editor_state(tracks: list[dict]) -> str:
    """Trajectory Keypoints' saved drawing: normalised coordinates, frames timed from the path when None."""
    return json.dumps({"version": 1, "tracks": tracks}, indent=1)


def keypoints(graph: FilmGraph, title: str, tracks: list[dict], **links: Output) -> Node:
    """Trajectory Keypoints over the shot's frames at the variant's size, with the drawn tracks and no camera move."""
    return graph.node(
        "WorldKitTrajectoryKeypoints",
        title=title,
        editor_state=editor_state(tracks),
        **graph.variant.frame_size,
        num_frames=shot_frames(graph),
        fps=shot_fps(graph),
        camera_move="none",
        **links,
    )


def track(
    name: str,
    color: str,
    points: list[tuple[float, float]],
    subject: str = "point",
    count: int = 1,
    easing: str = "ease_in_out",
) -> dict:
    keypoints = [{"x": x, "y": y, "frame": None, "hold": 0, "easing": easing, "visible": True} for x, y in points]
    return {
        "name": name,
        "color": color,
        "subject": subject,
        "points": count,
        "spread": 0.025,
        "interpolation": "catmull_rom",
        "anchor": False,
        "keypoints": keypoints,
    }


def render_world(
    graph: FilmGraph,
    models: Loaders,
    world_node: Node,
    title: str,
    *,
    seed: int,
    shots: Node | None = None,
    single: Node | None = None,
    candidates: int = 1,
    reference_attention: float = 0.3,
    performance: Node | None = None,
) -> Node:
    """World Shot Sampler with the variant's sampling for the model and its share of the candidates;
    native-length segments overlapping 9; a Wan 2.2 A14B pair switches experts where ComfyUI's templates do; every
    shot performs `performance` (a Shot Performance) when given."""
    links = {"shots": shots.out("shots")} if shots is not None else {"shot": single.out("shot")}
    if models.model.low is not None:
        links |= {"low_noise_model": models.model.low.out("MODEL"), "switch_step": graph.variant.switch_step}
    if performance is not None:
        links["performance"] = performance.out("performance")
    return graph.node(
        "WorldKitWorldShotSampler",
        title=title,
        model=models.model.out("MODEL"),
        vae=models.vae.out("VAE"),
        clip=models.clip.out("CLIP"),
        world=world_node.out("world"),
        clip_vision=models.clip_vision.out("CLIP_VISION"),
        **sampling_inputs(graph, models.model, seed),
        candidates=graph.variant.candidates(candidates),
        reference_attention=reference_attention,
        native_frames=shot_frames(graph),
        overlap_frames=9,
        family="auto",
        **links,
    )


TRACK_INPUTS = ("track_json", "tracks")  # Bind Shot's inputs that only the track families (ATI, Wan-Move) read


def bind_and_sample(
    graph: FilmGraph,
    models: Loaders,
    model: Diffusion,
    world_node: Node,
    shot_node: Node,
    *,
    seed: int,
    title: str,
    family: str = "auto",
    **conditioning: Output,
) -> Node:
    """Bind Shot -> KSampler (a Wan 2.2 A14B pair: KSamplerAdvanced on each expert, as ComfyUI's templates) -> trim
    the binder's leading frames -> decode: one shot through ComfyUI's own sampler. A track family the model cannot
    run (a variant without a track model) binds as the model's own family, from the same start frame, tracks unused."""
    if family != "auto" and family != model.file.family:
        family = "auto"
        conditioning = {name: link for name, link in conditioning.items() if name not in TRACK_INPUTS}
    bound = graph.node(
        "WorldKitBindShot",
        title=title,
        model=model.out("MODEL"),
        vae=models.vae.out("VAE"),
        clip=models.clip.out("CLIP"),
        world=world_node.out("world"),
        shot=shot_node.out("shot"),
        family=family,
        location_as="auto",
        clip_vision=models.clip_vision.out("CLIP_VISION"),
        **conditioning,
    )
    prompts = {"positive": bound.out("positive"), "negative": bound.out("negative")}
    if model.low is None:
        sampled = graph.node(
            "KSampler",
            model=model.out("MODEL"),
            **prompts,
            latent_image=bound.out("latent"),
            **sampling_inputs(graph, model, seed),
            denoise=1.0,
        )
    else:
        sampled = sample_with_experts(graph, model, prompts, bound.out("latent"), seed)
    trimmed = graph.node("TrimVideoLatent", samples=sampled.out("LATENT"), trim_amount=bound.out("trim_latent"))
    return graph.node("VAEDecode", samples=trimmed.out("LATENT"), vae=models.vae.out("VAE"))


def sample_with_experts(graph: FilmGraph, model: Diffusion, prompts: dict[str, Output], latent: Output, seed: int):
    """ComfyUI's Wan 2.2 A14B template: the high-noise expert samples steps 0..switch and returns its leftover
    noise, the low-noise expert samples the rest without adding noise."""
    settings = sampling_inputs(graph, model, seed)
    settings["noise_seed"] = settings.pop("seed")
    switch = graph.variant.switch_step
    high = graph.node(
        "KSamplerAdvanced",
        title="High-noise expert",
        model=model.out("MODEL"),
        add_noise="enable",
        **settings,
        **prompts,
        latent_image=latent,
        start_at_step=0,
        end_at_step=switch,
        return_with_leftover_noise="enable",
    )
    return graph.node(
        "KSamplerAdvanced",
        title="Low-noise expert",
        model=model.low.out("MODEL"),
        add_noise="disable",
        **settings,
        **prompts,
        latent_image=high.out("LATENT"),
        start_at_step=switch,
        end_at_step=10000,
        return_with_leftover_noise="disable",
    )


@dataclass(frozen=True)
class Entity:
    """One world entity drawn from one of the pack's input pictures."""

    name: str
    kind: str
    picture: str
    description: str
    masked: bool = False
    image_title: str | None = None


def cast(graph: FilmGraph, models: Loaders, entities: list[Entity]) -> tuple[dict[str, Node], Node]:
    """Load each entity's picture, make its reference and encode them into one world; returns the loaders by name."""
    images = {e.name: load_image(graph, e.picture, title=e.image_title) for e in entities}
    references = [reference(graph, images[e.name], e.name, e.kind, e.description, masked=e.masked) for e in entities]
    return images, world(graph, references, models.vae, models.clip_vision)
