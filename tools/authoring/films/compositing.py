"""The GVFX blocks the films share: a plate over the shot, keying, matching to the plate, grounding, saving."""

from __future__ import annotations

from dataclasses import dataclass

from ....demo_inputs import demo_input_name
from ..graph import Node, Output
from ..inputs import PREFIX
from ..variants import FilmGraph
from .common import save_frames, save_video, shot_fps, shot_frames


def at_plate_size(graph: FilmGraph, image: Output, method: str = "lanczos", title: str | None = None) -> Node:
    """ImageScale to the variant's frame size, centre-cropped, so scales and positions are shares of the plate."""
    return graph.node(
        "ImageScale",
        title=title,
        image=image,
        upscale_method=method,
        **graph.variant.frame_size,
        crop="center",
    )


@dataclass(frozen=True)
class Plate:
    """The background of a composite: a photo at frame size (`still`) repeated over the shot's frames, or a moving
    plate on Load Video (`kind` VIDEO: the GVFX chain over it streams, and runs at the plate's frame rate)."""

    still: Node | None
    frames: Node
    kind: str = "IMAGE"

    def out(self) -> Output:
        return self.frames.out(self.kind)

    def save(self, graph: FilmGraph, frames: Output, prefix: str) -> Node:
        """Save a composite over this plate as a video."""
        return save_video(graph, frames, prefix) if self.kind == "VIDEO" else save_frames(graph, frames, prefix)


def plate_over_shot(graph: FilmGraph, photo: Node) -> Plate:
    still = at_plate_size(graph, photo.out("IMAGE"))
    frames = graph.node(
        "RepeatImageBatch", title="Plate over the shot", image=still.out("IMAGE"), amount=shot_frames(graph)
    )
    return Plate(still, frames)


def moving_plate(graph: FilmGraph, clip: str, title: str) -> Plate:
    """One of the pack's moving plates (a clip filmed from a still, see tools/authoring/plates.py) on Load Video."""
    return Plate(None, graph.node("LoadVideo", title=title, file=demo_input_name(f"{PREFIX}{clip}.mp4")), "VIDEO")


def on_plate_clock(graph: FilmGraph, frames: Output, plate: Plate, title: str) -> Output:
    """A rendered element (frames at the shots' rate) as a VIDEO retimed to the moving plate's rate."""
    video = graph.node("CreateVideo", images=frames, fps=float(shot_fps(graph)))
    conformed = graph.node(
        "WorldKitConformFrameRate",
        title=title,
        element=video.out("VIDEO"),
        source_fps=0.0,
        target_fps=0.0,
        method="motion",
        plate=plate.out(),
    )
    return conformed.out("element")


def key_green_screen(graph: FilmGraph, frames: Output, **refine: float) -> Node:
    """Chroma key a green-screen render and refine its matte with green despill; outputs `image` and `matte`."""
    key = graph.node("WorldKitChromaKey", image=frames, screen="green")
    return graph.node("WorldKitMatteRefine", image=key.out("image"), mask=key.out("matte"), despill="green", **refine)


def track_attach(
    graph: FilmGraph,
    title: str,
    plate: Plate,
    element: Output,
    mask: Output,
    *,
    scale: float,
    anchor_y: float,
    **follow: float | str | Output,
) -> Node:
    """Track Attach with the element's bottom-centre anchor; `follow` says what it follows (a point or tracks)."""
    return graph.node(
        "WorldKitTrackAttach",
        title=title,
        plate=plate.out(),
        element=element,
        element_mask=mask,
        anchor_x=0.5,
        anchor_y=anchor_y,
        scale=scale,
        **follow,
    )


def color_match(
    graph: FilmGraph, element: Output, plate: Plate, mask: Output, strength: float, around_element: int = 0
) -> Node:
    return graph.node(
        "WorldKitColorMatch",
        element=element,
        plate=plate.out(),
        element_mask=mask,
        method="reinhard_lab",
        strength=strength,
        around_element=around_element,
    )


def grade_and_grain(graph: FilmGraph, element: Output, matte: Output, plate: Plate, strength: float) -> Node:
    """An element graded to the plate around its matte, then given the plate's grain."""
    graded = color_match(graph, element, plate, matte, strength, around_element=64)
    return graph.node("WorldKitGrainMatch", element=graded.out("image"), plate=plate.out(), strength=1.0, seed=0)


def match_color_and_grain(graph: FilmGraph, placed: Node, plate: Plate, strength: float) -> Node:
    """A placed element (Track Attach's) graded to the plate around it, then given the plate's grain."""
    return grade_and_grain(graph, placed.out("element"), placed.out("matte"), plate, strength)


def composite_over(graph: FilmGraph, title: str, plate: Output, element: Output, matte: Output) -> Node:
    return graph.node("WorldKitCompositeOver", title=title, plate=plate, element=element, element_mask=matte)


def save_with_alpha(graph: FilmGraph, title: str, images: Output, alpha: Output, prefix: str) -> Node:
    """The finished element as a PNG sequence with its matte as alpha, for another compositor."""
    return graph.node(
        "WorldKitSaveWithAlpha",
        title=title,
        images=images,
        alpha=alpha,
        filename_prefix=f"worldkit/{prefix}",
        video="none",
        fps=float(shot_fps(graph)),
    )


def ground_and_composite(
    graph: FilmGraph,
    title: str,
    plate: Plate,
    element: Output,
    matte: Output,
    *,
    prefix: str,
    alpha_title: str,
    alpha_prefix: str,
    **shadow: float,
) -> Node:
    """A contact shadow cast on the plate, the element over it; saves the composite and the element with alpha."""
    shadowed = graph.node("WorldKitContactShadow", plate=plate.out(), matte=matte, direction=120.0, **shadow)
    comp = composite_over(graph, title, shadowed.out("image"), element, matte)
    plate.save(graph, comp.out("image"), prefix)
    save_with_alpha(graph, alpha_title, element, matte, alpha_prefix)
    return comp
