"""Places the demos' input files in ComfyUI's input folder when the pack loads (see demo_inputs.py)."""

from __future__ import annotations

import logging
from pathlib import Path

import folder_paths

from ...demo_inputs import place_demo_inputs


def place_in_input_folder() -> None:
    message = place_demo_inputs(Path(folder_paths.get_input_directory()))
    if message:
        logging.getLogger("worldkit").info(message)
