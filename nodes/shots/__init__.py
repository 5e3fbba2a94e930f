"""WorldKit/Shots nodes: shots in film language, shot lists, coverage, and binding a shot to a world."""

from . import bind, shot

NODES = [*shot.NODES, *bind.NODES]
