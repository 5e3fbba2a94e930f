"""Generative-VFX compositing engine: mattes, colour/grain/defocus match, light wrap, shadows, placement and over.

Frames are IMAGE tensors [frames, height, width, 3] float 0..1 (8-bit ones are scaled) and MASK tensors
[frames, height, width] (clamped to 0..1). Every operation checks every input on every call (checks.py), and follows
one frame-count rule: each batch has the clip's N frames or a single frame, which stands for every frame, and the
result has N frames. Work streams through the clip in chunks of frames, the frames of a chunk spread over the CPU
cores; spatial and colour kernels run through OpenCV per frame (on CPU it is several times faster than the same
kernels in torch), the rest is torch and numpy on the same frame.
"""
