"""WorldKit/Shots nodes: shots in film language, shot lists, coverage, and binding a shot to a world."""

from . import bind, performance, shot

NODES = [*shot.NODES, *bind.NODES, *performance.NODES]
