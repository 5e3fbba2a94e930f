"""WorldKit/References nodes: named references, their encodings, worlds, and the world library."""

from . import entities, library

NODES = [*entities.NODES, *library.NODES]
