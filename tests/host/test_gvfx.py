"""GVFX nodes in real ComfyUI graphs: the full chain runs and Save With Alpha writes the MASK as alpha."""

from __future__ import annotations

import io

import av
import cv2
import numpy as np
from graphs import composite_centred, matte_refine, straight_tracks
from PIL import Image
from safetensors.torch import load_file

from worldkit.tools.prompt_graph import Graph, out

SIZE = 64
FRAMES = 3


def plate_png() -> bytes:
    """A small noisy plate: a smooth gradient with grain, as a PNG."""
    rng = np.random.default_rng(0)
    ys, xs = np.mgrid[0:SIZE, 0:SIZE] / SIZE
    pixels = np.stack([0.3 + 0.4 * xs, 0.4 + 0.2 * ys, 0.6 - 0.3 * xs], -1) + rng.normal(0, 0.03, (SIZE, SIZE, 3))
    buffer = io.BytesIO()
    Image.fromarray((np.clip(pixels, 0, 1) * 255).round().astype(np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def element_graph(graph: Graph) -> tuple[str, str]:
    """A red element (3 frames) with a feathered rough mask; returns (element, rough mask) node ids."""
    element = graph.node("EmptyImage", width=SIZE, height=SIZE, batch_size=FRAMES, color=0xC04020)
    solid = graph.node("SolidMask", value=1.0, width=SIZE, height=SIZE)
    rough = graph.node("FeatherMask", mask=out(solid), left=16, top=16, right=16, bottom=16)
    return element, rough


def save_with_alpha(
    graph: Graph, images: list, alpha: list, name: str, bit_depth: str = "8", video: str = "none"
) -> str:
    return graph.node(
        "WorldKitSaveWithAlpha",
        images=images,
        alpha=alpha,
        filename_prefix=f"gvfx_test/{name}",
        bit_depth=bit_depth,
        video=video,
        fps=24.0,
    )


def srgb_to_linear(x: np.ndarray) -> np.ndarray:
    """IEC 61966-2-1, written out here so the check does not share the engine's code."""
    x = np.clip(x, 0.0, 1.0)
    return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return np.where(x <= 0.0031308, x * 12.92, 1.055 * x ** (1 / 2.4) - 0.055)


def assert_linear_light_over(comfy) -> None:
    """Composite Over's frames equal element * a + backdrop * (1 - a) in linear light on the very tensors it was
    given (the element is placed at the centre at scale 1, so it lands pixel for pixel), and differ from the
    backdrop where the matte holds the element (the control a bare plate would fail)."""
    element, backdrop, matte, composite = (
        load_file(str(comfy.output_dir / f"gvfx_over_{name}.safetensors"))["images"].double().numpy()
        for name in ("element", "backdrop", "matte", "composite")
    )
    alpha = matte[..., :1]
    expected = linear_to_srgb(srgb_to_linear(element) * alpha + srgb_to_linear(backdrop) * (1.0 - alpha))
    assert composite.shape == expected.shape
    assert np.abs(composite - expected).max() < 2e-3, np.abs(composite - expected).max()
    solid = alpha[..., 0] > 0.9
    assert solid.any() and np.abs(composite - backdrop)[solid].max() > 0.1, "the composite is the bare backdrop"


def read_png(comfy, result: dict) -> np.ndarray:
    """A PNG from the server as RGB(A), 8 or 16 bits as stored."""
    data = np.frombuffer(comfy.view(result["filename"], result["subfolder"], result["type"]), np.uint8)
    pixels = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    return cv2.cvtColor(pixels, cv2.COLOR_BGRA2RGBA if pixels.shape[-1] == 4 else cv2.COLOR_BGR2RGB)


def test_full_chain_runs_and_save_with_alpha_writes_the_mask(comfy):
    graph = Graph()
    plate = graph.node("LoadImage", image=comfy.upload_image(plate_png(), "gvfx_plate.png"))
    element, rough = element_graph(graph)
    refine = matte_refine(graph, out(element), out(rough), feather=1.0, temporal=0.5)
    matched = graph.node(
        "WorldKitColorMatch", element=out(refine), plate=out(plate), method="reinhard_lab", strength=0.5
    )
    wrapped = graph.node(
        "WorldKitLightWrap", element=out(matched), matte=out(refine, 1), plate=out(plate), radius=8.0, strength=0.6
    )
    grained = graph.node("WorldKitGrainMatch", element=out(wrapped), plate=out(plate), strength=1.0, seed=0)
    shadow = graph.node(
        "WorldKitContactShadow",
        plate=out(plate),
        matte=out(refine, 1),
        direction=120.0,
        distance=0.3,
        softness=4.0,
        opacity=0.5,
        ground_line=-1.0,
    )
    comp = composite_centred(graph, out(shadow), out(grained), out(refine, 1))
    saved = save_with_alpha(graph, out(grained), out(refine, 1), "element", video="mov (PNG codec, lossless)")
    mask_image = graph.node("MaskToImage", mask=out(refine, 1))
    mask_saved = graph.node("SaveImage", images=out(mask_image), filename_prefix="gvfx_test/matte")
    comp_saved = graph.node("SaveImage", images=out(comp), filename_prefix="gvfx_test/comp")
    probes = {"element": out(grained), "backdrop": out(shadow), "matte": out(mask_image), "composite": out(comp)}
    for name, source in probes.items():
        graph.node("WorldKitTestSaveTensor", name=f"gvfx_over_{name}", images=source)
    result = comfy.run(graph.prompt())
    assert_linear_light_over(comfy)

    assert {refine, matched, wrapped, grained, shadow, comp, saved} <= result.executed
    pngs = result.outputs[saved]["sequence"]
    masks = result.outputs[mask_saved]["images"]
    assert len(pngs) == len(masks) == FRAMES
    for png, mask in zip(pngs, masks, strict=True):
        rgba, matte = read_png(comfy, png), read_png(comfy, mask)
        assert rgba.shape == (SIZE, SIZE, 4) and (comfy.output_dir / png["subfolder"] / png["filename"]).is_file()
        # SaveImage truncates to 8 bits, Save With Alpha rounds: the two agree within one code value
        assert np.abs(rgba[..., 3].astype(int) - matte[..., 0].astype(int)).max() <= 1
        assert rgba[..., 3].max() == 255 and len(np.unique(rgba[..., 3])) > 5  # a soft matte, not a constant
    video = result.outputs[saved]["video"][0]
    with av.open(str(comfy.output_dir / video["subfolder"] / video["filename"])) as container:
        frames = [frame.to_ndarray(format="rgba") for frame in container.decode(video=0)]
    assert len(frames) == FRAMES
    assert np.array_equal(frames[0][..., 3], read_png(comfy, pngs[0])[..., 3])
    composite = read_png(comfy, result.outputs[comp_saved]["images"][0])
    assert composite.shape == (SIZE, SIZE, 3)
    assert composite[SIZE // 2, SIZE // 2, 0] > composite[SIZE // 2, SIZE // 2, 2]  # the red element sits in the middle


def test_track_attach_follows_comfyui_tracks_and_feeds_motion_blur(comfy):
    graph = Graph()
    plate = graph.node("EmptyImage", width=SIZE, height=SIZE, batch_size=FRAMES, color=0x305070)
    element, _ = element_graph(graph)
    small = graph.node(
        "ImageScale", image=out(element), upscale_method="nearest-exact", width=16, height=16, crop="disabled"
    )
    small_mask = graph.node("SolidMask", value=1.0, width=16, height=16)
    tracks = straight_tracks(graph, SIZE, FRAMES, (0.25, 0.5), (0.75, 0.5), count=3, spread=0.05)
    attach = graph.node(
        "WorldKitTrackAttach",
        plate=out(plate),
        element=out(small),
        element_mask=out(small_mask),
        follow="tracks",
        point_x=0.5,
        point_y=0.5,
        anchor_x=0.5,
        anchor_y=0.5,
        scale=1.0,
        rotation=0.0,
        tracks=out(tracks),
        track_point=-1,
    )
    blurred = graph.node(
        "WorldKitMotionBlur",
        element=out(attach),
        element_mask=out(attach, 1),
        motion_from="tracks",
        shutter=0.5,
        velocity_x=0.0,
        velocity_y=0.0,
        tracks=out(attach, 2),
    )
    saved = save_with_alpha(graph, out(blurred), out(blurred, 1), "tracked", bit_depth="16")
    result = comfy.run(graph.prompt())
    alphas = [read_png(comfy, png)[..., 3] for png in result.outputs[saved]["sequence"]]
    assert alphas[0].dtype == np.uint16 and len(alphas) == FRAMES
    centres = [np.average(np.arange(SIZE), weights=alpha.sum(axis=0)) for alpha in alphas]
    assert np.allclose(centres, [0.25 * SIZE, 0.5 * SIZE, 0.75 * SIZE], atol=1.5)


def test_mismatched_sizes_fail_with_a_clear_message(comfy):
    graph = Graph()
    element = graph.node("EmptyImage", width=SIZE, height=SIZE, batch_size=1, color=0)
    mask = graph.node("SolidMask", value=1.0, width=32, height=32)
    refined = matte_refine(graph, out(element), out(mask))
    save_with_alpha(graph, out(element), out(refined, 1), "bad")
    result = comfy.run(graph.prompt(), expect_error=True)
    assert result.error["node_type"] == "WorldKitMatteRefine"
    assert "mask is 32x32 but image is 64x64" in result.error["exception_message"]
