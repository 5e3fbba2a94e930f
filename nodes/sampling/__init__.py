"""WorldKit/Sampling nodes: rendering shot lists, scoring candidates, cutting, and carrying frames between runs."""

from . import cut, reference_attention, scoring, shot_frames, shot_sampler, timeline

NODES = [
    *shot_sampler.NODES,
    *reference_attention.NODES,
    *scoring.NODES,
    *cut.NODES,
    *shot_frames.NODES,
    *timeline.NODES,
]
