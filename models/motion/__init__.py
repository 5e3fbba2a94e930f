"""Motion: keypoint paths, track sets, track formats and their drawings."""
