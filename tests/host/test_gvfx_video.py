"""GVFX on VIDEO in real ComfyUI graphs: core Load Video -> GVFX nodes -> core Save Video and Save With Alpha,
equal to the same nodes fed IMAGE batches; and masks meaning what core's alpha nodes mean with the switch set."""

from __future__ import annotations

import io

import av
import numpy as np
from graphs import composite_centred, matte_refine
from PIL import Image
from safetensors.torch import load_file

from worldkit.tools.prompt_graph import Graph, out

SIZE = 64
FRAMES = 10


def video_bytes(element: bool) -> bytes:
    """A moving plate (a panned gradient with grain) or a red disc crossing a green screen, as lossless FFV1."""
    rng = np.random.default_rng(int(element))
    ys, xs = np.mgrid[0:SIZE, 0:SIZE] / SIZE
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="matroska") as container:
        stream = container.add_stream("ffv1", rate=24)
        stream.width, stream.height, stream.pix_fmt = SIZE, SIZE, "bgr0"
        for index in range(FRAMES):
            if element:
                disc = ((xs * SIZE - 16 - 3 * index) ** 2 + (ys * SIZE - 32) ** 2 < 150)[..., None]
                pixels = np.where(disc, [0.8, 0.3, 0.25], [0.1, 0.8, 0.15])
            else:
                shift = (xs + index / FRAMES) % 1.0
                pixels = np.stack([0.3 + 0.4 * shift, 0.4 + 0.2 * ys, 0.6 - 0.3 * shift], -1)
                pixels = pixels + rng.normal(0, 0.03, pixels.shape)
            picture = (np.clip(pixels, 0, 1) * 255).round().astype(np.uint8)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")))
        container.mux(stream.encode())
    return buffer.getvalue()


def gvfx_chain(graph: Graph, plate: list, element: list) -> tuple[list, list, list]:
    """Key -> refine -> colour -> grain -> composite; returns (composite, matte, graded element) links."""
    key = graph.node(
        "WorldKitChromaKey", image=element, screen="green", balance=0.5, clip_black=0.1, clip_white=0.9, spill=1.0
    )
    refine = matte_refine(graph, out(key), out(key, 1), edge_radius=4, clip_black=0.02, clip_white=0.98, temporal=0.5)
    graded = graph.node(
        "WorldKitColorMatch",
        element=out(refine, 2),
        plate=plate,
        method="reinhard_lab",
        strength=1.0,
        element_mask=out(refine, 1),
    )
    grained = graph.node("WorldKitGrainMatch", element=out(graded), plate=plate, strength=1.0, seed=3)
    comp = composite_centred(graph, plate, out(grained), out(refine, 1))
    return out(comp), out(refine, 1), out(grained)


def test_load_video_through_gvfx_streams_to_save_video_and_equals_the_image_path(comfy):
    comfy.upload_image(video_bytes(element=False), "gvfx_plate.mkv")
    comfy.upload_image(video_bytes(element=True), "gvfx_element.mkv")
    graph = Graph()
    plate = graph.node("LoadVideo", file="gvfx_plate.mkv")
    element = graph.node("LoadVideo", file="gvfx_element.mkv")
    streamed, matte, grained = gvfx_chain(graph, out(plate), out(element))
    graph.node("SaveVideo", video=streamed, filename_prefix="gvfx_video/comp", format="auto", codec="auto")
    saved = graph.node(
        "WorldKitSaveWithAlpha",
        images=grained,
        alpha=matte,
        filename_prefix="gvfx_video/element",
        bit_depth="8",
        video="mov (ProRes 4444 with alpha, 10-bit)",
        fps=24.0,
        sequence="exr (half float, linear light)",
    )
    unpacked = graph.node("GetVideoComponents", video=streamed)
    graph.node("WorldKitTestSaveTensor", name="gvfx_video_streamed", images=out(unpacked))
    plate_images = graph.node("GetVideoComponents", video=out(plate))
    element_images = graph.node("GetVideoComponents", video=out(element))
    batch, _, _ = gvfx_chain(graph, out(plate_images), out(element_images))
    graph.node("WorldKitTestSaveTensor", name="gvfx_video_batch", images=batch)
    result = comfy.run(graph.prompt())

    streamed_frames = load_file(str(comfy.output_dir / "gvfx_video_streamed.safetensors"))["images"]
    batch_frames = load_file(str(comfy.output_dir / "gvfx_video_batch.safetensors"))["images"]
    assert streamed_frames.shape == batch_frames.shape == (FRAMES, SIZE, SIZE, 3)
    assert (streamed_frames - batch_frames).abs().max() == 0
    assert (streamed_frames[0] - streamed_frames[-1]).abs().max() > 0.05  # the frames move: order is checked

    videos = sorted((comfy.output_dir / "gvfx_video").glob("comp*.mp4"))
    assert len(videos) == 1
    with av.open(str(videos[0])) as container:
        decoded = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
    assert len(decoded) == FRAMES
    same, other = (np.abs(decoded[4] / 255.0 - streamed_frames[k].numpy()).mean() for k in (4, 0))
    assert same < 0.05 and same < other / 2  # H.264 (4:2:0) of the same frames, in order

    ui = result.outputs[saved]
    assert ui["animated"] == [True] and ui["images"][0]["filename"].endswith(".webp")
    assert len(ui["sequence"]) == FRAMES and ui["sequence"][0]["filename"].endswith(".exr")
    prores = comfy.output_dir / ui["video"][0]["subfolder"] / ui["video"][0]["filename"]
    with av.open(str(prores)) as container:
        assert container.streams.video[0].codec_context.name == "prores"
        assert sum(1 for _ in container.decode(video=0)) == FRAMES
    assert not list((comfy.output_dir / "gvfx_video").glob(".*tmp*"))  # no temporaries left behind


def rgba_png() -> bytes:
    """A red square with a soft alpha ramp left to right."""
    alpha = np.tile(np.linspace(0, 255, SIZE), (SIZE, 1))
    pixels = np.dstack([np.full((SIZE, SIZE), 200), np.full((SIZE, SIZE), 60), np.full((SIZE, SIZE), 40), alpha])
    buffer = io.BytesIO()
    Image.fromarray(pixels.round().astype(np.uint8), "RGBA").save(buffer, format="PNG")
    return buffer.getvalue()


def round_trip(comfy, meaning: str, name: str) -> np.ndarray:
    """Load Image (RGBA, its MASK = 1 - alpha) -> Composite Over a plate whose MASK is 1 (transparent in core's
    meaning), masks read in `meaning` -> Join Image with Alpha. Only the switch differs between runs."""
    graph = Graph()
    loaded = graph.node("LoadImage", image=comfy.upload_image(rgba_png(), "gvfx_rgba.png"))
    plate = graph.node("EmptyImage", width=SIZE, height=SIZE, batch_size=1, color=0x204060)
    transparent = graph.node("SolidMask", value=1.0, width=SIZE, height=SIZE)
    comp = composite_centred(graph, out(plate), out(loaded), out(loaded, 1), plate_mask=out(transparent), masks=meaning)
    joined = graph.node("JoinImageWithAlpha", image=out(comp), alpha=out(comp, 1))
    graph.node("WorldKitTestSaveTensor", name=name, images=out(joined))
    comfy.run(graph.prompt())
    return load_file(str(comfy.output_dir / f"{name}.safetensors"))["images"][0].numpy()


def test_core_alpha_masks_round_trip_through_composite_over_with_the_switch(comfy):
    original = np.tile(np.linspace(0, 1, SIZE), (SIZE, 1))
    core = round_trip(comfy, "core alpha mask (1 = transparent)", "gvfx_mask_core")
    assert core.shape == (SIZE, SIZE, 4)
    assert np.abs(core[..., 3] - original).max() < 1 / 255 + 1e-6
    solid = original > 0.5
    assert np.abs(core[..., :3][solid] - np.array([200, 60, 40]) / 255).max() < 0.02  # the element's own colour
    matte = round_trip(comfy, "matte (1 = solid)", "gvfx_mask_matte")  # the control: the same graph, switch off
    assert np.abs(matte[..., 3] - original).max() > 0.9


def streamed_key_into_grow_mask(comfy, unpack_first: bool):
    """Chroma Key's MASK into core Grow Mask, the key fed the element's VIDEO or (unpacked first) its frames."""
    comfy.upload_image(video_bytes(element=True), "gvfx_element.mkv")
    graph = Graph()
    element = out(graph.node("LoadVideo", file="gvfx_element.mkv"))
    if unpack_first:
        element = out(graph.node("GetVideoComponents", video=element))
    key = graph.node(
        "WorldKitChromaKey", image=element, screen="green", balance=0.5, clip_black=0.1, clip_white=0.9, spill=1.0
    )
    grown = graph.node("GrowMask", mask=out(key, 1), expand=1, tapered_corners=True)
    picture = graph.node("MaskToImage", mask=out(grown))
    graph.node("WorldKitTestSaveTensor", name="gvfx_grown_matte", images=out(picture))
    return graph, grown


def test_a_streamed_matte_handed_to_a_core_mask_node_says_what_to_do(comfy):
    graph, grown = streamed_key_into_grow_mask(comfy, unpack_first=False)
    error = comfy.run(graph.prompt(), expect_error=True).error
    assert error["node_id"] == grown and error["node_type"] == "GrowMask"
    assert "streamed matte" in error["exception_message"] and "Get Video Components" in error["exception_message"]
    graph, _ = streamed_key_into_grow_mask(comfy, unpack_first=True)  # the fix it names works
    comfy.run(graph.prompt())
    grown_matte = load_file(str(comfy.output_dir / "gvfx_grown_matte.safetensors"))["images"]
    assert grown_matte.shape == (FRAMES, SIZE, SIZE, 3) and 0 < float(grown_matte.mean()) < 1
