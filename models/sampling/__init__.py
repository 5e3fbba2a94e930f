"""Sampling a world: shot lists, long shots, colour continuity, reference attention, scoring and cuts."""
