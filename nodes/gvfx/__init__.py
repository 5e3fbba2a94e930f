"""WorldKit/GVFX nodes: generated elements composited over live-action plates."""

from . import matching, mattes, output, placement

NODES = [*mattes.NODES, *matching.NODES, *placement.NODES, *output.NODES]
