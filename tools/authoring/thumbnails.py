"""Template-browser thumbnails: `workflows/<name>.jpg`, drawn from the pictures the workflow itself loads.

The first full-frame picture (a location) fills the frame; the cut-outs (pictures with alpha) stand on it
side by side; a band names the film, its variant and the models it loads, and says in a line what the film is
(ComfyUI's template browser shows a custom pack's template by its file name alone). Same inputs, same picture.
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, ImageOps

from ...demo_inputs import SOURCE_DIR, SUBFOLDER
from ...headless.catalog import CATALOG, ModelFile
from .films import SUMMARIES
from .variants import Variant

SIZE = (512, 288)
BAND = 66
JPEG_QUALITY = 85


def loaded_pictures(workflow: dict, inputs_dir: Path = SOURCE_DIR) -> list[Image.Image]:
    """The demo pictures the workflow's Load Image nodes name, once each, in node order."""
    names = []
    for node in workflow.get("nodes", []):
        value = (node.get("widgets_values") or [None])[0]
        if node.get("type") == "LoadImage" and isinstance(value, str) and value not in names:
            names.append(value)
    prefix = f"{SUBFOLDER}/"
    return [Image.open(inputs_dir / name.removeprefix(prefix)) for name in names if name.startswith(prefix)]


def _has_alpha(picture: Image.Image) -> bool:
    return "A" in picture.getbands() and picture.getchannel("A").getextrema()[0] < 255


def render(workflow: dict, caption: str, inputs_dir: Path = SOURCE_DIR) -> Image.Image:
    pictures = loaded_pictures(workflow, inputs_dir)
    plates = [p for p in pictures if not _has_alpha(p)]
    cutouts = [p for p in pictures if _has_alpha(p)]
    frame = Image.new("RGB", SIZE, (24, 24, 28))
    if plates:
        frame.paste(ImageOps.fit(plates[0].convert("RGB"), SIZE, Image.Resampling.LANCZOS))
    height = SIZE[1] - BAND - 16
    slot = SIZE[0] // max(1, len(cutouts))
    for index, cutout in enumerate(cutouts):
        box = cutout.getchannel("A").getbbox() or (0, 0, *cutout.size)
        figure = ImageOps.contain(cutout.crop(box).convert("RGBA"), (slot - 12, height), Image.Resampling.LANCZOS)
        x = index * slot + (slot - figure.width) // 2
        frame.paste(figure, (x, SIZE[1] - BAND - figure.height - 8), figure)
    draw = ImageDraw.Draw(frame)
    draw.rectangle((0, SIZE[1] - BAND, SIZE[0], SIZE[1]), fill=(16, 16, 20))
    title, summary = caption.split("\n")
    draw.text((14, SIZE[1] - BAND + 8), title, fill=(240, 236, 228), font=ImageFont.load_default(size=20))
    draw.text((14, SIZE[1] - BAND + 36), summary, fill=(200, 196, 188), font=ImageFont.load_default(size=15))
    return frame


def jpeg_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue()


def loaded_models(workflow: dict) -> list[ModelFile]:
    """The diffusion models the workflow's UNETLoader nodes load, once each, in node order."""
    names = []
    for node in workflow.get("nodes", []):
        value = (node.get("widgets_values") or [None])[0]
        if node.get("type") == "UNETLoader" and value in CATALOG and value not in names:
            names.append(value)
    return [CATALOG[name] for name in names]


def caption(film: str, variant: Variant, workflow: dict) -> str:
    """Film, variant and the models the workflow really loads (not what the variant's name suggests); then, on a
    second line, what the film is."""
    names = (model.title.split(",")[0].removeprefix("Wan 2.1 ") for model in loaded_models(workflow))
    models = " + ".join(dict.fromkeys(names))  # a Wan 2.2 A14B pair's two experts are one model
    return f"{film.replace('_', ' ')}  ·  {variant.name} {variant.label}  ·  {models}\n{SUMMARIES[film]}"
