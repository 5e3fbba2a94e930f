"""One street dancer from one picture: she performs a driving clip (Wan Animate, animation), then takes a
passer-by's place in a moving street plate (Wan Animate, replacement), grounded and composited with the GVFX kit."""

from __future__ import annotations

from dataclasses import replace

from ....demo_inputs import demo_input_name
from ....headless.catalog import ANIMATE_14B, ANIMATE_14B_FP8, ANIMATE_RELIGHT_LORA
from ..catalog import Diffusion, Loaders, load_models, loader
from ..clips import WALK_FRAMES
from ..graph import Node, Output
from ..inputs import PREFIX
from ..variants import FilmGraph
from .common import Entity, bind_and_sample, cast, render_world, save_frames, shot, show_text
from .compositing import Plate, at_plate_size, grade_and_grain, ground_and_composite

NAME = "street_performer"
SUMMARY = "a drawn dancer dances, then takes a passer-by's place in a moving plate"
# The full film loads the bf16 file ComfyUI's Animate template links; the fast one the fp8 file the template loads.
ANIMATE_FILES = {"full": ANIMATE_14B, "fast": ANIMATE_14B_FP8}
# Wan Animate is a Wan 2.2 model already: a Wan 2.2 variant would be the full or the fast one again.
WITHOUT_VARIANTS = ("wan22", "wan22 5B")
PERFORMER = Entity(
    "performer",
    "character",
    "performer",
    "a street dancer in a yellow raincoat, a red beanie and dark trousers",
    masked=True,
    image_title="Load the performer's picture",
)


def load_animate(graph: FilmGraph) -> Loaders:
    """The variant's Animate file (with its step distillation in the fast variant) and the relighting LoRA
    ComfyUI's Animate template applies, so a character put into a plate takes the plate's light."""
    models = load_models(graph, diffusion=ANIMATE_FILES[graph.variant.name], extra=(ANIMATE_RELIGHT_LORA,))
    relit = loader(
        graph,
        "LoraLoaderModelOnly",
        ANIMATE_RELIGHT_LORA,
        title="Relight the character to the scene",
        model=models.model.out("MODEL"),
        lora_name=ANIMATE_RELIGHT_LORA.name,
        strength_model=1.0,
    )
    return replace(models, model=Diffusion(relit, models.model.file))


def footage(graph: FilmGraph, clip: str, title: str) -> Output:
    """One of the film's clips on Load Video, as IMAGE frames (what a pose, face or matting node hands on)."""
    video = graph.node("LoadVideo", title=title, file=demo_input_name(f"{PREFIX}{clip}.mp4"))
    return graph.node("GetVideoComponents", video=video.out("VIDEO")).out("images")


def plate_footage(graph: FilmGraph, clip: str, title: str, method: str = "area") -> Node:
    """A clip of the plate at the frame size, its frames the shot covers (a longer plate of your own is cut)."""
    scaled = at_plate_size(graph, footage(graph, clip, title), method)
    return graph.node("ImageFromBatch", image=scaled.out("IMAGE"), batch_index=0, length=WALK_FRAMES)


def dance(graph: FilmGraph, models: Loaders, the_world: Node) -> None:
    """Animation: the performer dances the driving clip's 10 s in her own scene, one shot in chunks."""
    graph.group(
        "3 · The dance (Wan Animate, animation)",
        note="The driving clip's pose frames and face crops (here drawn by code; use any pose and face nodes on "
        "your own footage) drive the performer. 10 s is longer than one pass: World Shot Sampler renders it in "
        "chunks, each continuing the last one's frames.",
        note_title="Animation",
    )
    pose = at_plate_size(graph, footage(graph, "dance_pose", "Load the dance's pose frames"), "area")
    face = footage(graph, "dance_face", "Load the dance's face crops")
    performance = graph.node(
        "WorldKitShotPerformance", title="The dance", pose_video=pose.out("IMAGE"), face_video=face
    )
    dancing = shot(
        graph,
        "the dance",
        "the performer dances on a rainy street corner at night, neon light on the wet asphalt",
        {"performer": "subject"},
        the_world,
        shot_size="full",
        lighting="night",
        mood="joyful",
        seconds=10,
        seed=1,
    )
    rendered = render_world(
        graph, models, the_world, "Render the dance", seed=1, single=dancing, performance=performance
    )
    save_frames(graph, rendered.out("frames"), f"{NAME}_dance")
    show_text(graph, rendered.out("report"), "The dance's report")


def take_the_place(graph: FilmGraph, models: Loaders, the_world: Node) -> None:
    """Replacement: the performer walks in the passer-by's place in the moving plate; the render is then matted,
    matched and composited over the plate like any generated element."""
    graph.group(
        "4 · In the street (Wan Animate, replacement)",
        note="The plate, the passer-by's matte (from any matting or segmentation node) and pose: Wan Animate puts "
        "the performer where the passer-by was. The render then goes through the GVFX kit over the same plate.",
        note_title="Replacement",
    )
    plate = plate_footage(graph, "nyc_street_walker_moving", "Load the street plate")
    pose = plate_footage(graph, "nyc_street_walker_pose", "Load the passer-by's pose frames")
    roto = plate_footage(graph, "nyc_street_walker_matte", "Load the passer-by's matte", "bilinear")
    rough = graph.node("ImageToMask", image=roto.out("IMAGE"), channel="red")
    solid = graph.node("ThresholdMask", mask=rough.out("MASK"), value=0.5)
    matte = graph.node("GrowMask", title="A margin round the passer-by", mask=solid.out("MASK"), expand=6)
    performance = graph.node(
        "WorldKitShotPerformance",
        title="The passer-by's place",
        pose_video=pose.out("IMAGE"),
        background_video=plate.out("IMAGE"),
        character_mask=matte.out("MASK"),
    )
    walking = shot(
        graph,
        "in the street",
        "the performer walks along a New York sidewalk in daylight",
        {"performer": "subject"},
        the_world,
        shot_size="wide",
        lighting="day",
        seed=2,
    )
    frames = bind_and_sample(
        graph,
        models,
        models.model,
        the_world,
        walking,
        seed=2,
        title="Bind the replacement shot",
        family="animate",
        performance=performance.out("performance"),
    )
    graph.group("5 · Ground and composite (GVFX)")
    street = Plate(None, plate)
    refined = graph.node(
        "WorldKitMatteRefine", title="Matte on the render", image=frames.out("IMAGE"), mask=matte.out("MASK")
    )
    grained = grade_and_grain(graph, refined.out("foreground"), refined.out("matte"), street, strength=0.6)
    ground_and_composite(
        graph,
        "The performer over the street",
        street,
        grained.out("image"),
        refined.out("matte"),
        prefix=f"{NAME}_street",
        alpha_title="The performer with alpha",
        alpha_prefix=f"{NAME}_performer_alpha",
        distance=0.3,
        softness=10.0,
        opacity=0.5,
    )


def build(graph: FilmGraph) -> None:
    models = load_animate(graph)
    graph.group("2 · The performer, from one picture")
    _, the_world = cast(graph, models, [PERFORMER])
    dance(graph, models, the_world)
    take_the_place(graph, models, the_world)
