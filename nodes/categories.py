"""The menu categories of WorldKit's node families."""

REFERENCES = "WorldKit/References"
SHOTS = "WorldKit/Shots"
MOTION = "WorldKit/Motion"
SAMPLING = "WorldKit/Sampling"
GVFX = "WorldKit/GVFX"
