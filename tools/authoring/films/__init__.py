"""The five demo shorts, one module each; `FILMS` maps a workflow's file name to the function that builds it."""

from collections.abc import Callable

from ..graph import UIGraph
from . import lonely_little_flame, monkey_music_video, new_york_animals, the_herd, wooden_toy_nyc

FILMS: dict[str, Callable[[UIGraph], None]] = {
    module.NAME: module.build
    for module in (lonely_little_flame, wooden_toy_nyc, the_herd, new_york_animals, monkey_music_video)
}
