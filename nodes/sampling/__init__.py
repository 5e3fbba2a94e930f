"""WorldKit/Sampling nodes: rendering shot lists, scoring candidates, cutting, and carrying frames between runs."""

from . import cut, scoring, shot_frames, shot_sampler, timeline

NODES = [*shot_sampler.NODES, *scoring.NODES, *cut.NODES, *shot_frames.NODES, *timeline.NODES]
