"""Builders for API-format graphs over the tiny models, shared by host tests."""

from __future__ import annotations

from pathlib import Path

import av
import opentimelineio as otio

from worldkit.headless.convert import widget_defaults as defaults_of
from worldkit.tools.prompt_graph import Graph, out
from worldkit.tools.tiny_wan import QUICK_SAMPLING


def load_clip_vision(graph: Graph, tiny_models: dict[str, str]) -> str:
    return graph.node("CLIPVisionLoader", clip_name=tiny_models["clip_vision"])


def reference_node(graph: Graph, image: str, name: str, kind: str, width: int, height: int, **widgets) -> str:
    """WorldKit's Reference node on a loaded image: no description or mask, a 10 % white margin and a cover fit,
    the subject kept as drawn, unless ``widgets`` say otherwise."""
    settings = dict(
        description="", invert_mask=False, margin=0.1, background="white", remove_background=False, fit="cover"
    )
    return graph.node(
        "WorldKitReference", image=out(image), name=name, kind=kind, width=width, height=height, **settings | widgets
    )


def composite_centred(graph: Graph, plate: list, element: list, mask: list, scale: float = 1.0, **inputs) -> str:
    """Composite Over with the element's centre on the plate's, at ``scale``, unrotated; ``inputs`` add the rest."""
    return graph.node(
        "WorldKitCompositeOver",
        plate=plate,
        element=element,
        element_mask=mask,
        x=0.5,
        y=0.5,
        anchor_x=0.5,
        anchor_y=0.5,
        scale=scale,
        scale_end=scale,
        rotation=0.0,
        rotation_end=0.0,
        **inputs,
    )


def matte_refine(graph: Graph, image: list, mask: list, **widgets) -> str:
    """Matte Refine with a small edge band, light clipping, no feather, no temporal smoothing and no despill;
    ``widgets`` override any of them."""
    settings = dict(
        edge_radius=8,
        edge_smoothness=1e-3,
        clip_black=0.05,
        clip_white=0.95,
        choke=0,
        feather=0.0,
        temporal=0.0,
        motion_threshold=0.1,
        despill="none",
        despill_strength=1.0,
    )
    return graph.node("WorldKitMatteRefine", image=image, mask=mask, **{**settings, **widgets})


def encode_prompts(
    graph: Graph, clip: str, positive: str = "a small skunk in a night forest", negative: str = "blurry"
) -> tuple[str, str]:
    pos = graph.node("CLIPTextEncode", text=positive, clip=out(clip))
    neg = graph.node("CLIPTextEncode", text=negative, clip=out(clip))
    return pos, neg


def wan_conditioning(
    graph: Graph, class_type: str, positive: str, negative: str, vae: str, size: dict, **inputs
) -> str:
    """One of ComfyUI's own Wan conditioning nodes (WanVaceToVideo, WanImageToVideo, ...) on encoded prompts."""
    return graph.node(class_type, positive=out(positive), negative=out(negative), vae=out(vae), **inputs, **size)


def straight_tracks(
    graph: Graph,
    size: int,
    frames: int,
    start: tuple[float, float],
    end: tuple[float, float],
    count: int = 1,
    spread: float = 0.025,
) -> str:
    """ComfyUI's GenerateTracks: ``count`` tracks ``spread`` apart along a line from ``start`` to ``end`` (shares
    of the square frame), linear in time."""
    return graph.node(
        "GenerateTracks",
        width=size,
        height=size,
        start_x=start[0],
        start_y=start[1],
        end_x=end[0],
        end_y=end[1],
        num_frames=frames,
        num_tracks=count,
        track_spread=spread,
        bezier=False,
        mid_x=0.5,
        mid_y=0.5,
        interpolation="linear",
    )


def ksampler(
    graph: Graph,
    model: list,
    positive: list,
    negative: list,
    latent: list,
    seed: int = 1,
    steps: int = 2,
    cfg: float = 1.0,
) -> str:
    return graph.node(
        "KSampler",
        model=model,
        seed=seed,
        steps=steps,
        cfg=cfg,
        **QUICK_SAMPLING,
        positive=positive,
        negative=negative,
        latent_image=latent,
    )


def saved_video(comfy, result) -> tuple[int, bool, tuple[int, int], float]:
    """(frame count, has audio, (width, height), frame rate) of the one video a graph saved."""
    saved = [entry for node_output in result.outputs.values() for entry in node_output.get("images", [])]
    assert len(saved) == 1, result.outputs
    path = comfy.output_dir / saved[0]["subfolder"] / saved[0]["filename"]
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        count = sum(1 for _ in container.decode(stream))
        return count, bool(container.streams.audio), (stream.width, stream.height), float(stream.average_rate)


def widget_defaults(object_info: dict, class_type: str) -> dict:
    """Every required widget of a node at its default, from /object_info."""
    return defaults_of(object_info[class_type])


def assert_server_runs(comfy) -> None:
    """The prompt worker is alive: a small graph queued after a bad one runs to the end."""
    graph = Graph()
    image = graph.node("EmptyImage", width=8, height=8, batch_size=1, color=0x406080)
    graph.node("WorldKitTestSaveTensor", name="still_alive", images=out(image))
    assert comfy.run(graph.prompt()).outputs, "the follow-up prompt produced no output"


def save_cut_timeline(graph: Graph, shots: str, cut: str, prefix: str, **inputs) -> str:
    """Save Cut Timeline after Assemble Cut ``cut`` of the frames ``shots``; FCP XML and EDL off unless asked."""
    settings = {"fcp_xml": False, "edl": False, **inputs}
    return graph.node(
        "WorldKitSaveCutTimeline", frames=out(shots), cut_list=out(cut, 1), filename_prefix=prefix, **settings
    )


def timeline_clips(path: Path, fps: float) -> tuple[otio.schema.Timeline, list[otio.schema.Clip]]:
    """A written cut timeline read back with OpenTimelineIO's adapters (an EDL holds no rate: ``fps`` is given)."""
    timeline = otio.adapters.read_from_file(str(path), **({"rate": fps} if path.suffix == ".edl" else {}))
    return timeline, [item for item in timeline.video_tracks()[0] if isinstance(item, otio.schema.Clip)]
