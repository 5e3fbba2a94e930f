"""The six demo shorts, one module each, and the workflows built from them: each film in every variant."""

from collections.abc import Callable

from ..variants import VARIANTS, FilmGraph, Variant
from . import lonely_little_flame, monkey_music_video, new_york_animals, street_performer, the_herd, wooden_toy_nyc

MODULES = (lonely_little_flame, wooden_toy_nyc, the_herd, new_york_animals, monkey_music_video, street_performer)
FILMS: dict[str, Callable[[FilmGraph], None]] = {module.NAME: module.build for module in MODULES}
# What each film is, in a line: the template browser shows a custom pack's file name as title and description,
# so the thumbnail carries it.
SUMMARIES: dict[str, str] = {module.NAME: module.SUMMARY for module in MODULES}
# Workflow file name (without .json) -> (film, variant): `the_herd` is the full variant, `the_herd_fast` the fast,
# `the_herd_wan22` and `the_herd_wan22_5b` the Wan 2.2 ones.
# A film leaves out the variants that would repeat another (WITHOUT_VARIANTS: their names).
WORKFLOWS: dict[str, tuple[str, Variant]] = {
    module.NAME + variant.suffix: (module.NAME, variant)
    for module in MODULES
    for variant in VARIANTS
    if variant.name not in getattr(module, "WITHOUT_VARIANTS", ())
}
