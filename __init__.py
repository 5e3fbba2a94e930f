"""WorldKit: world-consistent video for ComfyUI (references, shots, motion, sampling, GVFX)."""

WEB_DIRECTORY = "./web"


async def comfy_entrypoint():
    """ComfyUI's V3 entry point.

    ComfyUI modules are imported here rather than at package import, so the package also loads
    outside ComfyUI (the headless runner, the core tests).
    """
    from .nodes import WorldKitExtension

    return WorldKitExtension()
