"""Turn photos into reference views: subjects cut to their mask and centred on a plain ground, locations resized
full-frame.

Subjects (characters, objects) follow the convention VACE and Phantom references use: the subject
alone, centred, on a plain (white by default) background at the working aspect. Locations and styles
are plates and keep the whole frame.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F

from ..shared.pixels import require_pixels
from .entities import ENTITY_KINDS, SUBJECT_KINDS, Reference

FIT_MODES = ("cover", "contain")
MASK_THRESHOLD = 0.5
BACKGROUNDS = {"white": (1.0, 1.0, 1.0), "grey": (0.5, 0.5, 0.5), "black": (0.0, 0.0, 0.0)}
PLACEHOLDER_MASK_SIZE = (64, 64)  # what ComfyUI's LoadImage returns for an image without alpha


@dataclass(frozen=True)
class PreprocessSettings:
    """How views are prepared. ``margin`` is a fraction of the subject box's longer side, on every side."""

    width: int = 1280
    height: int = 720
    margin: float = 0.1
    background: tuple[float, float, float] = BACKGROUNDS["white"]
    remove_background: bool = False
    fit: str = "cover"  # full-frame kinds only

    def __post_init__(self) -> None:
        if self.width < 1 or self.height < 1:
            raise ValueError(
                f"Working size {self.width}x{self.height} is empty; give a width and height of at least 1."
            )
        if not 0.0 <= self.margin <= 4.0:
            raise ValueError(f"margin {self.margin} is outside 0..4 (a fraction of the subject box's longer side).")
        if self.fit not in FIT_MODES:
            raise ValueError(f"fit '{self.fit}' is not one of {', '.join(FIT_MODES)}.")
        if len(self.background) != 3 or not all(0.0 <= c <= 1.0 for c in self.background):
            raise ValueError(f"background {self.background} must be three values in 0..1 (RGB).")

    def as_dict(self) -> dict:
        record = asdict(self)
        record["background"] = [float(c) for c in self.background]
        return record


@dataclass(frozen=True)
class Box:
    """A pixel rectangle [x0, x1) x [y0, y1); may reach outside the image."""

    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0


def split_alpha(images: torch.Tensor, masks: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor | None]:
    """RGB views and their masks: an explicit mask wins; otherwise a fourth (alpha) channel is the mask."""
    if images.ndim == 3:
        images = images.unsqueeze(0)
    if images.ndim != 4 or images.shape[-1] not in (3, 4):
        raise ValueError(f"Reference images must be [views, height, width, 3 or 4], got {list(images.shape)}.")
    rgb = images[..., :3].float()
    if masks is None and images.shape[-1] == 4:
        masks = images[..., 3]
    return rgb, masks


def conform_masks(masks: torch.Tensor | None, images: torch.Tensor) -> torch.Tensor | None:
    """Masks shaped [V, H, W] matching the views, or None.

    A single mask is shared by every view. LoadImage's 64x64 empty mask (an image without alpha)
    counts as no mask.
    """
    if masks is None:
        return None
    if masks.ndim == 2:
        masks = masks.unsqueeze(0)
    if masks.ndim != 3:
        raise ValueError(f"mask must be [views, height, width], got {list(masks.shape)}.")
    views, height, width = images.shape[:3]
    if (
        tuple(masks.shape[1:]) == PLACEHOLDER_MASK_SIZE
        and (height, width) != PLACEHOLDER_MASK_SIZE
        and not bool(masks.any())
    ):
        return None
    if tuple(masks.shape[1:]) != (height, width):
        raise ValueError(
            f"mask is {masks.shape[2]}x{masks.shape[1]} but the image is {width}x{height}; "
            "give a mask of the image's size (or disconnect it)."
        )
    if masks.shape[0] not in (1, views):
        raise ValueError(f"{masks.shape[0]} masks for {views} views; give one mask, or one per view.")
    if not torch.isfinite(masks).all() or not torch.isfinite(images).all():
        raise ValueError("The image or mask holds NaN or infinite values; check the node that made it.")
    return masks.float().clamp(0.0, 1.0).expand(views, -1, -1)


def mask_box(mask: torch.Tensor) -> Box | None:
    """The tight pixel box around mask values above the threshold, or None for an empty mask."""
    solid = mask > MASK_THRESHOLD
    rows = torch.nonzero(solid.any(dim=1)).flatten()
    cols = torch.nonzero(solid.any(dim=0)).flatten()
    if rows.numel() == 0:
        return None
    return Box(int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1)


def framed_box(box: Box, margin: float, aspect: float) -> Box:
    """``box`` grown by the margin, then widened or heightened to ``aspect`` about the same centre."""
    pad = margin * max(box.width, box.height)
    width = box.width + 2 * pad
    height = box.height + 2 * pad
    if width / height < aspect:
        width = height * aspect
    else:
        height = width / aspect
    centre_x = (box.x0 + box.x1) / 2
    centre_y = (box.y0 + box.y1) / 2
    x0 = math.floor(centre_x - width / 2 + 0.5)
    y0 = math.floor(centre_y - height / 2 + 0.5)
    return Box(x0, y0, x0 + max(1, round(width)), y0 + max(1, round(height)))


def crop_padded(planes: torch.Tensor, box: Box, fill: torch.Tensor) -> torch.Tensor:
    """Crop [C, H, W] planes to ``box``; where the box leaves the image, use ``fill`` (one value per plane)."""
    _, height, width = planes.shape
    if box.x0 >= 0 and box.y0 >= 0 and box.x1 <= width and box.y1 <= height:
        return planes[:, box.y0 : box.y1, box.x0 : box.x1]
    canvas = fill.view(-1, 1, 1).to(planes).expand(-1, box.height, box.width).clone()
    src_x0, src_y0 = max(0, box.x0), max(0, box.y0)
    src_x1, src_y1 = min(width, box.x1), min(height, box.y1)
    if src_x1 > src_x0 and src_y1 > src_y0:
        canvas[:, src_y0 - box.y0 : src_y1 - box.y0, src_x0 - box.x0 : src_x1 - box.x0] = planes[
            :, src_y0:src_y1, src_x0:src_x1
        ]
    return canvas


def resize_planes(planes: torch.Tensor, width: int, height: int, antialias: bool) -> torch.Tensor:
    """Bilinear resize of [N, C, H, W] planes (no-op at the same size)."""
    if tuple(planes.shape[-2:]) == (height, width):
        return planes
    return F.interpolate(planes, size=(height, width), mode="bilinear", align_corners=False, antialias=antialias)


def composite_on_background(
    rgb: torch.Tensor, mask: torch.Tensor, background: tuple[float, float, float]
) -> torch.Tensor:
    """[H, W, 3] view with everything outside the (soft) mask replaced by the background colour."""
    ground = torch.tensor(background, dtype=rgb.dtype, device=rgb.device)
    alpha = mask.unsqueeze(-1).to(rgb)
    return rgb * alpha + ground * (1.0 - alpha)


def frame_subject(
    rgb: torch.Tensor, mask: torch.Tensor | None, settings: PreprocessSettings
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """One subject view [H, W, 3]: crop to the mask's box with margin, centred at the working aspect, resized."""
    height, width = rgb.shape[:2]
    box = Box(0, 0, width, height) if mask is None else mask_box(mask)
    if box is None:
        raise ValueError(
            "The subject mask is empty (nothing above 0.5). Paint the subject in the mask, "
            "turn on invert_mask if the mask marks the background, or disconnect the mask."
        )
    if mask is not None and settings.remove_background:
        rgb = composite_on_background(rgb, mask, settings.background)
    frame = framed_box(box, settings.margin if mask is not None else 0.0, settings.width / settings.height)
    ground = torch.tensor(settings.background, dtype=rgb.dtype)
    planes = rgb.permute(2, 0, 1)
    fill = ground
    if mask is not None:
        planes = torch.cat([planes, mask.unsqueeze(0).to(rgb)])
        fill = torch.cat([ground, torch.zeros(1, dtype=rgb.dtype)])
    cropped = crop_padded(planes, frame, fill)
    resized = resize_planes(cropped.unsqueeze(0), settings.width, settings.height, antialias=True)[0].clamp(0.0, 1.0)
    view = resized[:3].permute(1, 2, 0)
    return view, (resized[3] if mask is not None else None)


def cover_box(width: int, height: int, target_width: int, target_height: int) -> Box:
    """The centred crop of a width x height image that has the target's aspect (ComfyUI's "center" crop)."""
    old_aspect = width / height
    new_aspect = target_width / target_height
    x = y = 0
    if old_aspect > new_aspect:
        x = round((width - width * (new_aspect / old_aspect)) / 2)
    elif old_aspect < new_aspect:
        y = round((height - height * (old_aspect / new_aspect)) / 2)
    return Box(x, y, width - x, height - y)


def contain_box(width: int, height: int, target_width: int, target_height: int) -> Box:
    """The centred window around a width x height image that has the target's aspect (letterbox or pillarbox)."""
    new_aspect = target_width / target_height
    if width / height < new_aspect:
        full = round(height * new_aspect)
        x = -((full - width) // 2)
        return Box(x, 0, x + full, height)
    full = round(width / new_aspect)
    y = -((full - height) // 2)
    return Box(0, y, width, y + full)


def fit_frames(
    images: torch.Tensor,
    width: int,
    height: int,
    fit: str,
    background: tuple[float, float, float] = BACKGROUNDS["white"],
    antialias: bool = False,
) -> torch.Tensor:
    """Resize [N, H, W, C] frames to width x height by cover (centre crop) or contain (pad with background).

    With ``antialias`` off, cover gives the same pixels as ComfyUI's
    ``common_upscale(..., "bilinear", "center")``, which its Wan nodes apply to reference images.
    """
    if fit not in FIT_MODES:
        raise ValueError(f"fit '{fit}' is not one of {', '.join(FIT_MODES)}.")
    source_height, source_width = images.shape[1:3]
    choose_box = cover_box if fit == "cover" else contain_box
    box = choose_box(source_width, source_height, width, height)
    if box.x1 - box.x0 < 1 or box.y1 - box.y0 < 1:
        raise ValueError(
            f"a {source_width}x{source_height} image is too far from the {width}x{height} frame's shape to {fit} it; "
            "crop the image nearer the frame's aspect first, or use fit 'contain'."
        )
    fill = torch.tensor(background, dtype=images.dtype, device=images.device)
    if images.shape[-1] > 3:
        fill = torch.cat([fill, torch.zeros(images.shape[-1] - 3, dtype=images.dtype, device=images.device)])
    planes = images.permute(0, 3, 1, 2)
    cropped = torch.stack([crop_padded(p, box, fill) for p in planes])
    return resize_planes(cropped, width, height, antialias).permute(0, 2, 3, 1)


def frame_plate(
    rgb: torch.Tensor, mask: torch.Tensor | None, settings: PreprocessSettings
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """One full-frame view [H, W, 3] (location or style) resized by cover or contain."""
    planes = rgb if mask is None else torch.cat([rgb, mask.unsqueeze(-1).to(rgb)], dim=-1)
    fitted = fit_frames(
        planes.unsqueeze(0), settings.width, settings.height, settings.fit, settings.background, antialias=True
    )[0].clamp(0.0, 1.0)
    return fitted[..., :3], (fitted[..., 3] if mask is not None else None)


def preprocess_views(
    images: torch.Tensor, masks: torch.Tensor | None, kind: str, settings: PreprocessSettings
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Views [V, h, w, 3] and masks [V, h, w] (or None) at the working size, prepared for the entity's kind."""
    if kind not in ENTITY_KINDS:
        raise ValueError(f"kind '{kind}' is not one of {', '.join(ENTITY_KINDS)}.")
    rgb, masks = split_alpha(images, masks)
    masks = conform_masks(masks, rgb)
    frame = frame_subject if kind in SUBJECT_KINDS else frame_plate
    framed = [frame(rgb[i], None if masks is None else masks[i], settings) for i in range(rgb.shape[0])]
    views = torch.stack([view for view, _ in framed]).contiguous()
    out_masks = None if masks is None else torch.stack([mask for _, mask in framed]).contiguous()
    return views, out_masks


def tensor_digest(*tensors: torch.Tensor | None, extra: bytes = b"") -> str:
    """SHA-256 over tensors' shapes, dtypes and raw bytes (None hashes as a marker)."""
    digest = hashlib.sha256()
    for tensor in tensors:
        if tensor is None:
            digest.update(b"<none>")
            continue
        flat = tensor.detach().cpu().contiguous()
        digest.update(f"{flat.dtype}:{tuple(flat.shape)}".encode())
        digest.update(flat.view(torch.uint8).numpy() if flat.numel() else b"")
    digest.update(extra)
    return digest.hexdigest()


def build_reference(
    name: str,
    kind: str,
    description: str,
    images: torch.Tensor,
    masks: torch.Tensor | None = None,
    settings: PreprocessSettings | None = None,
) -> Reference:
    """A named reference from its source images (and optional masks, subject = 1)."""
    name = name.strip()
    if not name:
        raise ValueError("The reference needs a name (it is how shots refer to the entity).")
    settings = settings or PreprocessSettings()
    require_pixels(images, "image")
    if masks is not None:
        require_pixels(masks, "mask")
    views, view_masks = preprocess_views(images, masks, kind, settings)
    return Reference(
        name=name,
        kind=kind,
        description=description.strip(),
        views=views,
        masks=view_masks,
        source_hash=tensor_digest(images, masks),
        preprocess=settings.as_dict(),
    )
