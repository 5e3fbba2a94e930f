"""WorldKit/GVFX nodes: generated elements composited over live-action plates."""

from . import matching, mattes, output, placement, shading, timing

NODES = [*mattes.NODES, *matching.NODES, *shading.NODES, *placement.NODES, *timing.NODES, *output.NODES]
