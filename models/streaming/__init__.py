"""Lazy clips streamed from decoder to encoder: a chain of compositing steps recorded, then run in one pass.

A `Clip` is frames not yet computed: a batch in memory, a video file, or an engine step over other clips (with
the neighbouring frames it looks at). Nothing is decoded until a sink pulls frames: `run_pass` then walks the
clip in small blocks, each source decoded once (in its own thread) however many steps read it, each step keeping
only the frames its readers may still ask for, and the writers fed in another thread as blocks finish.
"""
