"""The six demo shorts, one module each, and the workflows built from them: each film in every variant."""

from collections.abc import Callable

from ..variants import VARIANTS, FilmGraph, Variant
from . import lonely_little_flame, monkey_music_video, new_york_animals, street_performer, the_herd, wooden_toy_nyc

MODULES = (lonely_little_flame, wooden_toy_nyc, the_herd, new_york_animals, monkey_music_video, street_performer)
FILMS: dict[str, Callable[[FilmGraph], None]] = {module.NAME: module.build for module in MODULES}
# What each film is, in a line: the template browser shows a custom pack's file name as title and description,
# so the thumbnail carries it.
SUMMARIES: dict[str, str] = {module.NAME: module.SUMMARY for module in MODULES}
# Workflow file name (without .json) -> (film, variant): `the_herd` is the full variant, `the_herd_fast` the fast.
WORKFLOWS: dict[str, tuple[str, Variant]] = {
    film + variant.suffix: (film, variant) for film in FILMS for variant in VARIANTS
}
