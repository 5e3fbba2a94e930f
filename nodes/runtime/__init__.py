"""ComfyUI-side helpers that are not nodes: KSampler-equivalent shot sampling and the attention patch."""
