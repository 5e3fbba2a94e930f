"""WorldKit: world-consistent video for ComfyUI (references, shots, motion, sampling, GVFX)."""

import logging

from .compatibility import installed_comfyui, refusal

WEB_DIRECTORY = "./web"

_REFUSAL = refusal(installed_comfyui())
if _REFUSAL:
    # An empty node map makes ComfyUI skip comfy_entrypoint (whose imports need the newer ComfyUI) quietly.
    logging.getLogger(__name__).error(_REFUSAL)
    NODE_CLASS_MAPPINGS: dict = {}


async def comfy_entrypoint():
    """ComfyUI's V3 entry point.

    ComfyUI modules are imported here rather than at package import, so the package also loads
    outside ComfyUI (the headless runner, the core tests). The demos' input files are placed here too,
    once ComfyUI's folders are set, demos whose ComfyUI nodes did not load (torchaudio missing) are named,
    and what saves killed in earlier runs left in the output folder is removed.
    """
    from pathlib import Path

    import folder_paths

    from .models.shared.files import remove_temporaries_under
    from .nodes import WorldKitExtension
    from .nodes.runtime.demo_inputs import place_in_input_folder
    from .nodes.runtime.host_packages import warn_about_missing_packages

    place_in_input_folder()
    warn_about_missing_packages()
    remove_temporaries_under(Path(folder_paths.get_output_directory()))

    return WorldKitExtension()
