"""Bind a shot to a world: exactly the conditioning and latent the loaded Wan family understands.

`bind_shot` (bind.py) is the one entry point; each family's binder is a module of its own (vace,
phantom, image_to_video, t2v) registered in families.py, and context.py holds what they share.
"""

from .bind import LOCATION_MODES, BoundShot, bind_shot, shot_references
from .context import BindingError, BindInputs, BindOptions, TrackMaths, reference_latents
from .families import FAMILY_CHOICES, TRACKLESS_FAMILY_CHOICES, FamilyError, resolve_family, weight_kind

__all__ = [
    "FAMILY_CHOICES",
    "LOCATION_MODES",
    "TRACKLESS_FAMILY_CHOICES",
    "BindInputs",
    "BindOptions",
    "BindingError",
    "BoundShot",
    "FamilyError",
    "TrackMaths",
    "bind_shot",
    "reference_latents",
    "resolve_family",
    "shot_references",
    "weight_kind",
]
